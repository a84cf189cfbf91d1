"""H) Retiro: defects of issue 13 (part 7), each test through the console channel.

Today is 2026-11-28. Expected amounts are worked out by hand from the demo portfolio
(bot/demo/cartera/productos.csv) and the rules (penalty.yaml, tariffs.yaml `removal`).
"""
from __future__ import annotations

TIQUIPAYA = "+59171722002"  # multipack 300201/4316100, line 300202/4316101, 300204/4316103 retirado


def test_a_retired_line_is_said_to_be_retired_not_foreign_to_the_tramite(chat):
    client = chat(TIQUIPAYA)
    reply = client.say("quiero dar de baja la línea 4316103 porque ya no la usamos")
    assert "4316103" in reply and "retirad" in reply
    assert "no corresponde a este trámite" not in reply
    assert "1. Multipack 4316100" in reply  # the products that can be retired are offered
    assert client.cases() == []
