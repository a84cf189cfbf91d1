"""The IMAP poller against a real Dovecot: TLS modes, UID resume, IDLE, failures, restarts."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.models import InboundFailure, Job, MailboxState
from channels.email.inbound import reconnect_delay
from tests.email.conftest import letter, new_user


@pytest.mark.parametrize("security", ["ssl", "starttls", "plain"])
def test_security_modes(make_bot, mail_user, smtp_server, security):
    port = mail_user.server.imaps_port if security == "ssl" else mail_user.server.imap_port
    bot = make_bot(mail_user, smtp_server, imap_security=security, imap_port=port)
    report = bot.deliver_and_poll(letter("faltan_datos.eml"))
    assert (report.fetched, report.processed, report.error) == (1, 1, "")
    assert len(bot.replies_to("contabilidad@empresa.bo")) == 1


def test_tls_refuses_an_untrusted_certificate(make_bot, mail_user, smtp_server):
    bot = make_bot(mail_user, smtp_server, imap_security="ssl", imap_port=mail_user.server.imaps_port,
                   email_ca_file="")  # system CAs: the test CA is not among them
    report = bot.deliver_and_poll(letter("faltan_datos.eml"))
    assert report.fetched == 0 and "CERTIFICATE_VERIFY_FAILED" in report.error
    assert mail_user.uids("INBOX") == ["1"]  # nothing lost


def test_resumes_after_the_last_uid_without_a_processed_folder(make_bot, mail_user, smtp_server):
    """Letters stay in INBOX (only \\Seen); the stored (UIDVALIDITY, last UID) keeps a new
    process from reading them again."""
    first = make_bot(mail_user, smtp_server, imap_processed_folder="")
    assert first.deliver_and_poll(letter("faltan_datos.eml")).fetched == 1
    first.poller.close()
    mail_user.deliver(letter("carta_completa.eml"))
    second = make_bot(mail_user, smtp_server, imap_processed_folder="")
    report = second.poll()
    assert (report.fetched, report.processed, report.duplicates) == (1, 1, 0)
    assert mail_user.uids("INBOX") == ["1", "2"]
    assert all("\\Seen" in flags for flags in mail_user.flags("INBOX"))
    with second.session() as session:
        state = session.scalars(select(MailboxState)).one()
    assert (state.account, state.folder, state.last_uid) == (f"{mail_user.name}@127.0.0.1", "INBOX", 2)


def test_a_letter_whose_pdf_cannot_be_stored_is_processed_and_the_file_waits(make_bot, mail_user, smtp_server,
                                                                             tmp_path):
    """Disk full / documents folder unwritable: no longer a failed letter (it went to Revisar
    unanswered before): the text is answered, the PDF waits in a retry job, staff are told
    (bot/attachments.py; retries tested in tests/observability/test_disk_faults.py)."""
    not_a_folder = tmp_path / "documents-is-a-file"
    not_a_folder.write_text("")
    bot = make_bot(mail_user, smtp_server, documents_dir=not_a_folder)
    mail_user.deliver(letter("carta_completa.eml"))  # its PDF cannot be stored
    mail_user.deliver(letter("faltan_datos.eml"))  # no files: fine
    report = bot.poll()
    assert (report.fetched, report.processed, report.failed) == (2, 2, 0)
    assert mail_user.uids("Revisar") == [] and len(mail_user.uids("Procesados")) == 2
    with bot.session() as session:
        failure = session.scalars(select(InboundFailure)).one()
        job = session.scalars(select(Job).where(Job.kind == "attachment_retry")).one()
    assert failure.channel == "email" and failure.sender == "contabilidad@empresa.bo"
    assert failure.external_id == "<DM6PR04MB5417A1B2C3D4E5F6@DM6PR04MB5417.namprd04.prod.outlook.com>"
    assert failure.error.startswith("documentos no guardados: NotADirectoryError")
    assert len(bot.messages(direction="in")) == 2 and len(bot.messages(direction="out")) == 2
    assert job.status == "pending" and job.payload["files"][0]["content_type"] == "application/pdf"


def test_idle_notices_new_mail_without_polling(make_bot, mail_user, smtp_server):
    bot = make_bot(mail_user, smtp_server, imap_poll_seconds=3600)
    assert bot.poller.poll_once().fetched == 0  # connects, nothing there, starts IDLE
    assert bot.poller.idling
    mail_user.deliver(letter("faltan_datos.eml"))
    deadline = time.monotonic() + 40  # Dovecot's own fallback check is every 30 s
    fetched = 0
    while time.monotonic() < deadline and not fetched:
        fetched = bot.poller.poll_once().fetched  # not forced: only an EXISTS makes it fetch
        time.sleep(0.1)
    assert fetched == 1


def test_server_stopped_and_started_mid_run_loses_and_repeats_nothing(make_bot, private_dovecot, smtp_server):
    user = new_user(private_dovecot)
    bot = make_bot(user, smtp_server)
    user.deliver(letter("faltan_datos.eml"))
    assert bot.poll().processed == 1

    private_dovecot.stop()
    deadline = time.monotonic() + 10  # the server's processes close their connections
    while not (report := bot.poller.poll_once()).error and time.monotonic() < deadline:
        time.sleep(0.05)
    assert report.error and bot.poller.box is None
    assert bot.poller.poll_once().error == ""  # waiting out the backoff: no connection attempt
    bot.clock.advance(seconds=reconnect_delay(1).total_seconds())
    assert bot.poller.poll_once().error  # still down: the next wait is longer
    assert bot.poller.retry_at == bot.clock.now() + reconnect_delay(2)

    private_dovecot.start()
    user.deliver(letter("carta_completa.eml"))
    bot.clock.advance(seconds=reconnect_delay(2).total_seconds())
    report = bot.poll()
    assert (report.fetched, report.processed, report.duplicates, report.error) == (1, 1, 0, "")
    assert [m.external_id for m in bot.messages(direction="in")] == [
        "<CAHx2v9T1u0a7Qk3fR4pYz+Lm8nB6cD5eF@mail.gmail.com>",
        "<DM6PR04MB5417A1B2C3D4E5F6@DM6PR04MB5417.namprd04.prod.outlook.com>",
    ]
    assert len(bot.smtp.received) == 2 and user.uids("INBOX") == []


def test_reconnect_delay_doubles_up_to_five_minutes():
    assert [reconnect_delay(n).total_seconds() for n in (1, 2, 3, 4, 9, 20)] == [2, 4, 8, 16, 300, 300]
