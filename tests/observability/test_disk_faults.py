"""Disk faults: the documents folder cannot be written (a regular file stands where the folder
should be: refused even to root, unlike chmod). The message's text is kept and answered at once,
the file is retried with backoff, staff see an open task in their queue (and a failure row); once
the folder is fixed the retry stores the file, tells the client and closes both."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from bot.attachments import ERROR_PREFIX
from bot.clock import ManualClock
from bot.models import Document, InboundFailure, Job, Message, StaffTask
from bot.app.wiring import build_runtime
from bot.settings import Settings
from channels.console import RecordingChannel
from channels.email.ingest import Ingestor
from bot.messaging import ChannelRegistry
from tests.whatsapp.test_media import IMG_ME, IMG_MM, JPEG

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _rows(runtime, model, *where):
    with runtime.sessions() as session:
        return list(session.scalars(select(model).where(*where).order_by(model.id)))


def _break(folder):
    folder.write_bytes(b"not a folder")  # mkdir/open under it fail with ENOTDIR, for root too


def _fix(folder):
    folder.unlink()
    folder.mkdir()


def test_whatsapp_media_job_retries_until_the_folder_is_writable(tmp_path, whatsapp_factory):
    _break(tmp_path / "documents")  # the folder whatsapp_factory configures
    wa = whatsapp_factory()
    wa.twilio.add_media(IMG_ME, JPEG, "image/jpeg", message_sid=IMG_MM)
    wa.app.webhook("image_caption")
    wa.run_worker()

    # The caption asks nothing ("Adjunto la carta firmada"): its answer waits for the letter, which
    # could not be written; staff are warned meanwhile.
    assert wa.replies() == []
    assert [m.body for m in wa.messages(direction="in")] == ["Adjunto la carta firmada"]
    [job] = _rows(wa.runtime, Job)
    assert job.status == "pending" and job.attempts == 1 and "NotADirectoryError" in job.last_error
    [failure] = _rows(wa.runtime, InboundFailure)
    assert failure.external_id == IMG_MM and failure.sender == "+59170000001"
    assert failure.error.startswith(ERROR_PREFIX) and failure.resolved_at is None
    [task] = _rows(wa.runtime, StaffTask)  # in the staff queue ("Conversaciones por atender")
    assert task.kind == "documento_pendiente" and task.status == "abierta" and task.note == "whatsapp-1.jpg"
    assert task.conversation_id == wa.messages(direction="in")[0].conversation_id
    assert _rows(wa.runtime, Document) == []

    wa.clock.advance(seconds=5)  # first backoff
    wa.run_worker()  # still broken: retried again, still one failure row
    assert _rows(wa.runtime, Job)[0].attempts == 2 and len(_rows(wa.runtime, InboundFailure)) == 1
    assert len(_rows(wa.runtime, StaffTask)) == 1  # one warning, not one per retry

    _fix(tmp_path / "documents")
    wa.clock.advance(seconds=10)
    wa.run_worker()
    [document] = _rows(wa.runtime, Document)
    assert document.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert (tmp_path / "documents" / document.path).read_bytes() == JPEG
    assert _rows(wa.runtime, Job)[0].status == "done"
    assert _rows(wa.runtime, InboundFailure)[0].resolved_at is not None
    assert _rows(wa.runtime, StaffTask)[0].status == "atendida"
    # Written at last: read as a letter (this photo is blank), so the client is asked for a clearer one.
    [answer] = wa.replies()
    assert "no logramos leer" in answer


@pytest.fixture
def email_bot(demo, tmp_path):
    clock = ManualClock(datetime(2026, 11, 28, 13, 0, tzinfo=UTC))
    settings = Settings(database_url=demo.url, documents_dir=tmp_path / "documents",
                        email_from="empresas@comteco.bo")
    channel = RecordingChannel("email")
    runtime = build_runtime(settings, clock=clock, channels=ChannelRegistry(channel))
    ingestor = Ingestor(sessions=runtime.sessions, engine=runtime.conversations, settings=settings, clock=clock)
    yield runtime, ingestor, channel, clock
    runtime.engine.dispose()


def _letter() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Gerencia <gerencia@empresa.bo>"
    mail["To"] = "empresas@comteco.bo"
    mail["Subject"] = "Detalle de llamadas"
    mail["Message-ID"] = "<carta-1@empresa.bo>"
    mail["Date"] = "Sat, 28 Nov 2026 09:00:00 -0400"
    mail.set_content("Buenos días, quiero el detalle de llamadas de agosto de la línea 4412345. Adjunto la carta.")
    mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="carta.pdf")
    return mail.as_bytes()


def test_email_text_is_answered_and_the_attachment_waits_for_the_disk(email_bot, tmp_path):
    runtime, ingestor, channel, clock = email_bot
    _break(tmp_path / "documents")
    result = ingestor.ingest(_letter())
    runtime.worker.run_once()

    assert not result.outcome.duplicate and result.outcome.replies  # the text went through the dialog
    [inbound] = _rows(runtime, Message, Message.direction == "in")
    assert "detalle de llamadas" in inbound.body and inbound.attachments[0]["filename"] == "carta.pdf"
    assert len(channel.sent) == 1  # answered at once
    [job] = _rows(runtime, Job, Job.kind == "attachment_retry")
    assert job.status == "pending" and job.payload["message_id"] == inbound.id
    [failure] = _rows(runtime, InboundFailure)
    assert failure.external_id == "<carta-1@empresa.bo>" and failure.sender == "gerencia@empresa.bo"
    assert "NotADirectoryError" in failure.error and failure.resolved_at is None
    [task] = _rows(runtime, StaffTask)
    assert (task.kind, task.status, task.note) == ("documento_pendiente", "abierta", "carta.pdf")
    assert task.conversation_id == inbound.conversation_id and task.client_id is not None
    assert _rows(runtime, Document) == []

    clock.advance(seconds=61)  # due (backoff of 1 minute), still broken
    runtime.worker.run_once()
    [job] = _rows(runtime, Job, Job.kind == "attachment_retry")
    assert job.status == "pending" and job.attempts == 1 and "NotADirectoryError" in job.last_error
    assert len(_rows(runtime, InboundFailure)) == 1 and len(_rows(runtime, StaffTask)) == 1

    _fix(tmp_path / "documents")
    clock.advance(minutes=2)  # second backoff: 2 minutes
    runtime.worker.run_once()
    [document] = _rows(runtime, Document)
    assert document.message_id == inbound.id and document.filename == "carta.pdf"
    assert (tmp_path / "documents" / document.path).read_bytes() == PDF
    assert _rows(runtime, Job, Job.kind == "attachment_retry")[0].status == "done"
    assert _rows(runtime, InboundFailure)[0].resolved_at is not None
    assert _rows(runtime, StaffTask)[0].status == "atendida"
    assert len(channel.sent) == 2  # the client hears the file arrived

    runtime.worker.run_once()  # nothing left: no duplicate document, no further reply
    assert len(_rows(runtime, Document)) == 1 and len(channel.sent) == 2
