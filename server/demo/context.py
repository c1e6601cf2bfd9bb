"""The generator's shared state: the seeded random source, the clock and the human numbers.

Everything that varies comes from ``rng``; everything time-shaped comes from ``today``. Ids are
UUIDv7-shaped like the models' own defaults (time-ordered by the row's creation time) but their
random bits come from ``rng``, so two runs with the same ``today`` write identical rows.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from server.settings import Settings

SEED = "fieldsync-demo-v1"
HISTORY_DAYS = 90
# "Now" in the demo world: today at 09:30 local, when the first visits of the day are under way.
NOW_HOUR = 9.5
_RAND_B = (1 << 62) - 1


class Context:
    def __init__(self, today: date, settings: Settings) -> None:
        self.today = today
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone)
        self.business_days = settings.weekdays()
        self.rng = random.Random(SEED)  # noqa: S311 - reproducible on purpose, not secret
        self.now = self.at(today, NOW_HOUR)
        self.start = today - timedelta(days=HISTORY_DAYS)
        self._numbers: dict[str, int] = {}
        self._counters: dict[str, int] = {}

    def reseed(self, part: str) -> None:
        """Give one independent part of the data set (a shard, the catalogue) its own stream."""
        self.rng = random.Random(f"{SEED}:{part}")  # noqa: S311

    def uuid(self, at: datetime) -> UUID:
        ms = int(at.timestamp() * 1000)
        bits = self.rng.getrandbits(74)
        return UUID(int=(ms << 80) | (7 << 76) | ((bits >> 62) << 64) | (2 << 62) | bits & _RAND_B)

    def at(self, day: date, hour: float) -> datetime:
        """``hour`` o'clock local time on ``day`` (to the minute), as an aware UTC datetime."""
        local = datetime.combine(day, time(), tzinfo=self.tz) + timedelta(minutes=round(hour * 60))
        return local.astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def is_business_day(self, day: date) -> bool:
        return day.isoweekday() in self.business_days

    def next_business_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def number(self, prefix: str, moment: datetime) -> str:
        """``SR-20261123-0001``: prefix, local date, a counter per prefix and date."""
        key = f"{prefix}-{self.local_date(moment):%Y%m%d}"
        n = self._numbers.get(key, 0) + 1
        self._numbers[key] = n
        return f"{key}-{n:04d}"

    def count(self, name: str) -> int:
        """A run-wide counter (serials, tracking numbers, van codes): 1, 2, 3…"""
        n = self._counters.get(name, 0) + 1
        self._counters[name] = n
        return n

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(seconds=round(self.rng.uniform(low, high) * 60))

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(seconds=round(self.rng.uniform(low, high) * 3600))

    def between(self, start: datetime, end: datetime, low: float, high: float) -> datetime:
        """A moment a random fraction in [low, high] of the way from ``start`` to ``end``."""
        span = (end - start).total_seconds() * self.rng.uniform(low, high)
        return start + timedelta(seconds=round(span))

    def received(self, event_at: datetime) -> datetime:
        """When the server got a device's event: seconds later online, hours later offline."""
        delay = self.minutes(5, 240) if self.rng.random() < 0.15 else self.minutes(0.02, 0.35)
        return max(event_at, min(event_at + delay, self.now))
