"""SLA due times: business hours on the configured wall clock (Asia/Shanghai, Mon-Fri 09-18)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from server.errors import Invalid
from server.jobs.sla import add_business_hours, due_times
from server.settings import ConfigError, Settings, load_settings

SH = ZoneInfo("Asia/Shanghai")
S = load_settings(environ={})


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


# 2026-11-20 is a Friday; 2026-11-23 a Monday.
@pytest.mark.parametrize(
    ("received", "urgency", "response", "resolution"),
    [
        # Friday 17:30, critical (2/8): half an hour on Friday, the rest on Monday.
        (
            local(2026, 11, 20, 17, 30),
            "critical",
            local(2026, 11, 23, 10, 30),
            local(2026, 11, 23, 16, 30),
        ),
        # Tuesday 20:00, high (4/16): clocks start Wednesday 09:00.
        (local(2026, 11, 17, 20), "high", local(2026, 11, 18, 13), local(2026, 11, 19, 16)),
        # Saturday, normal (8/40): starts Monday 09:00; 40 h = four days plus four hours.
        (local(2026, 11, 21, 10), "normal", local(2026, 11, 23, 17), local(2026, 11, 27, 13)),
        # Before opening on Monday.
        (local(2026, 11, 23, 7), "critical", local(2026, 11, 23, 11), local(2026, 11, 23, 17)),
        # Low (24/80) from Monday 09:00 crosses a weekend twice.
        (local(2026, 11, 23, 9), "low", local(2026, 11, 25, 15), local(2026, 12, 3, 17)),
        # Exactly at closing time counts as after hours.
        (local(2026, 11, 23, 18), "critical", local(2026, 11, 24, 11), local(2026, 11, 24, 17)),
    ],
)
def test_due_times(
    received: datetime, urgency: str, response: datetime, resolution: datetime
) -> None:
    got = due_times(received.astimezone(UTC), urgency, S)
    assert got == (response.astimezone(UTC), resolution.astimezone(UTC))
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in got)


def test_due_time_landing_on_closing_stays_that_day() -> None:
    start = local(2026, 11, 23, 9)
    assert add_business_hours(start, 9, S) == local(2026, 11, 23, 18)
    assert add_business_hours(start, 45, S) == local(2026, 11, 27, 18)
    # 99 h = 11 business days: the whole-week jump must not overshoot to the next opening.
    assert add_business_hours(start, 99, S) == local(2026, 12, 7, 18)


def test_naive_input_is_utc_and_zero_hours_waits_for_opening() -> None:
    naive = datetime(2026, 11, 21, 2, 0)  # Saturday 10:00 in Shanghai
    assert add_business_hours(naive, 0, S) == local(2026, 11, 23, 9)


def test_custom_calendar_and_timezone() -> None:
    s = load_settings(
        environ={},
        timezone="Europe/Berlin",
        business_start="08:00:00",
        business_end="12:00:00",
        business_days="1,3",
        sla_hours="critical=1/6,high=4/16,normal=8/40,low=24/80",
    )
    berlin = ZoneInfo("Europe/Berlin")
    received = datetime(2026, 11, 23, 11, 30, tzinfo=berlin)  # Monday
    response, resolution = due_times(received, "critical", s)
    assert response == datetime(2026, 11, 25, 8, 30, tzinfo=berlin)  # then Wednesday
    assert resolution == datetime(2026, 11, 30, 9, 30, tzinfo=berlin)  # .5 + 4 + 1.5


def test_unknown_urgency_and_bad_calendar() -> None:
    with pytest.raises(Invalid) as info:
        due_times(datetime.now(UTC), "urgent", S)
    assert info.value.field == "urgency"
    broken = Settings(business_start=time(18), business_end=time(9))
    with pytest.raises(ConfigError):
        add_business_hours(datetime.now(UTC), 1, broken)


def _stepper(start: datetime, hours: float) -> datetime:
    """Reference: walk in 15-minute steps, counting only steps inside business hours."""
    step = timedelta(minutes=15)
    t = start.astimezone(SH)
    left = round(hours * 4)

    def open_at(x: datetime) -> bool:
        return x.isoweekday() <= 5 and time(9) <= x.time() < time(18)

    while not open_at(t):
        t += step
    while left:
        if open_at(t):
            left -= 1
        t += step
        if left:
            while not open_at(t):
                t += step
    return t


@hsettings(max_examples=60, deadline=None)
@given(
    offset=st.integers(min_value=0, max_value=14 * 24 * 4),
    quarters=st.integers(min_value=1, max_value=120 * 4),
)
def test_matches_a_naive_stepper(offset: int, quarters: int) -> None:
    start = local(2026, 11, 16, 0) + timedelta(minutes=15 * offset)
    assert add_business_hours(start, quarters / 4, S) == _stepper(start, quarters / 4)
