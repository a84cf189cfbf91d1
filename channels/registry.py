"""Name -> adapter. The outbox only delivers rows whose channel is registered in this process."""
from __future__ import annotations

from channels.base import Channel


class ChannelRegistry:
    def __init__(self, *channels: Channel):
        self._channels: dict[str, Channel] = {}
        for channel in channels:
            self.register(channel)

    def register(self, channel: Channel) -> None:
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._channels)
