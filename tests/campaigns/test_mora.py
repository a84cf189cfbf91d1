"""Mora (procedure I) end to end: the monthly run sends the proforma PDF by email (real SMTP
server) and the payment_reminder template by WhatsApp (fake Twilio); answers are recorded and
checked again a week later; opt-outs are respected; a failed run is retried without duplicates."""
from __future__ import annotations

import email
import io
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from bot import texts
from bot.campaigns import mora
from bot.clock import ManualClock
from bot.models import CampaignSend, Client, Invoice, Job, Outbox, Product
from bot.portfolio.records import DatabaseRecords
from bot.scheduler import Scheduler
from tests.whatsapp.conftest import TEMPLATES

IMPORTADORA_WA = "+59170000001"
IMPORTADORA_EMAIL = "gerencia@empresa.bo"  # the client's own address (clientes.csv)
CLINICA_WA = "+59170111004"
RUN = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)  # 09:00 in La Paz, MORA_RUN_DAY=5


def _jobs(app, kind):
    with app.runtime.sessions() as session:
        return list(session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))


def _sends(app, **where):
    with app.runtime.sessions() as session:
        query = select(CampaignSend).order_by(CampaignSend.id)
        for name, value in where.items():
            query = query.where(getattr(CampaignSend, name) == value)
        return list(session.scalars(query))


def _expected(app):
    """Clients with pending invoices: {whatsapp: total}, from the system of record itself."""
    with app.runtime.sessions() as session:
        records = DatabaseRecords(session)
        out = {}
        for client_id in session.scalars(select(Client.id)):
            client = records.client_by_id(client_id)
            pending = records.pending_invoices(client_id)
            if pending and client.whatsapp:
                out[client.whatsapp] = sum((i.amount for i in pending), start=Decimal(0))
        return out


def _reach_the_run(app):
    app.run_worker()  # the first pass schedules the coming run
    [job] = _jobs(app, mora.RUN_JOB)
    assert job.dedupe_key == "mora:2026-12" and job.due_at.replace(tzinfo=UTC) == RUN
    app.clock.advance(seconds=(RUN - app.clock.now()).total_seconds())
    app.run_worker()


def _whatsapp_to(app, number):
    return [r for r in app.twilio.sent() if r.value("To") == f"whatsapp:{number}"]


def test_the_monthly_run_emails_the_proforma_and_sends_the_whatsapp_template(campaigns):
    app = campaigns()
    expected = _expected(app)
    _reach_the_run(app)

    # WhatsApp: the approved payment_reminder template (no window open), one per client in mora.
    assert {r.value("To").removeprefix("whatsapp:") for r in app.twilio.sent()} == set(expected)
    [reminder] = _whatsapp_to(app, IMPORTADORA_WA)
    assert reminder.value("ContentSid") == TEMPLATES["payment_reminder"]
    assert texts.money(expected[IMPORTADORA_WA]) in reminder.value("ContentVariables")

    # Email: the proforma PDF attached, listing the client's pending invoices.
    [letter] = [r for r in app.smtp.received if IMPORTADORA_EMAIL in r.rcpt_tos]
    mime = email.message_from_bytes(letter.raw)
    assert "Factura proforma" in str(email.header.make_header(email.header.decode_header(mime["Subject"])))
    [pdf] = [part for part in mime.walk() if part.get_content_type() == "application/pdf"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_payload(decode=True))).pages)
    assert "Importadora El Valle" in text and "300104" in text

    # Recorded, and next month's run is scheduled once.
    sends = _sends(app, client_id=_client_id(app, IMPORTADORA_WA))
    assert {(s.channel, s.status, s.run) for s in sends} == {("email", "sent", "2026-12"), ("whatsapp", "sent", "2026-12")}
    assert [s.document_id is not None for s in sends if s.channel == "email"] == [True]
    [_, january] = _jobs(app, mora.RUN_JOB)
    assert january.dedupe_key == "mora:2027-01"
    assert january.due_at.replace(tzinfo=UTC) == datetime(2027, 1, 5, 13, 0, tzinfo=UTC)
    with app.runtime.sessions.begin() as session:
        assert mora.schedule_run(session, settings=app.runtime.settings, period="2027-01", now=RUN) is None


def _client_id(app, whatsapp):
    with app.runtime.sessions() as session:
        return session.scalar(select(Client.id).where(Client.whatsapp == whatsapp))


def test_an_opted_out_contact_gets_no_reminder(campaigns):
    app = campaigns()
    app.app.webhook("text", From=f"whatsapp:{CLINICA_WA}", WaId=CLINICA_WA.lstrip("+"), Body="STOP",
                    MessageSid="SM" + "7" * 32, SmsMessageSid="SM" + "7" * 32, SmsSid="SM" + "7" * 32)
    _reach_the_run(app)
    assert [r.value("Body") for r in _whatsapp_to(app, CLINICA_WA)][1:] == []  # only the STOP confirmation
    [row] = _sends(app, client_id=_client_id(app, CLINICA_WA), channel="whatsapp")
    assert row.status == "opted_out" and row.message_id is None
    assert _whatsapp_to(app, IMPORTADORA_WA)  # the others still get theirs


