"""Spanish letters end to end: delivered to Dovecot over LMTP, read by the poller, answered over
SMTP (aiosmtpd with STARTTLS and AUTH), on the demo portfolio (Importadora El Valle: contact
contabilidad@empresa.bo and gerencia@empresa.bo, line 4412345; GAM de Tiquipaya:
sistemas@tiquipaya.gob.bo)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.models import CaseEvent, Document
from tests.email.conftest import OUR_ADDRESS, letter

ANA = "contabilidad@empresa.bo"
CARTA_ID = "<DM6PR04MB5417A1B2C3D4E5F6@DM6PR04MB5417.namprd04.prod.outlook.com>"


def only(items):
    assert len(items) == 1, items
    return items[0]


def text_of(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def test_full_letter_with_pdf_gets_one_email_with_everything(bot):
    report = bot.deliver_and_poll(letter("carta_completa.eml"))
    assert (report.processed, report.failed) == (1, 0)

    reply = only(bot.replies_to(ANA))
    email = reply.message
    case = only(bot.cases())
    body = text_of(reply)
    assert "Bs 24,00" in body  # agosto and septiembre, Bs 12,00 each (tariffs.yaml)
    assert "Requisitos pendientes" not in body
    assert case.number in body and email["Subject"].endswith(f"[{case.number}]")
    assert "Gestor(a) Comercial" in body
    assert case.tramite == "G" and case.status == "en_proceso" and case.current_role == "gestor_comercial"
    assert [Decimal(c["amount"]) for c in case.quoted_costs] == [Decimal("12.00"), Decimal("12.00")]
    assert [r["status"] for r in case.requirements] == ["received"]
    # Threading and loop protection on our email.
    assert email["In-Reply-To"].strip() == CARTA_ID and CARTA_ID in email["References"]
    assert email["Auto-Submitted"] == "auto-replied"
    assert email["From"].addresses[0].addr_spec == OUR_ADDRESS
    assert reply.mail_from == OUR_ADDRESS
    with bot.session() as session:
        documents = list(session.scalars(select(Document)))
    # The PDF only: the 85-byte signature logo (cid:image001.png) is no document.
    assert [(d.filename, d.content_type, d.case_id) for d in documents] == [
        ("Carta solicitud detalle firmada.pdf", "application/pdf", case.id)]
    inbound = only(bot.messages(direction="in"))
    outbound = only(bot.messages(direction="out"))
    assert inbound.external_id == CARTA_ID and inbound.case_id == case.id
    assert outbound.external_id == email["Message-ID"] and outbound.status == "sent"
    assert outbound.case_id == case.id
    # Processed letters leave the inbox for "Procesados", seen.
    assert bot.user.uids("INBOX") == [] and len(bot.user.uids("Procesados")) == 1
    assert "\\Seen" in only(bot.user.flags("Procesados"))


def test_missing_data_is_asked_and_the_thread_continues_by_reply(bot):
    bot.deliver_and_poll(letter("faltan_datos.eml"))
    question = only(bot.replies_to(ANA))
    asked = text_of(question)
    assert "mes" in asked and "Línea" not in asked and "producto" not in asked  # only the months
    assert bot.cases() == []

    # Outlook reply, quoting our question whose example says «agosto y septiembre»: only the new
    # text counts, so one month (Bs 12,00), not two.
    bot.deliver_and_poll(letter("respuesta_outlook.eml", in_reply_to=question.message["Message-ID"],
                                references=question.message["Message-ID"]))
    summary = bot.replies_to(ANA)[-1]
    case = only(bot.cases())
    assert "Bs 12,00" in text_of(summary) and "Bs 24,00" not in text_of(summary)
    assert case.data["months"] == ["2026-08"] and case.status == "pendiente_requisitos"
    assert summary.message["Subject"] == f"Re: Detalle de llamadas [{case.number}]"
    assert summary.message["In-Reply-To"].strip() == "<DM6PR04MB5417B7C8D9E0F1A2@DM6PR04MB5417.namprd04.prod.outlook.com>"
    assert question.message["Message-ID"] in summary.message["References"]

    # Gmail reply with the signed letter, quoting our summary (which names the trámite): the
    # letter joins the case, no second case is opened.
    bot.deliver_and_poll(letter("respuesta_gmail_con_carta.eml", subject=str(summary.message["Subject"]),
                                in_reply_to=summary.message["Message-ID"],
                                references=f'{question.message["Message-ID"]} {summary.message["Message-ID"]}'))
    case = only(bot.cases())
    acknowledgement = bot.replies_to(ANA)[-1]
    assert len(bot.replies_to(ANA)) == 3
    assert "Recibimos: Carta de solicitud" in text_of(acknowledgement)
    assert case.number in acknowledgement.message["Subject"]
    assert case.status == "en_proceso" and case.current_role == "gestor_comercial"
    reply_in = bot.messages(direction="in")[-1]
    assert reply_in.case_id == case.id and reply_in.body == "Adjunto la carta firmada.\n\nSaludos,\nMaría Fernanda"


def _open_case_waiting_for_the_letter(bot):
    bot.deliver_and_poll(letter("faltan_datos.eml"))
    question = only(bot.replies_to(ANA))
    bot.deliver_and_poll(letter("respuesta_outlook.eml", in_reply_to=question.message["Message-ID"],
                                references=question.message["Message-ID"]))
    return only(bot.cases()), bot.replies_to(ANA)[-1]


def _reply_to_the_month_question(bot, fixture: str):
    """The letter without months is asked for them; `fixture` answers «agosto» while quoting our
    question, whose example says «agosto y septiembre»."""
    bot.deliver_and_poll(letter("faltan_datos.eml"))
    question = only(bot.replies_to(ANA))
    bot.deliver_and_poll(letter(fixture, in_reply_to=question.message["Message-ID"],
                                references=question.message["Message-ID"]))
    return bot.replies_to(ANA)[-1]


def test_bottom_posted_reply_keeps_the_clients_words_below_the_quote(bot):
    # Thunderbird style: attribution and quote first, the answer below it (issue 14).
    summary = _reply_to_the_month_question(bot, "respuesta_debajo_thunderbird.eml")
    case = only(bot.cases())
    assert case.tramite == "G" and case.data["months"] == ["2026-08"]
    # One month at the tariff of a call detail (Bs 12 per month and line), not the quoted two.
    assert [Decimal(c["amount"]) for c in case.quoted_costs] == [Decimal("12.00")]
    assert "Bs 12,00" in text_of(summary) and case.number in text_of(summary)


def test_outlook_reply_without_re_drops_the_quoted_block(bot):
    # Outlook's "De: / Enviado: / Para: / Asunto:" block with no "Re:" anywhere (issue 14).
    summary = _reply_to_the_month_question(bot, "respuesta_outlook_sin_re.eml")
    case = only(bot.cases())
    assert case.tramite == "G" and case.data["months"] == ["2026-08"]
    assert [Decimal(c["amount"]) for c in case.quoted_costs] == [Decimal("12.00")]
    assert "Bs 12,00" in text_of(summary) and "Bs 24,00" not in text_of(summary)


def test_another_clients_mail_with_the_same_subject_tag_is_not_merged(bot):
    case, summary = _open_case_waiting_for_the_letter(bot)
    bot.deliver_and_poll(letter("otro_cliente_mismo_asunto.eml", subject=str(summary.message["Subject"])))
    bot.runtime.worker.run_once()  # "Adjuntamos la carta firmada": the worker reads the letter first
    with bot.session() as session:
        on_case = list(session.scalars(select(Document).where(Document.case_id == case.id)))
    assert on_case == []
    importadora = bot.cases()[0]
    assert importadora.id == case.id and importadora.status == "pendiente_requisitos"
    assert all(c.client_id != case.client_id for c in bot.cases()[1:])
    tiquipaya_in = bot.messages(direction="in")[-1]
    assert "Adjuntamos la carta firmada" in tiquipaya_in.body and tiquipaya_in.case_id != case.id
    answer = only(bot.replies_to("sistemas@tiquipaya.gob.bo"))
    assert case.number not in text_of(answer) and case.number not in answer.message["Subject"]


def test_a_contact_of_the_same_client_joins_the_case_by_subject_tag(bot):
    case, summary = _open_case_waiting_for_the_letter(bot)
    # gerencia@empresa.bo never wrote before and does not reply in the thread, but is a contact
    # of Importadora El Valle: the [PV-...] tag is enough.
    bot.deliver_and_poll(letter("mismo_cliente_por_asunto.eml", subject=str(summary.message["Subject"])))
    case = only(bot.cases())
    assert case.status == "en_proceso" and case.requirements[0]["status"] == "received"
    answer = only(bot.replies_to("gerencia@empresa.bo"))
    assert case.number in text_of(answer)


def test_out_of_office_reply_gets_no_answer(bot):
    bot.deliver_and_poll(letter("faltan_datos.eml"))
    question = only(bot.replies_to(ANA))
    report = bot.deliver_and_poll(letter("fuera_de_oficina.eml", in_reply_to=question.message["Message-ID"]))
    assert report.processed == 1
    assert len(bot.replies_to(ANA)) == 1  # still only the question
    auto = bot.messages(direction="in")[-1]
    assert auto.external_id == "<DM6PR04MB5417OOF0001@DM6PR04MB5417.namprd04.prod.outlook.com>"
    assert bot.cases() == []  # "línea 4412345 o el detalle de llamadas" in it moved nothing
    assert len(bot.messages(direction="out")) == 1


def test_bounce_of_our_email_marks_it_failed_on_the_case(bot):
    bot.deliver_and_poll(letter("carta_completa.eml"))
    summary = only(bot.replies_to(ANA))
    bot.deliver_and_poll(letter("rebote.eml", original_id=summary.message["Message-ID"]))
    outbound = only(bot.messages(direction="out"))
    assert (outbound.status, outbound.error_code) == ("failed", "bounced")
    with bot.session() as session:
        kinds = list(session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == outbound.case_id)))
    assert "email_bounced" in kinds
    assert len(bot.smtp.received) == 1  # nothing to MAILER-DAEMON
    assert only(bot.messages(direction="in", channel="email")[-1:]).body.startswith("Undelivered Mail")


def test_the_same_letter_twice_is_processed_once(bot):
    bot.user.deliver(letter("carta_completa.eml"))
    bot.user.deliver(letter("carta_completa.eml"))
    report = bot.poll()
    assert (report.fetched, report.processed, report.duplicates) == (2, 1, 1)
    assert len(bot.cases()) == 1 and len(bot.smtp.received) == 1
    assert len(bot.user.uids("Procesados")) == 2



def test_automatic_replies_per_sender_are_capped_per_hour(make_bot):
    """Two robots answering each other: after EMAIL_REPLIES_PER_HOUR replies the sender's
    letters are stored without an answer, until the hour has passed."""
    from channels.email.ingest import Ingestor

    bot = make_bot(None, None, email_replies_per_hour=2)
    runtime = bot.runtime
    ingestor = Ingestor(sessions=runtime.sessions, engine=runtime.conversations, settings=runtime.settings,
                        clock=bot.clock)
    raw = letter("faltan_datos.eml")
    results = []
    for n in range(3):
        results.append(ingestor.ingest(raw.replace(b"<CAHx2v9T1u0a7Qk3", f"<{n}CAHx2v9T1u0a7Qk3".encode())))
        bot.clock.advance(minutes=10)
    assert [r.reason for r in results] == ["", "", "rate_limited"]
    assert [bool(r.outcome.replies) for r in results] == [True, True, False]
    assert len(bot.messages(direction="out")) == 2  # one email per answered letter
    assert len(bot.messages(direction="in")) == 3
    bot.clock.advance(minutes=40)  # the first reply is now more than an hour old
    assert ingestor.ingest(raw.replace(b"<CAHx2v9T1u0a7Qk3", b"<3CAHx2v9T1u0a7Qk3")).reason == ""
