"""Campaign answers that come back as real email: the client replies to the proforma or to the
fidelización question from their mail program; the letter is delivered to the real IMAP server
(Dovecot, LMTP), fetched by the worker's poller, read by the campaign's dialog, and the bot's answer
goes out through the real SMTP server in the same thread."""
from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select

from bot.campaigns import launcher, mora
from bot.models import CampaignSend, CampaignTarget, Client, Job, Message, Staff
from tests.campaigns.test_mora import IMPORTADORA_EMAIL, _reach_the_run
from tests.email.conftest import OUR_ADDRESS, dovecot_server, mail_user  # noqa: F401

SACABA_NIT, SACABA_EMAIL = "1067788015", "gerencia@sacabaexpress.com.bo"  # mrojas's cartera (clientes.csv)


def _with_mailbox(campaigns, mail_user, **overrides):  # noqa: F811
    return campaigns(imap_host="127.0.0.1", imap_port=mail_user.server.imap_port, imap_security="plain",
                     imap_user=mail_user.name, imap_password=mail_user.password, **overrides)


def _reply(to_letter, *, sender: str, body: str) -> EmailMessage:
    """What a mail program sends on "Responder": same thread, quoted subject."""
    original = email.message_from_bytes(to_letter.raw, policy=email.policy.default)
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = OUR_ADDRESS
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Message-ID"] = f"<reply-{abs(hash(body))}@cliente.example>"
    reply["In-Reply-To"] = original["Message-ID"]
    reply["References"] = original["Message-ID"]
    reply.set_content(f"{body}\n\nEl vie, Comteco Empresas <{OUR_ADDRESS}> escribió:\n> texto anterior\n")
    return reply


def _deliver_and_fetch(app, mail_user, letter: EmailMessage) -> None:  # noqa: F811
    mail_user.deliver(letter.as_bytes(), sender=str(letter["From"]))
    report = app.runtime.email_poller.poll_once(force=True)
    assert report.processed == 1, report
    app.run_worker()


def _plain(received) -> str:
    return email.message_from_bytes(received.raw, policy=email.policy.default).get_body(("plain",)).get_content()


def test_a_ya_pague_by_email_to_the_proforma_is_recorded_and_checked_a_week_later(campaigns, mail_user):  # noqa: F811
    app = _with_mailbox(campaigns, mail_user)
    _reach_the_run(app)
    [proforma] = [r for r in app.smtp.received if IMPORTADORA_EMAIL in r.rcpt_tos]

    _deliver_and_fetch(app, mail_user, _reply(proforma, sender=IMPORTADORA_EMAIL,
                                              body="Buenos días, ya pagamos las facturas el lunes."))

    # The answer went through IMAP into the mora dialog, and was answered by SMTP in the thread.
    [thanks] = [r for r in app.smtp.received if IMPORTADORA_EMAIL in r.rcpt_tos][1:]
    assert "Verificaremos el pago" in _plain(thanks)
    thanks_mime = email.message_from_bytes(thanks.raw)
    assert email.message_from_bytes(proforma.raw)["Message-ID"] in thanks_mime["References"]
    with app.runtime.sessions() as session:
        [send] = session.scalars(select(CampaignSend).where(CampaignSend.channel == "email",
                                                            CampaignSend.address == IMPORTADORA_EMAIL)).all()
        assert send.answer == "paid" and "ya pagamos" in send.words
        # The quoted text of our letter is not taken for the client's words.
        inbound = session.scalars(select(Message).where(Message.direction == "in")).all()
        assert [m.body for m in inbound] and all("texto anterior" not in m.body for m in inbound)
        [followup] = session.scalars(select(Job).where(Job.kind == mora.FOLLOWUP_JOB)).all()
        assert followup.payload == {"send_id": send.id}
        assert followup.due_at.replace(tzinfo=app.clock.now().tzinfo) == app.clock.now() + timedelta(days=7)


def test_a_fidelizacion_answer_by_email_gets_the_contact_check_by_email(campaigns, mail_user):  # noqa: F811
    app = _with_mailbox(campaigns, mail_user)
    with app.runtime.sessions.begin() as session:
        client_id = session.scalar(select(Client.id).where(Client.nit == SACABA_NIT))
        campaign = launcher.create(session, kind="fidelizacion", name="Fidelización por correo", audience="lista",
                                   options={}, staff_id=session.scalar(select(Staff.id).where(Staff.username == "mrojas")),
                                   now=app.clock.now())
        launcher.add_targets(session, campaign, [{"client_id": client_id}])
        launcher.launch(session, campaign, now=app.clock.now())
        campaign_id = campaign.id
    app.run_worker()
    [question] = [r for r in app.smtp.received if SACABA_EMAIL in r.rcpt_tos]

    _deliver_and_fetch(app, mail_user, _reply(question, sender=SACABA_EMAIL, body="Todo bien, gracias."))

    [check] = [r for r in app.smtp.received if SACABA_EMAIL in r.rcpt_tos][1:]
    body = _plain(check)
    assert SACABA_EMAIL in body and "confirmo" in body  # the contact data the portfolio holds, to confirm

    _deliver_and_fetch(app, mail_user, _reply(check, sender=SACABA_EMAIL, body="Confirmo, están correctos."))
    with app.runtime.sessions() as session:
        target = session.scalars(select(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id)).one()
        assert (target.status, target.outcome) == ("respondido", "ok")
