"""Parsing, quote stripping, loop detection and threading helpers, on bytes (no servers)."""
from __future__ import annotations

from email.message import EmailMessage

import pytest

from channels.email import loops, threads
from channels.email.parse import html_to_text, parse
from channels.email.quotes import strip_quotes
from tests.email.conftest import letter

OWN = {"empresas@comteco.bo"}
PDF = b"%PDF-1.4\n%%EOF\n"
PHOTO = b"\xff\xd8\xff\xe0" + bytes(60 * 1024)  # a 60 KB JPEG pasted into the body


# --- quoted history ------------------------------------------------------------------------------
GMAIL = """Sí, la línea 4412345.

El sáb, 28 nov 2026 a las 9:00, Comteco Empresas (<empresas@comteco.bo>)
escribió:

> ¿Sobre qué línea es su solicitud?
> 1. Línea 4412346
"""
OUTLOOK = """Sí, la línea 4412345.

De: Comteco Empresas <empresas@comteco.bo>
Enviado el: sábado, 28 de noviembre de 2026 9:00
Para: contabilidad@empresa.bo
Asunto: RE: Detalle de llamadas

¿Sobre qué línea es su solicitud?
1. Línea 4412346
"""
OUTLOOK_WEB = """Sí, la línea 4412345.

________________________________
De: Comteco Empresas <empresas@comteco.bo>
Enviado: sábado, 28 de noviembre de 2026 9:00
Para: contabilidad@empresa.bo <contabilidad@empresa.bo>
Asunto: Re: Detalle de llamadas

¿Sobre qué línea es su solicitud?
"""
ORIGINAL = """Sí, la línea 4412345.

-----Mensaje original-----
De: Comteco Empresas
Enviado: sábado
Asunto: Detalle

¿Sobre qué línea?
"""
APPLE = "Sí, la línea 4412345.\n\nEl 28 nov 2026, a las 9:00, Comteco Empresas <empresas@comteco.bo> escribió:\n\n> ¿Sobre qué línea?\n"
MARKER_ONLY = "Sí, la línea 4412345.\n\n##- Por favor, escriba su respuesta encima de esta línea -##\n\n¿Sobre qué línea?\n"


@pytest.mark.parametrize("text", [GMAIL, OUTLOOK, OUTLOOK_WEB, ORIGINAL, APPLE, MARKER_ONLY],
                         ids=["gmail", "outlook", "outlook_web", "mensaje_original", "apple", "marker"])
def test_spanish_quote_forms_are_cut(text):
    assert strip_quotes(text, subject="RE: Detalle de llamadas", has_thread_headers=True) == "Sí, la línea 4412345."


def test_a_forward_keeps_the_forwarded_request():
    text = OUTLOOK_WEB.replace("Sí, la línea 4412345.", "Le reenvío el pedido de gerencia.")
    kept = strip_quotes(text, subject="RV: Detalle de llamadas", has_thread_headers=False)
    assert kept.startswith("Le reenvío el pedido") and "¿Sobre qué línea es su solicitud?" in kept


def test_a_new_letter_is_left_alone():
    text = "Estimados:\n\nSolicitamos el detalle.\n\n> cita de una norma\n\nAtte."
    assert strip_quotes(text, subject="Solicitud", has_thread_headers=False) == text


# --- bodies and files ----------------------------------------------------------------------------
def test_html_only_letter_becomes_text_with_quotes_marked():
    html = ("<html><body><p>Necesitamos el <b>detalle</b> de llamadas.</p><p>L&iacute;nea 4412345<br>Gracias</p>"
            "<blockquote><p>texto anterior</p></blockquote><script>alert(1)</script></body></html>")
    assert html_to_text(html) == "Necesitamos el detalle de llamadas.\n\nLínea 4412345\nGracias\n\n> texto anterior"


