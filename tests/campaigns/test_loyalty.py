"""Fidelización (procedure J) end to end: a campaign over one ejecutiva's cartera is launched, the
worker sends the question by WhatsApp (fake Twilio, the loyalty_check template outside the 24-hour
window) and by email (real SMTP server); the answers lead to the contact-data check, the averías
dialog E or the datos dialog J; opted-out contacts are skipped, failed sends retried, nothing is
sent twice, and the per-ejecutivo report counts what happened."""
from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header

from sqlalchemy import select, update

from bot.campaigns import launcher, optout, reports
from bot.models import (
    Campaign,
    CampaignSend,
    CampaignTarget,
    Case,
    Client,
    Conversation,
    Job,
    Outbox,
    Staff,
)
from bot.messaging import InboundMessage

LOYALTY_SID = "HX" + "e5" * 16
IMPORTADORA = ("1020304021", "+59170000001", "gerencia@empresa.bo")
CLINICA = ("1031122019", "+59170111004", "administracion@clinicalosolivos.com.bo")
SACABA = ("1067788015", "+59168765007", "gerencia@sacabaexpress.com.bo")
AGRO = ("1090011014", "+59171555010", "gerencia@agrovallealto.com.bo")
PRADO = ("1123344019", "+59160011013", "finanzas@superelprado.com.bo")


def _start(campaigns):
    return campaigns(twilio_template_loyalty_check=LOYALTY_SID)


def _id_of(app, model, **where):
    with app.runtime.sessions() as session:
        query = select(model.id)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.scalar(query)


def _launch(app, *, ejecutivo="mrojas") -> int:
    with app.runtime.sessions.begin() as session:
        ejecutivo_id = session.scalar(select(Staff.id).where(Staff.username == ejecutivo))
        campaign = launcher.create(session, kind="fidelizacion", name="Fidelización diciembre", audience="cartera",
                                   options={"ejecutivo_id": ejecutivo_id}, staff_id=None, now=app.clock.now())
        launcher.launch(session, campaign, now=app.clock.now())
        return campaign.id


def _whatsapp_to(app, number):
    return [r for r in app.twilio.sent() if r.value("To") == f"whatsapp:{number}"]


def _mail_to(app, address):
    return [r for r in app.smtp.received if address in r.rcpt_tos]


def _say(app, number, body, n):
    sid = f"SMfeed{n:028d}"
    app.app.webhook("text", From=f"whatsapp:{number}", WaId=number.lstrip("+"), Body=body, MessageSid=sid,
                    SmsMessageSid=sid, SmsSid=sid)
    app.run_worker()
    return [r.value("Body") for r in _whatsapp_to(app, number) if r.value("Body")][-1]


def _targets(app, campaign_id):
    with app.runtime.sessions() as session:
        rows = session.execute(select(Client.nit, CampaignTarget.status, CampaignTarget.outcome)
                               .join(Client, Client.id == CampaignTarget.client_id)
                               .where(CampaignTarget.campaign_id == campaign_id)).all()
        return {nit: (status, outcome) for nit, status, outcome in rows}


def _sends(app, campaign_id):
    with app.runtime.sessions() as session:
        return list(session.scalars(select(CampaignSend).where(CampaignSend.campaign_id == campaign_id)
                                    .order_by(CampaignSend.id)))


def _subject(received) -> str:
    return str(make_header(decode_header(email.message_from_bytes(received.raw)["Subject"])))


def _add_client_without_channels(app) -> str:
    with app.runtime.sessions.begin() as session:
        ejecutivo_id = session.scalar(select(Staff.id).where(Staff.username == "mrojas"))
        session.add(Client(nit="1999999019", razon_social="Sin Canales S.R.L.", tipo="privada",
                           ejecutivo_id=ejecutivo_id, email="", whatsapp=""))
    return "1999999019"


