"""One worker delivering to a stand-in Twilio with 50 ms latency: sends in flight vs one at a time.

The fake Twilio REST server of tests/whatsapp/fake_twilio.py (real HTTP on 127.0.0.1, the real
twilio client) answers every Messages.json call after LATENCY seconds. N messages to C
conversations (WhatsApp window open) are delivered by `OutboxDeliverer.deliver_due`:
- baseline: OUTBOX_CONCURRENCY=1 (one send at a time, as before issue 16), not paced;
- real: OUTBOX_CONCURRENCY=8 and WHATSAPP_SEND_RATE=50 (Twilio's maximum for text);
- the same worker paced at 80 (Meta's Cloud API default) with 8 in flight, to show that 50 is the
  pacer's limit and not the worker's.
Reported: messages/s, the busiest second's calls (must stay <= the rate, +1 for a call on a
window's edge), every row sent once.

    .venv/bin/python bench/outbox_send.py [--messages 400] [--conversations 100] [--latency 0.05]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import migrate, outbox  # noqa: E402
from bot.app.wiring import build_runtime  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.models import Conversation, Outbox  # noqa: E402
from tests.whatsapp.conftest import ACCOUNT_SID, AUTH_TOKEN, make_settings  # noqa: E402
from tests.whatsapp.fake_twilio import FakeTwilio  # noqa: E402

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)


def run(folder: Path, twilio: FakeTwilio, *, messages: int, conversations: int, **settings) -> dict:
    url = f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    runtime = build_runtime(make_settings(url, folder / "documents", twilio.base_url, **settings),
                            clock=ManualClock(NOW))
    with runtime.sessions.begin() as session:
        rows = [Conversation(channel="whatsapp", address=f"+5917200{n:04d}", dialog="main", state="menu", data={},
                             mode="bot", last_inbound_at=NOW - timedelta(minutes=1), created_at=NOW, updated_at=NOW)
                for n in range(conversations)]
        session.add_all(rows)
        session.flush()
        for n in range(messages):
            outbox.enqueue(session, conversation=rows[n % conversations], body=f"mensaje {n}", now=NOW)
    before = len(twilio.sent())
    started = time.monotonic()
    report = runtime.deliverer.deliver_due()
    elapsed = time.monotonic() - started
    arrivals = sorted(r.at for r in twilio.sent()[before:])
    busiest = max(sum(1 for t in arrivals if s <= t < s + 1.0) for s in arrivals)
    with runtime.sessions() as session:
        statuses = {row.status for row in session.query(Outbox)}
    runtime.engine.dispose()
    return {"sent": report.sent, "calls": len(arrivals), "msg_s": report.sent / elapsed, "busiest": busiest,
            "statuses": statuses}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as twilio, tempfile.TemporaryDirectory() as tmp:
        twilio.latency = args.latency
        results = {}
        variants = (("one at a time (baseline)", {"outbox_concurrency": 1, "whatsapp_send_rate": 0}),
                    ("8 in flight, paced at 50/s", {"outbox_concurrency": 8, "whatsapp_send_rate": 50}),
                    ("8 in flight, paced at 80/s", {"outbox_concurrency": 8, "whatsapp_send_rate": 80}))
        for index, (name, settings) in enumerate(variants):
            folder = Path(tmp) / f"run{index}"
            folder.mkdir()
            results[name] = run(folder, twilio, messages=args.messages, conversations=args.conversations, **settings)
    print(f"{args.messages} messages to {args.conversations} conversations, Twilio stand-in latency "
          f"{args.latency * 1000:.0f} ms, SQLite, one worker")
    print("| delivery | sent | msg/s | busiest second (calls) | outbox rows |")
    print("|---|---:|---:|---:|---|")
    for name, r in results.items():
        print(f"| {name} | {r['sent']} | {r['msg_s']:.1f} | {r['busiest']} | {sorted(r['statuses'])} |")
    base, real, fast = results.values()
    print(f"ratio to one at a time: {real['msg_s'] / base['msg_s']:.2f}x at 50/s, {fast['msg_s'] / base['msg_s']:.2f}x at 80/s")
    ok = all(r["sent"] == r["calls"] == args.messages and r["statuses"] == {"sent"} for r in results.values())
    return 0 if ok and real["busiest"] <= 51 and fast["busiest"] <= 81 else 1


if __name__ == "__main__":
    raise SystemExit(main())
