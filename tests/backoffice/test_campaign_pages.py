"""Campaign pages: create (CSRF, roles), preview the real message for a chosen client without
sending anything, launch once, follow the progress and the per-ejecutivo results (CSV escaped)."""
from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select, update

from bot.models import Campaign, CampaignSend, CampaignTarget, Client, Job, Message, Outbox, Staff
from tests.backoffice.support import staff_id

EL_VALLE = "1020304021"  # mrojas, WhatsApp +59170000001, email gerencia@empresa.bo
LOS_OLIVOS = "1031122019"  # mrojas
TUNARI = "1029384017"  # lvargas
MROJAS_CLIENTS = 5  # bot/demo/cartera/README.md


def _create(client, **fields):
    data = {"name": "Fidelización diciembre", "kind": "fidelizacion", "audience": "cartera", **fields}
    response = client.post("/backoffice/campanas/nueva", data)
    assert response.status_code == 303, response.text
    return int(re.fullmatch(r"/backoffice/campanas/(\d+)", response.headers["location"]).group(1))


def _count(db, model) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def _campaign(db, campaign_id) -> Campaign:
    with db.sessions() as session:
        return session.get(Campaign, campaign_id)


def test_the_responsable_creates_previews_and_launches_a_cartera_campaign(staff, login):
    responsable = login("responsable")
    campaign_id = _create(responsable, ejecutivo_id=str(staff_id(staff, "mrojas")))
    campaign = _campaign(staff, campaign_id)
    assert (campaign.status, campaign.audience, campaign.options) == \
        ("borrador", "cartera", {"ejecutivo_id": staff_id(staff, "mrojas")})

    # The preview renders the real messages for the first client of the cartera, then a chosen one.
    page = responsable.get(f"/backoffice/campanas/{campaign_id}")
    assert page.status_code == 200
    assert "Importadora El Valle S.R.L." in page.text and "funcionan bien" in page.text
    assert "Lanzar campaña" in page.text
    page = responsable.get(f"/backoffice/campanas/{campaign_id}", params={"nit": LOS_OLIVOS})
    assert re.search(r'class="preview-client">Clínica Los Olivos', page.text)
    assert page.text.count('class="campaign-preview"') == 2  # WhatsApp and email
    assert page.text.count("Estimado cliente Clínica Los Olivos S.R.L.") == 2
    # ... and sends or stores nothing.
    assert [_count(staff, m) for m in (Message, Outbox, CampaignSend, CampaignTarget, Job)] == [0, 0, 0, 0, 0]

    response = responsable.post(f"/backoffice/campanas/{campaign_id}/lanzar")
    assert response.status_code == 303 and "ok=campaign_launched" in response.headers["location"]
    assert _campaign(staff, campaign_id).status == "lanzada"
    assert _count(staff, CampaignTarget) == MROJAS_CLIENTS
    with staff.sessions() as session:
        [job] = session.scalars(select(Job))
    assert (job.kind, job.payload, job.dedupe_key) == \
        ("campaign_send", {"campaign_id": campaign_id}, f"campaign:{campaign_id}:launch")

    # A second launch is refused and schedules nothing.
    response = responsable.post(f"/backoffice/campanas/{campaign_id}/lanzar")
    assert "error=campaign_not_draft" in response.headers["location"]
    assert _count(staff, Job) == 1 and _count(staff, CampaignTarget) == MROJAS_CLIENTS
    page = responsable.get(response.headers["location"]).text
    assert "La campaña ya fue lanzada." in page
    # The send job is visible on the campaign page, pending until the worker runs it.
    assert re.search(rf"<td>Envío de la campaña n.º {campaign_id}</td><td>Pendiente</td>", page)  # in words


def test_launching_without_the_csrf_token_is_refused(staff, login):
    responsable = login("responsable")
    assert responsable.post("/backoffice/campanas/nueva", {"name": "x", "audience": "cartera"},
                            csrf=False).status_code == 403
    assert _count(staff, Campaign) == 0
    campaign_id = _create(responsable)
    assert responsable.post(f"/backoffice/campanas/{campaign_id}/lanzar", csrf=False).status_code == 403
    assert _campaign(staff, campaign_id).status == "borrador" and _count(staff, Job) == 0


def test_an_ejecutiva_campaigns_over_her_own_cartera_only(staff, login):
    mrojas = login("mrojas")
    # Asking for another ejecutivo's cartera still gives her own.
    campaign_id = _create(mrojas, ejecutivo_id=str(staff_id(staff, "lvargas")))
    assert _campaign(staff, campaign_id).options == {"ejecutivo_id": staff_id(staff, "mrojas")}
    # A list keeps only her clients' NITs.
    list_id = _create(mrojas, audience="lista", nits=f"{EL_VALLE}\n{TUNARI}, 12345678")
    with staff.sessions() as session:
        listed = session.scalars(select(Client.nit).join(CampaignTarget, CampaignTarget.client_id == Client.id)
                                 .where(CampaignTarget.campaign_id == list_id)).all()
    assert listed == [EL_VALLE]
    # She previews with her clients only: another's NIT falls back to her list's client.
    page = mrojas.get(f"/backoffice/campanas/{list_id}", params={"nit": TUNARI})
    assert "Constructora Tunari" not in page.text and "Importadora El Valle" in page.text

    # Another ejecutiva neither sees nor launches it; the gestores have no campaign pages.
    lvargas = login("lvargas")
    assert lvargas.get(f"/backoffice/campanas/{campaign_id}").status_code == 403
    assert lvargas.post(f"/backoffice/campanas/{campaign_id}/lanzar").status_code == 403
    assert _campaign(staff, campaign_id).status == "borrador"
    assert "Fidelización diciembre" not in lvargas.get("/backoffice/campanas").text
    assert login("gtecnico").get("/backoffice/campanas/nueva").status_code == 403

    assert mrojas.post(f"/backoffice/campanas/{campaign_id}/lanzar").status_code == 303
    assert _campaign(staff, campaign_id).status == "lanzada"
    assert _count(staff, CampaignTarget) == MROJAS_CLIENTS + 1


