"""Inbound media: downloaded by the worker's job (basic auth, CDN redirect), sniffed, stored as a
case document; refusals and failures are answered politely and never lose the message's text."""
from __future__ import annotations

import base64
import hashlib

from sqlalchemy import select

from bot.models import Conversation, Document, Job

from tests.whatsapp.conftest import ACCOUNT_SID, AUTH_TOKEN, IMPORTADORA, load
from tests.whatsapp.fake_twilio import FakeTwilio

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

DOC_MM, DOC_ME = "MM2a1b3c4d5e6f708192a3b4c5d6e7f801", "ME5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a"
IMG_MM, IMG_ME = "MM3b2c4d5e6f708192a3b4c5d6e7f80912", "ME6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


def _documents(wa) -> list[Document]:
    with wa.runtime.sessions() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def _jobs(wa) -> list[Job]:
    with wa.runtime.sessions() as session:
        return list(session.scalars(select(Job).where(Job.kind == "whatsapp_media").order_by(Job.id)))


def test_pdf_is_downloaded_with_basic_auth_through_the_redirect_and_stored(wa):
    url = wa.twilio.add_media(DOC_ME, PDF, "application/pdf", message_sid=DOC_MM)
    assert url == dict(load("document_pdf"))["MediaUrl0"]
    wa.app.webhook("document_pdf")
    [job] = _jobs(wa)
    assert job.kind == "whatsapp_media" and job.status == "pending" and job.dedupe_key == f"media:{DOC_MM}"
    assert wa.twilio.gets() == []  # not downloaded inside the webhook

    wa.run_worker()

    [api, cdn] = wa.twilio.gets()
    assert api.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{DOC_MM}/Media/{DOC_ME}"
    assert api.headers["authorization"] == BASIC
    assert cdn.path == f"/cdn/{DOC_ME}"
    [document] = _documents(wa)
    incoming = wa.messages(direction="in")[0]  # then the letter's reading (bot/letters), unreadable
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert document.content_type == "application/pdf" and document.size == len(PDF)
    assert document.message_id == incoming.id and document.filename == "whatsapp-1.pdf"
    assert (wa.runtime.settings.documents_dir / document.path).read_bytes() == PDF
    assert _jobs(wa)[0].status == "done"
    [reply] = wa.replies()
    assert reply.startswith("Recibimos su documento")


def test_declared_type_is_not_trusted_a_gif_sent_as_jpeg_is_refused(wa):
    wa.twilio.add_media(IMG_ME, GIF, "image/jpeg", message_sid=IMG_MM)
    wa.app.webhook("image_caption", Body="")
    wa.run_worker()
    assert _documents(wa) == []
    [reply] = wa.replies()
    assert "solo aceptamos documentos PDF y fotos (JPG, PNG, HEIC o WebP)" in reply


def test_html_served_as_pdf_is_refused(wa):
    wa.twilio.add_media(DOC_ME, b"<html><body>login</body></html>", "application/pdf", message_sid=DOC_MM)
    wa.app.webhook("document_pdf")
    wa.run_worker()
    assert _documents(wa) == []
    assert "solo aceptamos" in wa.replies()[0]


def test_too_large_file_is_refused_saying_the_limit(wa):
    big = PDF + b"0" * (1024 * 1024)  # settings allow 1 MB in these tests
    wa.twilio.add_media(DOC_ME, big, "application/pdf", message_sid=DOC_MM)
    wa.app.webhook("document_pdf")
    wa.run_worker()
    assert _documents(wa) == []
    [reply] = wa.replies()
    assert "supera el tamaño máximo de 1 MB" in reply
    assert _jobs(wa)[0].status == "done"


def test_failed_download_is_retried_with_backoff_and_the_text_is_answered_at_once(wa):
    wa.twilio.add_media(IMG_ME, JPEG, "image/jpeg", message_sid=IMG_MM, fail_with=(500, 503))
    wa.app.webhook("image_caption", Body="Hola, necesito el detalle de llamadas")
    wa.run_worker()
    [first] = wa.replies()  # words that ask something are answered without waiting for the file
    assert [m.body for m in wa.messages(direction="in")] == ["Hola, necesito el detalle de llamadas"]
    [job] = _jobs(wa)
    assert job.status == "pending" and job.attempts == 1 and "HTTP 500" in job.last_error
    assert _documents(wa) == []

    wa.run_worker()  # not due yet: backoff
    assert len(wa.twilio.gets("/2010-04-01")) == 1
    wa.clock.advance(seconds=5)
    wa.run_worker()
    assert len(wa.twilio.gets("/2010-04-01")) == 2 and _jobs(wa)[0].attempts == 2
    wa.clock.advance(seconds=9)
    wa.run_worker()
    assert len(wa.twilio.gets("/2010-04-01")) == 2  # second backoff is 10 s
    wa.clock.advance(seconds=1)
    wa.run_worker()

    [document] = _documents(wa)
    assert document.content_type == "image/jpeg"
    assert _jobs(wa)[0].status == "done"
    assert wa.replies()[0] == first and wa.replies()[1].startswith("Recibimos su documento")


