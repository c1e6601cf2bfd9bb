"""SLA clocks: when a service request must be responded to and resolved.

Rules that must stay true:

- The targets are *business* hours (``settings.sla_targets()``: urgency -> (response, resolution)),
  counted only inside the business window ``business_start``-``business_end`` on the ISO weekdays
  of ``settings.weekdays()``, on the wall clock of ``settings.timezone``. A request received
  outside business hours starts its clocks at the next business opening.
- A due time that lands exactly on closing time stays on that day (18:00, not 09:00 next day).
- Both clocks start at the same moment, so resolution due is never before response due.
- Inputs and outputs are UTC instants; naive datetimes are taken as UTC, because that is how the
  database stores every timestamp.
- Public holidays are not modelled (yet): a configurable calendar would slot into ``_window``.

Wall-clock arithmetic is deliberate: a 09:00-18:00 day is 9 business hours even on a day with a DST
change (which happens at night, outside business hours).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.errors import Invalid
from server.settings import ConfigError, Settings


def due_times(received_at: datetime, urgency: str, settings: Settings) -> tuple[datetime, datetime]:
    """(response due, resolution due) in UTC for a request received at ``received_at``."""
    targets = settings.sla_targets()
    if urgency not in targets:
        raise Invalid(f"unknown urgency {urgency!r}", field="urgency")
    respond_hours, resolve_hours = targets[urgency]
    return (
        add_business_hours(received_at, respond_hours, settings),
        add_business_hours(received_at, resolve_hours, settings),
    )


def add_business_hours(start: datetime, hours: float, settings: Settings) -> datetime:
    """The UTC instant ``hours`` business hours after ``start``."""
    if not math.isfinite(hours) or hours < 0:
        raise ConfigError(f"SLA hours must be a finite, non-negative number, not {hours}")
    if settings.business_end <= settings.business_start:
        raise ConfigError("FIELDSYNC_BUSINESS_END must be after FIELDSYNC_BUSINESS_START")
    tz = ZoneInfo(settings.timezone)
    weekdays = settings.weekdays()
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    cursor = start.astimezone(tz)
    remaining = timedelta(hours=hours)
    # Whole weeks first, so long targets cost a few loop turns instead of one per day.
    week = _week_length(settings, weekdays)
    day = cursor.date()
    while True:
        opens, closes = _window(day, settings, tz)
        if day.isoweekday() in weekdays and cursor < closes:
            cursor = max(cursor, opens)
            if remaining <= closes - cursor:
                return (cursor + remaining).astimezone(UTC)
            remaining -= closes - cursor
            if remaining > week:
                # The next 7 days hold exactly one business week, wherever they start.
                weeks = int(remaining / week)
                if remaining == weeks * week:
                    weeks -= 1  # keep the last week for the loop so 18:00 stays 18:00
                remaining -= weeks * week
                day += timedelta(days=7 * weeks)
        day += timedelta(days=1)
        cursor = datetime.combine(day, settings.business_start, tzinfo=tz)


def _window(day: date, settings: Settings, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, settings.business_start, tzinfo=tz),
        datetime.combine(day, settings.business_end, tzinfo=tz),
    )


def _week_length(settings: Settings, weekdays: frozenset[int]) -> timedelta:
    ref = date(2000, 1, 3)  # any date: the window length is the same every day on the wall clock
    day_start = datetime.combine(ref, settings.business_start)
    day_end = datetime.combine(ref, settings.business_end)
    return (day_end - day_start) * len(weekdays)