def test_the_cartera_is_reached_by_whatsapp_and_email_skipping_opt_outs_and_retrying_failures(campaigns):
    app = _start(campaigns)
    # Agroindustrias asked to stop campaign messages on both channels.
    _say(app, AGRO[1], "STOP", 0)
    with app.runtime.sessions.begin() as session:
        optout.record(session, channel="email", address=AGRO[2], now=app.clock.now(), words="STOP")
    nobody = _add_client_without_channels(app)
    stop_confirmations = len(app.twilio.sent())
    app.twilio.answer_next((503, None))  # Twilio's first campaign send fails: retried later
    campaign_id = _launch(app)
    app.run_worker()

    reached = [IMPORTADORA, CLINICA, SACABA, PRADO]
    assert len(app.twilio.sent()) - stop_confirmations == len(reached) - 1  # one waits for its retry
    app.clock.advance(seconds=10)  # the outbox backs off 5 s after a first failure
    app.run_worker()
    for nit, number, address in reached:
        [question] = _whatsapp_to(app, number)
        # No conversation was open: the approved loyalty_check template, with the razón social.
        assert question.value("ContentSid") == LOYALTY_SID
        with app.runtime.sessions() as session:
            razon_social = session.scalar(select(Client.razon_social).where(Client.nit == nit))
        assert razon_social in question.value("ContentVariables")
        [mail] = _mail_to(app, address)
        assert "funcionan bien" in _subject(mail) and razon_social in _subject(mail)
    assert len(_whatsapp_to(app, AGRO[1])) == stop_confirmations  # only the STOP confirmation
    assert _mail_to(app, AGRO[2]) == []

    targets = _targets(app, campaign_id)
    assert targets == {IMPORTADORA[0]: ("enviado", ""), CLINICA[0]: ("enviado", ""), SACABA[0]: ("enviado", ""),
                       PRADO[0]: ("enviado", ""), AGRO[0]: ("omitido", "opted_out"),
                       nobody: ("omitido", "sin_canal")}
    sends = _sends(app, campaign_id)
    assert len([s for s in sends if s.status == "sent"]) == 8  # 4 clients x 2 channels
    assert {(s.channel, s.status) for s in sends if s.address in (AGRO[1], AGRO[2])} == \
        {("whatsapp", "opted_out"), ("email", "opted_out")}
    with app.runtime.sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign.status == "terminada" and campaign.finished_at is not None
        assert [j.status for j in session.scalars(select(Job).where(Job.kind == launcher.SEND_JOB))] == ["done"]
        assert {o.status for o in session.scalars(select(Outbox))} == {"sent"}
        progress = launcher.progress(session, campaign)
    assert progress["by_status"] == {"enviado": 4, "omitido": 2}
    assert progress["sends"] == {"whatsapp:sent": 4, "email:sent": 4, "whatsapp:opted_out": 1,
                                 "email:opted_out": 1}
    # Queued vs sent (issue 15): every message left the outbox; none is confirmed delivered yet.
    assert progress["delivery"] == {"whatsapp:sent": 4, "email:sent": 4}


def test_answers_lead_to_contact_check_damage_and_data_update_and_the_report_counts_them(campaigns):
    app = _start(campaigns)
    _say(app, AGRO[1], "STOP", 0)
    with app.runtime.sessions.begin() as session:
        optout.record(session, channel="email", address=AGRO[2], now=app.clock.now(), words="STOP")
    campaign_id = _launch(app)
    app.run_worker()

    # "Sí" -> the contact data the portfolio holds, to confirm.
    shown = _say(app, IMPORTADORA[1], "Sí, todo bien", 1)
    assert "María Fernanda Céspedes" in shown and "Jorge Antezana" in shown and IMPORTADORA[2] in shown
    assert "Gracias por confirmar" in _say(app, IMPORTADORA[1], "confirmo", 2)

    # A fault described -> the averías dialog reads it and opens the E case (an open order exists).
    reply = _say(app, CLINICA[1], "no funciona el internet desde ayer", 3)
    assert "OT-2026-0401" in reply and "Número de caso" in reply

    # New contact data -> the J case for the ejecutiva, with the old and new value.
    _say(app, PRADO[1], "sí", 4)
    reply = _say(app, PRADO[1], "el nuevo correo es compras@superelprado.com.bo", 5)
    assert "compras@superelprado.com.bo" in reply and "Número de caso" in reply

    with app.runtime.sessions() as session:
        mrojas = session.scalar(select(Staff.id).where(Staff.username == "mrojas"))
        cases = {nit: (tramite, role, assignee) for nit, tramite, role, assignee in session.execute(
            select(Client.nit, Case.tramite, Case.current_role, Case.assignee_id).join(Client))}
    answers = {s.address: (s.answer, s.words) for s in _sends(app, campaign_id) if s.answered_at}
    assert cases == {CLINICA[0]: ("E", "gestor_tecnico", None), PRADO[0]: ("J", "ejecutivo", mrojas)}
    assert answers[IMPORTADORA[1]] == ("confirm", "Sí, todo bien\nconfirmo")
    assert answers[CLINICA[1]] == ("problem", "no funciona el internet desde ayer")
    assert answers[PRADO[1]][0] == "update"
    assert _targets(app, campaign_id) == {
        IMPORTADORA[0]: ("respondido", "ok"), CLINICA[0]: ("respondido", "problema"),
        SACABA[0]: ("enviado", ""), AGRO[0]: ("omitido", "opted_out"),
        PRADO[0]: ("respondido", "datos_actualizados")}

    # The report, counted by hand from the five clients of mrojas above.
    with app.runtime.sessions() as session:
        rows, total = reports.loyalty_report(session, campaign_id=campaign_id)
    [row] = rows
    assert row.ejecutivo_id == mrojas
    assert {name: getattr(row, name) for name in reports.COUNTS} == {
        "clients": 5, "reached": 4, "answered": 3, "services_ok": 2, "problems": 1, "damage_cases": 1,
        "data_updates": 1, "data_cases": 1, "no_answer": 1, "opted_out": 1, "no_channel": 0}
    assert total.clients == 5 and total.damage_cases == 1


