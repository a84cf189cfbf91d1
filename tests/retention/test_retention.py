"""Retention: the daily job blanks message bodies older than RETENTION_DAYS_MESSAGES and deletes
document files older than RETENTION_DAYS_DOCUMENTS, keeping rows with a marker; anything of a case
still open, or a reply waiting in the outbox, is untouched; a file another kept document shares
stays on disk; `python -m bot retention --dry-run` only counts."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot import documents as store
from bot import retention
from bot.models import Case, Client, Conversation, Document, Job, Message, Outbox
from bot.settings import Settings
from tests.backoffice.support import EL_VALLE_NIT, NOW

ROOT = Path(__file__).resolve().parents[2]
PDF_A = b"%PDF-1.4\n% closed case letter\n%%EOF\n"
PDF_B = b"%PDF-1.4\n% open case letter\n%%EOF\n"
PDF_SHARED = b"%PDF-1.4\n% sent to both cases\n%%EOF\n"


def _world(session, documents_dir: Path, now: datetime = NOW) -> dict:
    """Two conversations of El Valle: one whose case is closed, one with a case still open; ages
    counted back from `now`."""
    client_id = session.scalars(select(Client.id).where(Client.nit == EL_VALLE_NIT)).one()
    ids = {}
    for key, address, status in (("closed", "+59170000001", "cerrado"), ("open", "cliente@empresa.bo", "en_proceso")):
        conversation = Conversation(channel="whatsapp" if "+" in address else "email", address=address,
                                    client_id=client_id, dialog="main", state="menu", data={}, mode="bot",
                                    created_at=now - timedelta(days=200), updated_at=now)
        session.add(conversation)
        session.flush()
        case = Case(tramite="A", status=status, current_role="ejecutivo", client_id=client_id,
                    conversation_id=conversation.id, opened_at=now - timedelta(days=120),
                    due_at=now - timedelta(days=119))
        session.add(case)
        session.flush()
        ids[key] = (conversation, case)

    def message(conversation, days, body, direction="in", case=None, status="received"):
        row = Message(conversation_id=conversation.id, case_id=case.id if case else None, direction=direction,
                      channel=conversation.channel, body=body, attachments=[], author="client",
                      status=status, error_code="", created_at=now - timedelta(days=days))
        session.add(row)
        session.flush()
        return row

    def document(msg, case, data, days):
        stored = store.store(documents_dir, data)
        doc = store.record(session, stored, filename="carta.pdf", now=now - timedelta(days=days),
                           case_id=case.id, message_id=msg.id)
        doc.text, doc.text_status = "Solicitamos el traslado de la línea 4412345", "text"  # read by bot/letters
        session.flush()
        return doc

    closed_conv, closed_case = ids["closed"]
    open_conv, open_case = ids["open"]
    old = message(closed_conv, 100, "mi NIT es 1020304021", case=closed_case)
    old_no_case = message(closed_conv, 95, "gracias")
    recent = message(closed_conv, 5, "hola de nuevo")
    waiting = message(closed_conv, 40, "respuesta aún por enviar", direction="out", status="pending")
    session.add(Outbox(message_id=waiting.id, channel="whatsapp", address=closed_conv.address, payload={},
                       status="pending", attempts=3, next_attempt_at=now, created_at=waiting.created_at))
    open_old = message(open_conv, 100, "carta adjunta", case=open_case)
    return {
        "messages": {"old": old.id, "old_no_case": old_no_case.id, "recent": recent.id, "waiting": waiting.id,
                     "open_old": open_old.id},
        "documents": {"closed": document(old, closed_case, PDF_A, 100).id,
                      "closed_shared": document(old, closed_case, PDF_SHARED, 100).id,
                      "closed_recent": document(recent, closed_case, PDF_B, 5).id,
                      "open": document(open_old, open_case, PDF_SHARED, 100).id},
        "closed_case": closed_case.id,
    }


def _settings(runtime, **overrides) -> Settings:
    return runtime.settings.model_copy(update={"retention_days_messages": 30, "retention_days_documents": 60,
                                               **overrides})


def test_the_daily_job_blanks_old_bodies_and_deletes_old_files_but_not_of_open_cases(runtime, clock, login):
    documents_dir = runtime.settings.documents_dir
    with runtime.sessions.begin() as session:
        world = _world(session, documents_dir)
    settings = _settings(runtime)
    # The real worker path: Bootstrap schedules the run at 03:30 La Paz (07:30 UTC) next day.
    with runtime.sessions.begin() as session:
        job_id = retention.schedule_next(session, settings=settings, now=clock.now())
        job = session.get(Job, job_id)
        assert job.dedupe_key == "retention:2026-11-29" and job.due_at.replace(tzinfo=None) == datetime(2026, 11, 29, 7, 30)
        assert retention.schedule_next(session, settings=settings, now=clock.now()) is None  # idempotent
    from bot.scheduler import Scheduler

    scheduler = Scheduler(runtime.sessions, clock=clock, handlers=retention.HANDLERS, runtime=settings)
    assert scheduler.run_due().done == 0  # not due yet
    clock.advance(hours=18)  # 2026-11-29 08:00 UTC
    assert scheduler.run_due().kinds == ["retention"]

    with runtime.sessions() as session:
        msgs = {k: session.get(Message, v) for k, v in world["messages"].items()}
        docs = {k: session.get(Document, v) for k, v in world["documents"].items()}
        jobs = {j.dedupe_key: j.status for j in session.scalars(select(Job))}
    assert msgs["old"].body == "" and msgs["old"].redacted_at is not None
    assert msgs["old"].author == "client" and msgs["old"].case_id == world["closed_case"]  # metadata kept
    assert msgs["old_no_case"].body == ""
    assert msgs["recent"].body == "hola de nuevo" and msgs["recent"].redacted_at is None
    assert msgs["waiting"].body == "respuesta aún por enviar"  # still to be delivered
    assert msgs["open_old"].body == "carta adjunta"  # its case is open
    assert docs["closed"].removed_at is not None and not (documents_dir / docs["closed"].path).exists()
    assert docs["closed"].text is None  # the letter's words go with its file
    # Marked, but the file stays: the open case's document is the same bytes.
    assert docs["closed_shared"].removed_at is not None and (documents_dir / docs["closed_shared"].path).exists()
    assert docs["closed_recent"].removed_at is None and (documents_dir / docs["closed_recent"].path).exists()
    assert docs["open"].removed_at is None
    assert docs["open"].text == "Solicitamos el traslado de la línea 4412345"
    assert jobs == {"retention:2026-11-29": "done", "retention:2026-11-30": "pending"}

    page = login("responsable").http.get(f"/backoffice/casos/{world['closed_case']}").text
    assert "documento eliminado por retención" in page and "Mensaje eliminado por retención" in page
    assert "mi NIT es 1020304021" not in page and "hola de nuevo" in page


def test_zero_days_keeps_everything(runtime, clock):
    with runtime.sessions.begin() as session:
        world = _world(session, runtime.settings.documents_dir)
    with runtime.sessions.begin() as session:
        report = retention.run(session, settings=_settings(runtime, retention_days_messages=0,
                                                           retention_days_documents=0), now=clock.now())
    assert (report.messages, report.documents, report.files) == (0, 0, 0)
    with runtime.sessions() as session:
        assert session.get(Message, world["messages"]["old"]).body == "mi NIT es 1020304021"


def test_cli_dry_run_counts_and_changes_nothing(runtime, clock):
    documents_dir = runtime.settings.documents_dir
    with runtime.sessions.begin() as session:
        world = _world(session, documents_dir, now=datetime.now(UTC))  # the CLI runs on the real clock
    env = {**os.environ, "DATABASE_URL": runtime.settings.database_url, "DOCUMENTS_DIR": str(documents_dir),
           "RETENTION_DAYS_MESSAGES": "30", "RETENTION_DAYS_DOCUMENTS": "60"}
    dry = subprocess.run([sys.executable, "-m", "bot", "retention", "--dry-run"], check=False, cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    # Messages: old, old_no_case (the pending reply and the open case's are kept; "recent" is 5
    # days old). Documents: the two of the closed case 100 days old; one file (shared kept).
    assert "cuerpos de mensajes de más de 30 días: 2" in dry.stdout
    assert "documentos de más de 60 días: 2 (1 archivos)" in dry.stdout
    with runtime.sessions() as session:
        assert session.get(Message, world["messages"]["old"]).body == "mi NIT es 1020304021"
        doc = session.get(Document, world["documents"]["closed"])
        assert doc.removed_at is None and (documents_dir / doc.path).exists()

    done = subprocess.run([sys.executable, "-m", "bot", "retention"], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Retención aplicada" in done.stdout
    with runtime.sessions() as session:
        assert session.get(Message, world["messages"]["old"]).body == ""
        assert not (documents_dir / session.get(Document, world["documents"]["closed"]).path).exists()
