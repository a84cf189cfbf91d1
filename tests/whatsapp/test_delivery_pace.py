"""Delivery at the provider's limit (issue 16): one worker keeps several sends in flight (one
conversation per thread, its messages in order) and never goes above WHATSAPP_SEND_RATE."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from bot import outbox
from bot.models import Conversation, Outbox
from bot.pacing import Pacer


def _conversations(wa, count: int) -> list[int]:
    """`count` WhatsApp conversations whose clients wrote a minute ago (the 24-hour window is open)."""
    now = wa.clock.now()
    with wa.runtime.sessions.begin() as session:
        rows = [Conversation(channel="whatsapp", address=f"+5917100{n:04d}", dialog="main", state="menu", data={},
                             mode="bot", last_inbound_at=now - timedelta(minutes=1), created_at=now, updated_at=now)
                for n in range(count)]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def _enqueue(wa, conversation_ids: list[int], per_conversation: int) -> None:
    with wa.runtime.sessions.begin() as session:
        for n in range(per_conversation):
            for conversation_id in conversation_ids:
                outbox.enqueue(session, conversation=session.get(Conversation, conversation_id),
                               body=f"mensaje {n}", now=wa.clock.now())


def test_sends_overlap_the_provider_latency_and_keep_each_conversations_order(whatsapp_factory):
    wa = whatsapp_factory(outbox_concurrency=8, whatsapp_send_rate=0)  # not paced: latency only
    wa.twilio.latency = 0.1
    ids = _conversations(wa, 8)
    _enqueue(wa, ids, 3)  # 24 messages, 3 per conversation
    started = time.monotonic()
    report = wa.runtime.deliverer.deliver_due()
    elapsed = time.monotonic() - started
    assert report.sent == 24
    # One at a time that is 24 x 100 ms = 2.4 s; 8 in flight, about 3 x 100 ms.
    assert elapsed < 1.2, elapsed
    by_address: dict[str, list[str]] = {}
    for request in wa.twilio.sent():
        by_address.setdefault(request.value("To"), []).append(request.value("Body"))
    assert len(by_address) == 8
    assert all(bodies == ["mensaje 0", "mensaje 1", "mensaje 2"] for bodies in by_address.values()), by_address
    with wa.runtime.sessions() as session:
        assert {row.status for row in session.scalars(select(Outbox))} == {"sent"}


def test_never_above_the_configured_rate_even_with_many_threads(whatsapp_factory):
    wa = whatsapp_factory(outbox_concurrency=8, whatsapp_send_rate=20)
    ids = _conversations(wa, 30)
    _enqueue(wa, ids, 1)
    wa.runtime.deliverer.deliver_due()
    arrivals = sorted(r.at for r in wa.twilio.sent())
    assert len(arrivals) == 30
    # No second holds more than 20 calls (+1 for a call on the window's edge), and the 30 take ~1.5 s.
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert busiest <= 21, busiest
    assert arrivals[-1] - arrivals[0] >= 29 / 20 * 0.9


def test_the_pacer_spaces_calls_from_several_threads():
    import threading

    pacer = Pacer(50)
    stamps: list[float] = []
    lock = threading.Lock()

    def call():
        for _ in range(10):
            pacer.wait()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.sort()
    # 40 calls at 50 a second take 39 intervals of 20 ms however many threads ask at once.
    assert len(stamps) == 40 and stamps[-1] - stamps[0] >= 39 * 0.02 * 0.95


def test_media_are_paced_at_their_own_rate_and_text_is_not_held_by_them(whatsapp_factory):
    wa = whatsapp_factory(outbox_concurrency=8, whatsapp_send_rate=50, whatsapp_media_rate=4)
    ids = _conversations(wa, 10)
    with wa.runtime.sessions.begin() as session:
        for n, conversation_id in enumerate(ids):
            media = {"media_urls": [f"https://example.com/doc{n}.pdf"]} if n % 2 else {}
            # A media message is its text part, then the media part.
            outbox.enqueue(session, conversation=session.get(Conversation, conversation_id),
                           body=f"mensaje {n}", now=wa.clock.now(), payload=media)
    wa.runtime.deliverer.deliver_due()
    sent = wa.twilio.sent()
    media = sorted(r.at for r in sent if r.value("MediaUrl"))
    text = sorted(r.at for r in sent if not r.value("MediaUrl"))
    assert len(media) == 5 and len(text) == 10
    # Five media parts at 4 a second: at least 4 x 0.25 s between the first and the last ...
    gaps = [b - a for a, b in zip(media, media[1:])]
    assert min(gaps) >= 0.25 * 0.9, gaps
    # ... while the ten text parts, paced at 50 a second only, are all out well before that.
    assert text[-1] - text[0] < 0.6, text
