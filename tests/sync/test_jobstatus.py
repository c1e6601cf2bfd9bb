"""The job status state machine, checked cell by cell against its table."""

from __future__ import annotations

import pytest

from sync.errors import Rejected
from sync.jobstatus import STATUSES, TRANSITIONS, transition
from sync.operations import JobTarget

TARGETS = JobTarget.__args__  # type: ignore[attr-defined]
ALLOWED = {
    ("assigned", "en_route"), ("assigned", "on_site"),
    ("en_route", "on_site"),
    ("on_site", "work_started"), ("on_site", "needs_parts"), ("on_site", "escalated"),
    ("work_started", "completed"), ("work_started", "needs_parts"), ("work_started", "escalated"),
    ("needs_parts", "en_route"), ("needs_parts", "on_site"), ("needs_parts", "work_started"),
    ("needs_parts", "escalated"),
    ("escalated", "en_route"), ("escalated", "on_site"), ("escalated", "work_started"),
}  # fmt: skip


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("to", TARGETS)
def test_every_cell(current: str, to: str) -> None:
    if to == current:
        assert transition(current, current, to) is False
    elif (current, to) in ALLOWED:
        assert transition(current, current, to) is True
    else:
        with pytest.raises(Rejected) as caught:
            transition(current, current, to)
        assert caught.value.code == "invalid_transition" and caught.value.flags == ()


def test_table_matches_the_spec() -> None:
    assert {(f, t) for f, ts in TRANSITIONS.items() for t in ts} == ALLOWED
    assert set(TARGETS) <= set(STATUSES)


def test_stale_base_is_a_visible_conflict() -> None:
    with pytest.raises(Rejected) as caught:
        transition("escalated", "on_site", "work_started")
    assert caught.value.code == "stale_transition"
    assert caught.value.flags == ("conflict",) and caught.value.result == {"status": "escalated"}


def test_already_there_wins_over_a_stale_base() -> None:
    assert transition("en_route", "assigned", "en_route") is False


def test_statuses_outside_the_table_allow_no_move() -> None:
    with pytest.raises(Rejected, match="cancelled"):
        transition("cancelled", "cancelled", "en_route")
