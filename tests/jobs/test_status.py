"""The job state machine: the table of moves, and refusals as the right errors."""

from __future__ import annotations

import pytest

from server.errors import Forbidden, Invalid
from server.jobs.status import (
    ACTIVE,
    CLOSED,
    OPEN,
    STATUSES,
    TransitionRefused,
    allowed,
    transition,
)

ENGINEER_MOVES = {
    ("assigned", "en_route"),
    ("en_route", "on_site"),
    ("on_site", "work_started"),
    ("work_started", "completed"),
    ("on_site", "needs_parts"),
    ("on_site", "escalated"),
    ("work_started", "needs_parts"),
    ("work_started", "escalated"),
    ("needs_parts", "en_route"),
    ("needs_parts", "on_site"),
    ("needs_parts", "work_started"),
    ("assigned", "on_site"),  # forgot to tap "en route"
    ("needs_parts", "escalated"),
    ("escalated", "en_route"),
    ("escalated", "on_site"),
    ("escalated", "work_started"),
}
DISPATCHER_MOVES = {
    ("new", "assigned"),
    ("assigned", "assigned"),
    ("needs_parts", "assigned"),
    ("escalated", "assigned"),
} | {(s, "cancelled") for s in OPEN}


@pytest.mark.parametrize("role", ["engineer", "dispatcher", "admin"])
def test_exactly_the_listed_moves_are_allowed(role: str) -> None:
    expected = ENGINEER_MOVES if role == "engineer" else DISPATCHER_MOVES
    for current in STATUSES:
        for target in STATUSES:
            if (current, target) in expected:
                transition(current, target, role)
                assert target in allowed(current, role)
            else:
                with pytest.raises(TransitionRefused) as info:
                    transition(current, target, role)
                assert info.value.status == 409
                assert info.value.extra == {"current": current, "target": target}


def test_closed_is_final_and_sets_partition() -> None:
    assert {"completed", "cancelled"} == CLOSED
    assert set(STATUSES) == OPEN | CLOSED and not OPEN & CLOSED
    assert "new" not in ACTIVE and ACTIVE < OPEN
    for role in ("engineer", "dispatcher", "admin"):
        for status in CLOSED:
            assert allowed(status, role) == frozenset()


def test_other_roles_and_unknown_statuses() -> None:
    for role in ("logistics", "manager", "customer"):
        with pytest.raises(Forbidden):
            transition("new", "assigned", role)
        assert allowed("new", role) == frozenset()
    with pytest.raises(Invalid) as info:
        transition("assigned", "teleported", "engineer")
    assert info.value.field == "status"
    with pytest.raises(TransitionRefused):
        transition("teleported", "assigned", "dispatcher")
