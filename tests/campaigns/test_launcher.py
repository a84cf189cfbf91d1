"""The campaign framework's bookkeeping: the audience is added once however often it is asked
for, the preview stores nothing, and a client without any channel is previewed as nothing."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.campaigns import launcher
from bot.models import CampaignTarget, Client, Message, Product
from bot.settings import Settings

NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
EL_VALLE = "1020304021"


def _campaign(session):
    return launcher.create(session, kind="fidelizacion", name="Lista", audience="lista", options={},
                           staff_id=None, now=NOW)


def test_targets_are_added_once_with_or_without_a_product(demo):
    with demo.sessions.begin() as session:
        campaign = _campaign(session)
        client_id = session.scalar(select(Client.id).where(Client.nit == EL_VALLE))
        product_id = session.scalar(select(Product.id).where(Product.contract == "300104"))
        rows = [{"client_id": client_id}, {"client_id": client_id, "product_id": product_id, "opportunity": "fibra"}]
        assert launcher.add_targets(session, campaign, rows) == 2
        # Again, and the same client twice in one call: NULL products are not stopped by UNIQUE.
        assert launcher.add_targets(session, campaign, [*rows, {"client_id": client_id}]) == 0
        count = session.scalar(select(func.count()).select_from(CampaignTarget)
                               .where(CampaignTarget.campaign_id == campaign.id))
        assert count == 2


def test_the_preview_renders_per_channel_and_stores_nothing(demo):
    settings = Settings(database_url=demo.url)
    with demo.sessions.begin() as session:
        campaign = _campaign(session)
        client = session.scalars(select(Client).where(Client.nit == EL_VALLE)).one()
        preview = dict(launcher.preview(session, settings=settings, campaign=campaign, client_id=client.id))
        assert set(preview) == {"whatsapp", "email"}
        assert "Importadora El Valle S.R.L." in preview["whatsapp"] and "funcionan bien" in preview["email"]
        client.whatsapp, client.email = "", ""
        session.flush()
        # Only a contact's email is left: the email preview, as the send would use it.
        assert [channel for channel, _ in launcher.preview(session, settings=settings, campaign=campaign,
                                                           client_id=client.id)] == ["email"]
        session.flush()
        assert session.scalar(select(func.count()).select_from(CampaignTarget)) == 0
        assert session.scalar(select(func.count()).select_from(Message)) == 0