def test_media_that_is_gone_fails_at_once_and_the_client_is_told(wa):
    wa.app.webhook("image_caption")  # the fake has no such media: 404
    wa.run_worker()
    [job] = _jobs(wa)
    assert job.status == "failed" and job.attempts == 1 and "HTTP 404" in job.last_error
    # The caption asks nothing ("Adjunto la carta firmada"): it waited for the letter, so the
    # apology is the one answer, not the menu and then the apology.
    [body] = wa.replies()
    assert "no pudimos descargar el archivo" in body
    assert [m.body for m in wa.messages(direction="in")] == ["Adjunto la carta firmada"]


def test_after_the_last_attempt_the_job_fails_and_the_client_is_told(whatsapp_factory):
    wa = whatsapp_factory(whatsapp_media_max_attempts=2)
    wa.twilio.add_media(DOC_ME, PDF, "application/pdf", message_sid=DOC_MM, fail_with=(500, 500, 500))
    wa.app.webhook("document_pdf")
    wa.run_worker()
    assert wa.replies() == []
    wa.clock.advance(seconds=5)
    wa.run_worker()
    [job] = _jobs(wa)
    assert job.status == "failed" and job.attempts == 2 and job.finished_at is not None
    [reply] = wa.replies()
    assert "no pudimos descargar el archivo" in reply and "10 MB" not in reply and "1 MB" in reply


def test_media_url_outside_twilio_is_never_fetched(wa):
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as elsewhere:
        elsewhere.add_media(DOC_ME, PDF, "application/pdf", message_sid=DOC_MM)
        internal = f"{elsewhere.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{DOC_MM}/Media/{DOC_ME}"
        wa.app.webhook("document_pdf", MediaUrl0=internal)
        wa.run_worker()
        assert elsewhere.requests == []
    [job] = _jobs(wa)
    assert job.status == "failed" and "outside Twilio" in job.last_error
    assert "no pudimos descargar" in wa.replies()[0]


def test_redirect_outside_twilio_is_not_followed(wa):
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as elsewhere:
        elsewhere.add_media(DOC_ME, PDF, "application/pdf", message_sid=DOC_MM)
        wa.twilio.add_media(DOC_ME, PDF, "application/pdf", message_sid=DOC_MM,
                            redirect_to=f"{elsewhere.base_url}/cdn/{DOC_ME}")
        wa.app.webhook("document_pdf")
        wa.run_worker()
        assert elsewhere.requests == []
    assert len(wa.twilio.gets("/2010-04-01")) == 1
    assert _documents(wa) == [] and _jobs(wa)[0].status == "failed"


def test_retried_media_webhook_makes_one_job_and_one_document(wa):
    wa.twilio.add_media(DOC_ME, PDF, "application/pdf", message_sid=DOC_MM)
    wa.app.webhook("document_pdf")
    wa.app.webhook("document_pdf")
    assert len(_jobs(wa)) == 1
    wa.run_worker()
    assert len(_documents(wa)) == 1 and len(wa.replies()) == 1


def test_a_job_run_again_after_a_crash_changes_nothing(wa):
    wa.twilio.add_media(DOC_ME, PDF, "application/pdf", message_sid=DOC_MM)
    wa.app.webhook("document_pdf")
    wa.run_worker()
    # A worker that died after the engine's commit but before marking the job done:
    with wa.runtime.sessions.begin() as session:
        session.scalars(select(Job).where(Job.kind == "whatsapp_media")).one().status = "pending"
    wa.run_worker()
    assert len(wa.twilio.gets("/2010-04-01")) == 1  # its lease has not expired yet
    wa.clock.advance(minutes=5)
    wa.run_worker()
    assert len(wa.twilio.gets("/2010-04-01")) == 2
    assert len(_documents(wa)) == 1
    assert len(wa.replies()) == 1
    assert _jobs(wa)[0].status == "done"


def test_file_sent_during_a_tramite_is_kept_for_its_case(demo, wa):
    wa.app.webhook("text", Body="quiero el detalle de llamadas de la línea 4412345")
    wa.twilio.add_media(DOC_ME, PDF, "application/pdf", message_sid=DOC_MM)
    wa.app.webhook("document_pdf")
    wa.run_worker()
    [document] = _documents(wa)
    with wa.runtime.sessions() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.address == IMPORTADORA)).one()
    assert conversation.dialog != "main"
    assert conversation.data["document_ids"] == [document.id]
    assert wa.replies()[-1].startswith("Recibimos su documento; lo adjuntaremos a su solicitud")