def test_a_list_without_known_nits_is_not_created(staff, login):
    response = login("responsable").post("/backoffice/campanas/nueva",
                                          {"name": "Lista", "kind": "fidelizacion", "audience": "lista",
                                           "nits": "99999999"})
    assert "error=campaign_no_clients" in response.headers["location"]
    assert _count(staff, Campaign) == 0


def test_progress_and_the_per_ejecutivo_report_with_its_csv(staff, login, runtime):
    with staff.sessions.begin() as session:  # a name a spreadsheet would run as a formula
        session.execute(update(Staff).where(Staff.username == "mrojas").values(full_name="=HYPERLINK(1)"))
    responsable = login("responsable")
    campaign_id = _create(responsable, ejecutivo_id=str(staff_id(staff, "mrojas")))
    responsable.post(f"/backoffice/campanas/{campaign_id}/lanzar")
    runtime.worker.run_once()  # the scheduler sends through the recording channels
    with staff.sessions.begin() as session:
        el_valle = session.scalar(select(Client.id).where(Client.nit == EL_VALLE))
        session.execute(update(CampaignTarget).where(CampaignTarget.client_id == el_valle)
                        .values(status="respondido", outcome="ok"))

    page = responsable.get(f"/backoffice/campanas/{campaign_id}")
    assert "Envío terminado" in page.text
    assert re.search(r'data-status="enviado">4<', page.text) and re.search(r'data-status="respondido">1<', page.text)
    assert re.search(r'data-outcome="ok">1<', page.text)
    # Queued vs sent (issue 15): the counts follow each message's delivery status.
    delivery = {k: int(v) for k, v in re.findall(r'data-delivery="([a-z_]+:[a-z]+)">(\d+)<', page.text)}
    assert delivery and set(k.split(":")[1] for k in delivery) == {"sent"}
    with staff.sessions.begin() as session:
        first, second = session.scalars(select(CampaignSend.message_id).where(CampaignSend.campaign_id == campaign_id)
                                        .where(CampaignSend.message_id.is_not(None)).order_by(CampaignSend.id).limit(2))
        session.execute(update(Message).where(Message.id == first).values(status="delivered"))
        session.execute(update(Message).where(Message.id == second).values(status="pending"))
    stages = [k.split(":")[1] for k, v in re.findall(
        r'data-delivery="([a-z_]+:[a-z]+)">(\d+)<', responsable.get(f"/backoffice/campanas/{campaign_id}").text)
        for _ in range(int(v))]
    assert sorted(stages) == sorted(["delivered", "queued"] + ["sent"] * (sum(delivery.values()) - 2))

    response = responsable.get(f"/backoffice/campanas/{campaign_id}/informe.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:5] == ["Ejecutivo(a)", "Clientes", "Contactados", "Respondieron", "Servicios en orden"]
    # mrojas: 5 clients, all reached, 1 answered "todo bien", 4 without answer.
    assert rows[1] == ["'=HYPERLINK(1)", "5", "5", "1", "1", "0", "0", "0", "0", "4", "0", "0"]
    assert rows[2][0] == "Total" and rows[2][1:] == rows[1][1:]


def test_in_demo_mode_a_campaign_reaches_the_simulator_and_its_answer_comes_back(staff, clock, tmp_path):
    # Issue 15: with DEMO_MODE and no Twilio/SMTP, campaign messages waited in the outbox forever.
    from backoffice import simulator
    from backoffice.app import mount
    from bot.app.wiring import build_runtime
    from bot.messaging import ChannelRegistry
    from bot.settings import Settings
    from fastapi import FastAPI
    from tests.backoffice.support import StaffClient

    settings = Settings(database_url=staff.url, demo_mode=True, secret_key="test-secret-" + "k" * 40,
                        documents_dir=tmp_path / "documents")
    runtime = build_runtime(settings, clock=clock, channels=ChannelRegistry())
    try:
        app = FastAPI()
        app.state.runtime = runtime
        mount(app, runtime)
        responsable = StaffClient(app)
        responsable.login("responsable")
        campaign_id = _create(responsable, ejecutivo_id=str(staff_id(staff, "mrojas")))
        responsable.post(f"/backoffice/campanas/{campaign_id}/lanzar")
        runtime.worker.run_once()
        with staff.sessions() as session:
            whatsapp = session.scalar(select(Client.whatsapp).where(Client.nit == EL_VALLE))
            chat = simulator.history(session, kind="whatsapp", address=whatsapp)
            assert session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending")) == 0
        assert [m["direction"] for m in chat] == ["out"] and "funcionan bien" in chat[0]["body"]
        # The client answers in the simulator: the campaign's dialog reads it.
        simulator.send(runtime.conversations, kind="whatsapp", address=whatsapp, body="sí, todo bien")
        with staff.sessions() as session:
            el_valle = session.scalar(select(Client.id).where(Client.nit == EL_VALLE))
            target = session.scalars(select(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id,
                                                                  CampaignTarget.client_id == el_valle)).one()
        assert (target.status, target.outcome) == ("respondido", "ok")
        page = responsable.get(f"/backoffice/campanas/{campaign_id}").text
        assert re.search(r'data-delivery="sim_whatsapp:delivered">\d+<', page)
    finally:
        runtime.engine.dispose()