def _say(app, number, body, n):
    sid = f"SMcafe{n:028d}"  # the fake server numbers its own SIDs from SM000…1
    app.app.webhook("text", From=f"whatsapp:{number}", WaId=number.lstrip("+"), Body=body, MessageSid=sid,
                    SmsMessageSid=sid, SmsSid=sid)
    app.run_worker()
    return _last_text(app, number)


def _last_text(app, number):
    return [r.value("Body") for r in _whatsapp_to(app, number) if r.value("Body")][-1]


def test_a_promise_is_checked_a_week_later_and_reminded_while_still_pending(campaigns):
    app = campaigns()
    _reach_the_run(app)
    reply = _say(app, IMPORTADORA_WA, "Pagaremos el viernes sin falta", 1)
    assert "compromiso de pago" in reply
    [row] = _sends(app, client_id=_client_id(app, IMPORTADORA_WA), channel="whatsapp", run="2026-12")
    assert row.answer == "promise" and "viernes" in row.words
    [job] = _jobs(app, mora.FOLLOWUP_JOB)
    assert job.due_at.replace(tzinfo=UTC) == app.clock.now() + timedelta(days=7)

    before = len(app.twilio.sent())
    app.clock.advance(days=6, hours=23)
    app.run_worker()
    assert len(app.twilio.sent()) == before  # not yet
    app.clock.advance(hours=1)
    app.run_worker()
    [reminder] = app.twilio.sent()[before:]
    assert reminder.value("ContentSid") == TEMPLATES["payment_reminder"]  # the window closed meanwhile
    assert _sends(app, client_id=_client_id(app, IMPORTADORA_WA), channel="whatsapp", run="2026-12")[0].outcome \
        == "still_pending"


def test_ya_pague_is_verified_after_the_reimport_and_thanked(campaigns):
    app = campaigns()
    _reach_the_run(app)
    assert "Verificaremos el pago" in _say(app, IMPORTADORA_WA, "ya pagué ayer", 1)
    client_id = _client_id(app, IMPORTADORA_WA)
    # The week's re-import brings the invoices as paid.
    with app.runtime.sessions.begin() as session:
        session.execute(update(Invoice).where(Invoice.product_id.in_(
            select(Product.id).where(Product.client_id == client_id))).values(status="pagada"))
    app.clock.advance(days=6, hours=22)
    _say(app, IMPORTADORA_WA, "hola", 2)  # the client wrote again: the window is open
    app.clock.advance(hours=2)
    app.run_worker()
    assert "¡Gracias por su pago!" in _last_text(app, IMPORTADORA_WA)
    [row] = _sends(app, client_id=client_id, channel="whatsapp", run="2026-12")
    assert (row.answer, row.outcome) == ("paid", "paid")


def test_a_failed_run_is_retried_without_sending_twice(campaigns, tmp_path):
    blocked = tmp_path / "documents"  # the runtime's documents folder, taken by a file:
    blocked.write_text("x")  # the proforma cannot be stored, the run fails
    app = campaigns()
    _reach_the_run(app)
    # The run itself only splits the month into batches; the batch cannot store its proforma.
    assert [j.status for j in _jobs(app, mora.RUN_JOB)] == ["done", "pending"]
    [job] = _jobs(app, mora.BATCH_JOB)
    assert job.status == "pending" and job.attempts == 1 and job.last_error
    assert app.twilio.sent() == [] and app.smtp.received == [] and _sends(app) == []
    with app.runtime.sessions() as session:
        assert session.scalars(select(Outbox)).all() == []

    blocked.unlink()
    app.clock.advance(minutes=2)  # backoff after the first attempt: 1 minute
    app.run_worker()
    app.run_worker()
    assert [j.status for j in _jobs(app, mora.RUN_JOB)] == ["done", "pending"]
    assert [j.status for j in _jobs(app, mora.BATCH_JOB)] == ["done"]
    assert len(_whatsapp_to(app, IMPORTADORA_WA)) == 1
    assert len([r for r in app.smtp.received if IMPORTADORA_EMAIL in r.rcpt_tos]) == 1


def test_two_workers_run_the_mora_job_once(campaigns, db):
    if db.backend == "sqlite":
        pytest.skip("SQLite runs one worker (writers are serialised); the SKIP LOCKED path is PostgreSQL's")
    app = campaigns()
    with app.runtime.sessions.begin() as session:
        mora.schedule_run(session, settings=app.runtime.settings, period="2026-12", now=app.clock.now())
    clock = ManualClock(RUN)
    schedulers = [Scheduler(app.runtime.sessions, clock=clock, handlers=mora.HANDLERS, runtime=app.runtime.settings)
                  for _ in range(2)]
    done = []
    threads = [threading.Thread(target=lambda s=s: done.append(s.run_due().done)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(done) == 2  # the run and its one batch (15 demo clients, 25 per batch), each once
    sends = _sends(app, run="2026-12")
    assert len(sends) == len({(s.client_id, s.channel) for s in sends}) > 0
    with app.runtime.sessions() as session:
        assert len(session.scalars(select(Outbox)).all()) == len(sends)
