"""Two messages of one conversation at the same time are applied one after the other."""
from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from bot.engine import Engine
from dialogs.registry import dialogs
from bot.models import Conversation, Message
from bot.portfolio.records import DatabaseRecords
from bot.settings import Settings
from bot.messaging import InboundMessage


class SlowRecords(DatabaseRecords):
    """The real records, slowed down inside the transaction to widen any race window."""

    def client_by_nit(self, nit):
        time.sleep(0.3)
        return super().client_by_nit(nit)


def test_concurrent_messages_of_one_conversation_are_serialised(portfolio, clock):
    engine = Engine(portfolio.sessions, settings=Settings(database_url=portfolio.url), clock=clock, dialogs=dialogs(),
                    records_factory=SlowRecords)
    address = "+59178888888"
    engine.handle(InboundMessage("console", address, "Hola", "c-0"))  # -> ask_nit
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def wrong_nit(n: int) -> None:
        try:
            barrier.wait()
            engine.handle(InboundMessage("console", address, f"NIT 99999999{n}0", f"c-{n}"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=wrong_nit, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    with portfolio.sessions() as session:
        conv = session.scalars(select(Conversation).where(Conversation.address == address)).one()
        inbound = session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
    # Both failed tries count: a lost update would leave 1.
    assert conv.data["id_failures"] == 2
    assert inbound == 3
