"""export-client and purge-client: all of one client's data out, then gone; other clients intact."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import func, select

from bot.models import Case, Client, Contact, Conversation, Document, Message, Product
from tests.support import ROOT

IMPORTADORA_NIT = "1020304021"


def bot(*args, url, docs, stdin=""):
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": url, "DOCUMENTS_DIR": str(docs)})


def count(db, model, *where):
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_export_then_purge_one_client(demo, tmp_path, pdf):
    docs = tmp_path / "documents"
    script = ("quiero el detalle de llamadas de agosto de la línea 4412345\n"
              f"/adjuntar {pdf}\n")
    assert bot("chat", "--from", "+59170000001", "--today", "2026-11-28", url=demo.url, docs=docs,
               stdin=script).returncode == 0
    bot("chat", "--from", "+59171722002", "--today", "2026-11-28", url=demo.url, docs=docs, stdin="Hola\n")
    other_clients = count(demo, Client) - 1

    exported = bot("export-client", IMPORTADORA_NIT, "--to", str(tmp_path / "export"), url=demo.url, docs=docs)
    assert exported.returncode == 0, exported.stderr
    data = json.loads((tmp_path / "export" / f"cliente-{IMPORTADORA_NIT}.json").read_text(encoding="utf-8"))
    assert data["client"]["razon_social"] == "Importadora El Valle S.R.L."
    assert {p["contract"] for p in data["products"]} >= {"300101", "300102", "300103", "300104"}
    assert any("4412345" in m["body"] for m in data["messages"])
    assert len(data["cases"]) == 1 and len(data["documents"]) == 1
    copied = list((tmp_path / "export" / "documentos").iterdir())
    assert len(copied) == 1 and copied[0].read_bytes() == pdf.read_bytes()

    purged = bot("purge-client", IMPORTADORA_NIT, "--yes", url=demo.url, docs=docs)
    assert purged.returncode == 0, purged.stderr
    assert count(demo, Client, Client.nit == IMPORTADORA_NIT) == 0
    assert count(demo, Product, Product.contract == "300101") == 0
    assert count(demo, Contact, Contact.phone == "+59170000001") == 0
    assert count(demo, Case) == 0 and count(demo, Document) == 0
    assert count(demo, Conversation, Conversation.address == "+59170000001") == 0
    assert count(demo, Client) == other_clients  # nobody else touched
    assert count(demo, Conversation, Conversation.address == "+59171722002") == 1
    assert count(demo, Message) > 0
    assert not any(p.is_file() for p in docs.rglob("*"))  # the letter's file is gone too


def test_unknown_nit_is_an_error(db, tmp_path):
    result = bot("purge-client", "999", "--yes", url=db.url, docs=tmp_path)
    assert result.returncode == 1 and "999" in result.stderr
