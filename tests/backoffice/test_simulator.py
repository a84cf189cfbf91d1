"""The demo simulator: the same engine as a webhook, replies only once the outbox delivered them."""
from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from backoffice.app import mount
from bot.models import Conversation
from bot.app.wiring import build_runtime
from bot.settings import Settings
from channels.simulator import SimulatorChannel


def simulator(app):
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/simulador/").text).group(1)
    return client, token


def test_runtime_registers_the_simulator_channels_only_in_demo_mode(staff, tmp_path):
    demo = build_runtime(Settings(database_url=staff.url, demo_mode=True, documents_dir=tmp_path))
    real = build_runtime(Settings(database_url=staff.url, demo_mode=False, documents_dir=tmp_path))
    try:
        assert isinstance(demo.channels.get("sim_whatsapp"), SimulatorChannel)
        assert isinstance(demo.channels.get("sim_email"), SimulatorChannel)
        assert real.channels.get("sim_whatsapp") is None
    finally:
        demo.engine.dispose()
        real.engine.dispose()


def test_simulator_is_absent_without_demo_mode(staff, tmp_path):
    runtime = build_runtime(Settings(database_url=staff.url, demo_mode=False, secret_key="k" * 40,
                                     documents_dir=tmp_path))
    app = FastAPI()
    mount(app, runtime)
    try:
        assert TestClient(app).get("/simulador/").status_code == 404
    finally:
        runtime.engine.dispose()


def test_a_simulated_client_talks_to_the_bot_through_the_outbox(staff, app, runtime):
    client, token = simulator(app)
    response = client.post("/simulador/enviar", data={"canal": "whatsapp", "direccion": "70000001",
                                                      "texto": "Hola", "csrf_token": token})
    assert response.status_code == 200
    with staff.sessions() as session:
        conversation = session.scalars(select(Conversation)).one()
    assert (conversation.channel, conversation.address) == ("sim_whatsapp", "+59170000001")
    history = client.get("/simulador/mensajes", params={"canal": "whatsapp", "direccion": "+59170000001"}).json()
    assert [m["direction"] for m in history["messages"]] == ["in"]  # the reply is still in the outbox
    runtime.deliverer.deliver_due()
    history = client.get("/simulador/mensajes", params={"canal": "whatsapp", "direccion": "+59170000001"}).json()
    assert [m["direction"] for m in history["messages"]] == ["in", "out"]
    assert "Importadora El Valle" in history["messages"][1]["body"]


def test_simulated_email_with_an_attachment(staff, app, runtime):
    client, token = simulator(app)
    response = client.post("/simulador/enviar", data={
        "canal": "email", "direccion": "contabilidad@empresa.bo", "asunto": "Carta", "texto": "Adjunto la carta",
        "csrf_token": token}, files={"archivo": ("carta firmada.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert response.status_code == 200
    history = client.get("/simulador/mensajes", params={"canal": "email", "direccion": "contabilidad@empresa.bo"})
    assert history.json()["messages"][0]["files"] == ["carta firmada.pdf"]


def test_simulator_refuses_posts_without_its_csrf_token(app):
    client, _ = simulator(app)
    response = client.post("/simulador/enviar", data={"canal": "whatsapp", "direccion": "+59170000001",
                                                      "texto": "Hola", "csrf_token": "forged"})
    assert response.status_code == 403
