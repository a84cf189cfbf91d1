"""Outbound email through the outbox to a real SMTP server (aiosmtpd): STARTTLS or implicit TLS
with AUTH, multipart text + HTML, threading headers, attachments, retries with backoff."""
from __future__ import annotations

from sqlalchemy import select

from bot import documents, outbox
from bot.models import Conversation, Message, Outbox
from tests.email.conftest import OUR_ADDRESS

CLIENT = "contabilidad@empresa.bo"


def enqueue(bot, body: str, *, address: str = CLIENT, author: str = "bot", payload: dict | None = None,
            case_id: int | None = None) -> int:
    now = bot.clock.now()
    with bot.session() as session, session.begin():
        conversation = session.scalars(select(Conversation).where(Conversation.address == address)).first()
        if conversation is None:
            conversation = Conversation(channel="email", address=address, dialog="main", state="menu", data={},
                                        mode="bot", created_at=now, updated_at=now)
            session.add(conversation)
            session.flush()
        message = outbox.enqueue(session, conversation=conversation, body=body, now=now, author=author,
                                 payload=payload, case_id=case_id)
        session.flush()
        return message.id


def test_starttls_auth_multipart_and_thread_headers(make_bot, smtp_server):
    bot = make_bot(None, smtp_server)
    enqueue(bot, "Hola <b>Ana</b> & equipo:\n\nSu caso avanza.\nGracias.",
            payload={"in_reply_to": "<abc@cliente.bo>", "references": ["<root@cliente.bo>", "<abc@cliente.bo>"],
                     "subject": "Consulta de facturas"})
    report = bot.runtime.deliverer.deliver_due()
    assert report.sent == 1
    received = smtp_server.received[0]
    email = received.message
    assert received.rcpt_tos == [CLIENT] and received.mail_from == OUR_ADDRESS
    assert email["Subject"] == "Re: Consulta de facturas"
    assert email["In-Reply-To"].strip() == "<abc@cliente.bo>"
    assert email["References"].split() == ["<root@cliente.bo>", "<abc@cliente.bo>"]
    assert email["Auto-Submitted"] == "auto-replied" and email["X-Auto-Response-Suppress"] == "All"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "Hola <b>Ana</b> & equipo:" in text
    assert "Hola &lt;b&gt;Ana&lt;/b&gt; &amp; equipo:" in html and "<b>Ana</b>" not in html  # autoescaped
    assert "##-" in text.splitlines()[0]  # our reply-above marker tops the email
    stored = bot.messages(direction="out")[0]
    assert stored.external_id == email["Message-ID"] and stored.status == "sent"
    assert stored.external_id.endswith("@comteco.bo>")


def test_implicit_tls(make_bot, smtps_server):
    bot = make_bot(None, smtps_server)
    enqueue(bot, "Prueba por SMTPS")
    assert bot.runtime.deliverer.deliver_due().sent == 1
    assert "Prueba por SMTPS" in smtps_server.received[0].message.get_body(("plain",)).get_content()


def test_case_number_in_subject_and_call_detail_attached(make_bot, smtp_server, tmp_path):
    bot = make_bot(None, smtp_server)
    detail = b"%PDF-1.4\n% detalle de llamadas de la linea 4412345\n%%EOF\n"
    with bot.session() as session, session.begin():
        stored = documents.store(bot.runtime.settings.documents_dir, detail)
        document = documents.record(session, stored, filename="detalle_4412345_2026-08.pdf", now=bot.clock.now())
        session.flush()
        document_id = document.id
    enqueue(bot, "Adjuntamos el detalle de llamadas solicitado.", author="mrojas",
            payload={"attachments": [{"document_id": document_id}], "subject": "Detalle de llamadas"})
    assert bot.runtime.deliverer.deliver_due().sent == 1
    email = smtp_server.received[0].message
    attachment = next(email.iter_attachments())
    assert attachment.get_filename() == "detalle_4412345_2026-08.pdf"
    assert attachment.get_content_type() == "application/pdf" and attachment.get_content() == detail
    assert email["Auto-Submitted"] is None  # a person wrote it (RFC 3834 is for automatic replies)


