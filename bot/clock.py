"""Time is injected, so tests and `--today` runs are reproducible without sleeping."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("America/La_Paz")


def as_utc(moment: datetime) -> datetime:
    """Every stored time is written in UTC; SQLite hands timezone-aware columns back naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(LOCAL_TZ).date()


class FixedDateClock(Clock):
    """A given local date; the time of day still advances so message order stays real."""

    def __init__(self, today: date, start: time = time(9, 0)):
        self._base = datetime.combine(today, start, LOCAL_TZ).astimezone(UTC)
        self._started = datetime.now(UTC)

    def now(self) -> datetime:
        return self._base + (datetime.now(UTC) - self._started)


class ManualClock(Clock):
    """Moves only when told to: for tests of timers and deadlines."""

    def __init__(self, start: datetime):
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta) -> None:
        self._now += timedelta(**delta)
