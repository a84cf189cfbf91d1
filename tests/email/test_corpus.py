"""Every letter of the imap_tools corpus (113 real-world .eml: broken encodings, bounces, lists,
Japanese, Korean, Russian, forwarded messages) goes through Dovecot and the poller without a
crash; bounces and automatic mail get no reply."""
from __future__ import annotations

from tests.conftest import shared_path

# Read by hand from the files' headers.
NO_REPLY_SENDERS = {
    "mailer-daemon@lvmail01.ll.com",  # multi_address_bounce1/2.eml: multipart/report, MAILER-DAEMON
    "postmaster@ci.com",  # multipart_report_multiple_status.eml: Return-Path <>, Postmaster
    "mailer-daemon@tppppp.com.au",  # report_422.eml: delivery delayed report
    "mailer-daemon@tttttt.com.au",  # report_530.eml
    "mailer-daemon@antivirus.uqam.ca",  # raw_email_with_mimepart_without_content_type.eml
    "infoz@reactive-outpost.com",  # bad_date_header.eml: Precedence: junk
    "ak@g.com",  # empty_in_reply_to.eml: List-Id
}


def test_every_corpus_letter_is_processed_and_automatic_mail_gets_no_reply(bot):
    corpus = shared_path("corpus/email/imap_tools")
    files = sorted(corpus.rglob("*.eml"))
    assert len(files) == 113
    for path in files:
        bot.user.server.append(bot.user.name, bot.user.password, path.read_bytes())
    report = bot.poll()
    assert (report.fetched, report.failed, report.error) == (113, 0, "")
    assert report.processed + report.duplicates == 113
    assert bot.user.uids("INBOX") == [] and len(bot.user.uids("Procesados")) == 113
    assert bot.user.uids("Revisar") == []
    inbound = bot.messages(direction="in")
    assert len(inbound) == report.processed
    senders = {rcpt for received in bot.smtp.received for rcpt in received.rcpt_tos}
    assert senders, "people who wrote get an answer (the NIT question)"
    assert not senders & NO_REPLY_SENDERS
    assert all("@" in s and not s.startswith(("mailer-daemon", "postmaster")) for s in senders)
