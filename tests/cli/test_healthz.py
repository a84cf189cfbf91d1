"""/healthz reports the database it can or cannot reach."""
from __future__ import annotations

from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings


def test_healthz_ok_with_a_reachable_database(db):
    with TestClient(create_app(Settings(database_url=db.url))) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_healthz_503_when_the_database_is_down():
    settings = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")