def test_staff_reply_threads_under_the_clients_last_letter(make_bot, smtp_server):
    bot = make_bot(None, smtp_server)
    first = enqueue(bot, "Respuesta automática", payload={"in_reply_to": "<1@cliente.bo>",
                                                          "references": ["<1@cliente.bo>"],
                                                          "subject": "Reclamo de factura"})
    with bot.session() as session, session.begin():
        conversation_id = session.get(Message, first).conversation_id
        session.add(Message(conversation_id=conversation_id, direction="in", channel="email",
                            external_id="<2@cliente.bo>", body="¿Alguna novedad?", attachments=[],
                            author="client", status="received", created_at=bot.clock.now()))
    enqueue(bot, "Ya lo revisamos.", author="mrojas")  # no payload, as a back-office reply may be
    bot.runtime.deliverer.deliver_due()
    staff_email = smtp_server.received[1].message
    assert staff_email["In-Reply-To"].strip() == "<2@cliente.bo>"
    assert staff_email["Subject"] == "Re: Reclamo de factura"


def test_refusing_server_is_retried_with_backoff_then_succeeds(make_bot, smtp_server):
    bot = make_bot(None, smtp_server)
    smtp_server.handler.refuse_next = 2  # 451 twice
    message_id = enqueue(bot, "Intento")
    first = bot.runtime.deliverer.deliver_due()
    assert (first.sent, first.retried) == (0, 1)
    assert bot.runtime.deliverer.deliver_due().retried == 0  # not due before the backoff
    bot.clock.advance(seconds=5)  # outbox.backoff(1) = 5 s
    assert bot.runtime.deliverer.deliver_due().retried == 1
    bot.clock.advance(seconds=9)
    assert bot.runtime.deliverer.deliver_due().sent == 0  # backoff(2) = 10 s
    bot.clock.advance(seconds=1)
    assert bot.runtime.deliverer.deliver_due().sent == 1
    assert len(smtp_server.received) == 1
    with bot.session() as session:
        row = session.scalars(select(Outbox).where(Outbox.message_id == message_id)).one()
        assert (row.status, row.attempts) == ("sent", 3)


def test_permanent_refusal_fails_the_message(make_bot, smtp_server):
    bot = make_bot(None, smtp_server)
    smtp_server.handler.refuse_next = 1
    smtp_server.handler.refusal = "554 5.7.1 Message rejected"
    enqueue(bot, "Rechazado")
    assert bot.runtime.deliverer.deliver_due().failed == 1
    message = bot.messages(direction="out")[0]
    assert (message.status, message.error_code) == ("failed", "smtp_554")


def test_no_email_to_a_mailer_daemon_or_to_ourselves(make_bot, smtp_server):
    bot = make_bot(None, smtp_server)
    enqueue(bot, "x", address="mailer-daemon@mx.cliente.bo")
    enqueue(bot, "y", address=OUR_ADDRESS)
    assert bot.runtime.deliverer.deliver_due().failed == 2
    assert {m.error_code for m in bot.messages(direction="out")} == {"suppressed"}
    assert smtp_server.received == []


def test_copy_goes_to_the_sent_folder(make_bot, mail_user, smtp_server):
    bot = make_bot(mail_user, smtp_server, imap_sent_folder="Enviados")
    enqueue(bot, "Copia en Enviados")
    bot.runtime.deliverer.deliver_due()
    with mail_user.server.mailbox(mail_user.name, mail_user.password) as box:
        box.folder.set("Enviados")
        copies = list(box.fetch(mark_seen=False))
    assert [c.headers["message-id"][0].strip() for c in copies] == [bot.messages(direction="out")[0].external_id]
    assert "\\Seen" in copies[0].flags


def test_retry_reuses_the_message_id(make_bot, smtp_server):
    """A retried send carries the same Message-ID: a client that got both copies shows one."""
    bot = make_bot(None, smtp_server)
    message_id = enqueue(bot, "Reintento")
    with bot.session() as session:
        message = session.get(Message, message_id)
        draft_id = bot.runtime.channels.get("email")._draft(session, _outbound(message)).message_id
    smtp_server.handler.refuse_next = 1
    bot.runtime.deliverer.deliver_due()
    bot.clock.advance(seconds=5)
    bot.runtime.deliverer.deliver_due()
    assert smtp_server.received[0].message["Message-ID"] == draft_id


def _outbound(message):
    from bot.messaging import OutboundMessage

    return OutboundMessage(message.id, "email", CLIENT, message.body, {})