def test_a_damage_report_whose_case_opens_later_is_counted_when_it_opens(campaigns):
    app = _start(campaigns)
    campaign_id = _launch(app)
    app.run_worker()
    # Importadora's internet has no open order: E asks for the diagnosis before opening the case.
    reply = _say(app, IMPORTADORA[1], "no funciona el internet desde ayer", 1)
    assert "luces del módem" in reply and "Número de caso" not in reply
    with app.runtime.sessions() as session:
        [row], _ = reports.loyalty_report(session, campaign_id=campaign_id)
    assert (row.problems, row.damage_cases) == (1, 0)
    _say(app, IMPORTADORA[1], "con cortes, luz roja en el router, 10 equipos, el wifi llega bien", 2)
    reply = _say(app, IMPORTADORA[1], "sí, 71234567", 3)
    with app.runtime.sessions() as session:
        [row], _ = reports.loyalty_report(session, campaign_id=campaign_id)
        assert session.scalar(select(Case.tramite)) == "E", reply
    assert (row.problems, row.damage_cases) == (1, 1)


def test_unclear_answers_go_back_to_the_menu_and_another_request_is_served(campaigns):
    app = _start(campaigns)
    campaign_id = _launch(app)
    app.run_worker()
    assert "¿sus servicios funcionan bien?" in _say(app, SACABA[1], "hola, quién es?", 1)
    assert "1." in _say(app, SACABA[1], "mmm", 2)  # the menu
    reply = _say(app, CLINICA[1], "quiero dar de baja una línea", 3)
    with app.runtime.sessions() as session:
        dialog = session.scalar(select(Conversation.dialog).where(Conversation.address == CLINICA[1],
                                                                  Conversation.channel == "whatsapp"))
    assert dialog == "tramite_H", reply
    targets = _targets(app, campaign_id)
    assert targets[SACABA[0]] == ("respondido", "sin_respuesta_clara")
    assert targets[CLINICA[0]] == ("respondido", "otro_tramite")


def test_nothing_is_sent_twice(campaigns):
    app = _start(campaigns)
    with app.runtime.sessions.begin() as session:
        for channel, address in (("whatsapp", AGRO[1]), ("email", AGRO[2])):
            optout.record(session, channel=channel, address=address, now=app.clock.now(), words="STOP")
    campaign_id = _launch(app)
    with app.runtime.sessions.begin() as session:
        # A second click on "Lanzar" changes nothing.
        assert launcher.launch(session, session.get(Campaign, campaign_id), now=app.clock.now()) is None
    app.run_worker()
    first = (len(app.twilio.sent()), len(app.smtp.received))
    assert first == (4, 4)  # Agroindustrias opted out
    # The job runs again over the same targets (as after a crash that lost the target marks):
    # the campaign_sends rows keep every contact from a second message.
    with app.runtime.sessions.begin() as session:
        session.execute(update(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id)
                        .values(status="pendiente"))
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(status="lanzada"))
        session.add(Job(kind=launcher.SEND_JOB, payload={"campaign_id": campaign_id}, status="pending",
                        due_at=app.clock.now(), attempts=0, last_error="", created_at=app.clock.now()))
    app.run_worker()
    app.run_worker()
    assert (len(app.twilio.sent()), len(app.smtp.received)) == first
    targets = _targets(app, campaign_id)
    assert targets.pop(AGRO[0]) == ("omitido", "opted_out")  # still skipped, not marked sent
    assert set(targets.values()) == {("enviado", "")}
    assert len(_sends(app, campaign_id)) == 10


def test_an_email_answer_gets_the_contact_check_by_email(campaigns):
    app = _start(campaigns)
    campaign_id = _launch(app)
    app.run_worker()
    before = len(_mail_to(app, SACABA[2]))
    app.runtime.conversations.handle(InboundMessage("email", SACABA[2], "Todo bien, gracias", "<fid-1@sacaba.bo>",
                                                    subject="Re: ¿Sus servicios de Comteco funcionan bien?"))
    app.run_worker()
    [reply] = _mail_to(app, SACABA[2])[before:]
    body = email.message_from_bytes(reply.raw, policy=email.policy.default).get_body(("plain",)).get_content()
    assert "Luis Fernando Rojas" in body and "confirmo" in body
    assert _targets(app, campaign_id)[SACABA[0]] == ("respondido", "ok")
