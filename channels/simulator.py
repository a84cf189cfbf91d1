"""The demo simulator's channels: `sim_whatsapp` (a WhatsApp-like web chat) and `sim_email` (an
email form) on /simulador, registered when DEMO_MODE is set.

They have names of their own rather than "whatsapp"/"email": a simulated conversation can never be
delivered to Twilio or SMTP by mistake once those channels are configured, and the back-office shows
where a message really came from. The back-office treats them like their real counterparts
(WhatsApp's 24-hour window, email threading).

Inbound, the simulator page hands an InboundMessage to Engine.handle like any webhook. Outbound,
the outbox worker calls `send()`; the message row is already stored, so delivering means marking
it delivered, and the simulator page shows delivered replies.
"""
from __future__ import annotations

from bot.messaging import OutboundMessage, SendResult
from bot.messaging import ChannelRegistry

SIMULATOR_CHANNELS = ("sim_whatsapp", "sim_email")


class SimulatorChannel:
    def __init__(self, name: str):
        self.name = name

    def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(external_id=f"{self.name}-out-{message.message_id}", status="delivered")


def register_simulators(registry: ChannelRegistry) -> None:
    for name in SIMULATOR_CHANNELS:
        if registry.get(name) is None:
            registry.register(SimulatorChannel(name))