def _mime(**headers) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("sender", "Ana <contabilidad@empresa.bo>")
    message["To"] = "empresas@comteco.bo"
    message["Subject"] = headers.pop("subject", "Consulta")
    message["Message-ID"] = headers.pop("message_id", "<m1@empresa.bo>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message


def test_charsets_attachments_inline_images_and_forwarded_letters():
    message = _mime(subject="Solicitud de señal")
    message.set_content("Buenos días, adjunto la carta y la foto.", charset="iso-8859-1")
    message.add_alternative('<p>Buenos días</p><img src="cid:logo1"><img src="cid:foto1">', subtype="html")
    html = message.get_payload()[1]
    html.add_related(b"\x89PNG\r\n\x1a\n" + bytes(200), "image", "png", cid="<logo1>", filename="image001.png")
    html.add_related(PHOTO, "image", "jpeg", cid="<foto1>", filename="carta.jpg")
    message.add_attachment(PDF, "application", "pdf", filename="solicitud firmada ñ.pdf")
    forwarded = _mime(sender="Jorge <gerencia@empresa.bo>", subject="Pedido", message_id="<f1@empresa.bo>")
    forwarded.set_content("Pidan el detalle de octubre de la línea 4412346.")
    forwarded.add_attachment(PDF, "application", "pdf", filename="anexo.pdf")
    message.add_attachment(forwarded)

    parsed = parse(message.as_bytes())
    assert parsed.sender == "contabilidad@empresa.bo" and parsed.sender_name == "Ana"
    assert parsed.subject == "Solicitud de señal"
    assert parsed.text == "Buenos días, adjunto la carta y la foto."
    assert [(f.filename, len(f.data)) for f in parsed.files] == [  # the 208-byte logo is left out
        ("carta.jpg", len(PHOTO)), ("solicitud firmada ñ.pdf", len(PDF))]
    inner = parsed.forwarded[0]
    assert inner.sender == "gerencia@empresa.bo" and "octubre" in inner.text
    assert [f.filename for f in inner.files] == ["anexo.pdf"]


def test_broken_headers_do_not_raise():
    raw = (b"From: =?utf-8?B?broken?= <x@y.bo>\r\nSubject: =?unknown-8bit?Q?Caf=E9?=\r\n"
           b"Content-Type: text/plain; charset=x-unknown\r\n\r\nCaf\xe9 con leche\r\n")
    parsed = parse(raw)
    assert parsed.sender == "x@y.bo" and parsed.message_id == ""
    assert parsed.text == "Café con leche"  # not UTF-8: read as Windows-1252


# --- loops ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("header,value,reason", [
    ("Auto-Submitted", "auto-replied", "auto_submitted"),
    ("Auto-Submitted", "auto-generated", "auto_submitted"),
    ("Precedence", "bulk", "bulk"),
    ("Precedence", "list", "bulk"),
    ("Precedence", "junk", "bulk"),
    ("List-Unsubscribe", "<mailto:u@lista.bo>", "mailing_list"),
    ("List-Id", "Noticias <noticias.lista.bo>", "mailing_list"),
    ("X-Auto-Response-Suppress", "All", "response_suppressed"),
    ("X-Autoreply", "yes", "autoreply"),
    ("X-Autorespond", "Fuera de oficina", "autoreply"),
    ("Return-Path", "<>", "null_return_path"),
])
def test_automatic_mail_is_not_answered(header, value, reason):
    message = _mime(**{header.replace("-", "_"): value})
    message.set_content("Estoy fuera de la oficina.")
    assert loops.classify(parse(message.as_bytes()), own_addresses=OWN).reason == reason


@pytest.mark.parametrize("sender,reason", [
    ("MAILER-DAEMON@mx.empresa.bo", "bounce"), ("postmaster@empresa.bo", "bounce"),
    ("Comteco <empresas@comteco.bo>", "own_address"), ("Ana <contabilidad@empresa.bo>", ""),
])
def test_senders(sender, reason):
    message = _mime(sender=sender)
    message.set_content("hola")
    assert loops.classify(parse(message.as_bytes()), own_addresses=OWN).reason == reason


def test_auto_submitted_no_is_a_person():
    message = _mime(Auto_Submitted="no")
    message.set_content("hola")
    assert loops.classify(parse(message.as_bytes()), own_addresses=OWN).reason == ""


def test_a_bounce_names_our_message_and_a_delay_is_not_a_failure():
    failed = loops.classify(parse(letter("rebote.eml", original_id="<pv.7.1@comteco.bo>")), own_addresses=OWN)
    assert failed.bounce and failed.failed and failed.original_ids == ["<pv.7.1@comteco.bo>"]
    delayed = letter("rebote.eml", original_id="<pv.7.1@comteco.bo>").replace(b"Action: failed", b"Action: delayed")
    assert not loops.classify(parse(delayed), own_addresses=OWN).failed


# --- threading -----------------------------------------------------------------------------------
def test_subject_helpers():
    assert threads.clean_subject("RE: Fwd: RV: [PV-2026-000123] Detalle de llamadas") == "Detalle de llamadas"
    assert threads.case_tag("Re: Detalle [PV-2026-000123]") == "PV-2026-000123"
    assert threads.case_tag("Re: Detalle PV-2026-000123") is None


def test_thread_payload_keeps_the_root_and_the_parent():
    refs = [f"<{n}@x>" for n in range(20)]
    payload = threads.thread_payload(message_id="<new@x>", references=refs, subject="Re: Consulta")
    assert payload["in_reply_to"] == "<new@x>" and payload["subject"] == "Consulta"
    assert payload["references"][0] == "<0@x>" and payload["references"][-1] == "<new@x>"
    assert len(payload["references"]) == threads.MAX_REFERENCES
