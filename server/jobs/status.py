"""The job (work order) state machine, as data.

Rules:

- Statuses: ``new`` (created, nobody assigned), ``assigned``, ``en_route``, ``on_site``,
  ``work_started``, ``needs_parts``, ``escalated``, ``completed``, ``cancelled``.
- ``completed`` and ``cancelled`` are closed: nothing ever leaves them. Every other status is open.
- The engineer drives the visit: assigned -> en_route -> on_site -> work_started -> completed;
  from on_site or work_started they may stop with needs_parts or escalated; from needs_parts or
  escalated they resume with en_route, on_site or work_started (parts came, help arrived). The
  engineer's table is part of the sync protocol and lives in ``sync/jobstatus.py``.
- The dispatcher (and admin) owns the plan: new -> assigned; assigned, needs_parts or escalated
  -> assigned again (reassign or reschedule); any open status -> cancelled. They never move a job
  through the visit on the engineer's behalf, and cannot reassign a job while the engineer is
  travelling or working on it (cancel it instead).
- Other roles move nothing.
- A refused move is a conflict (409), not a validation error: the request was well-formed but the
  job is no longer where the caller thought it was. The sync core turns it into a visible
  ``job.status`` conflict for the device.

``transition`` is pure; ``server/jobs/events.py`` applies an allowed move to a job and records it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from server.errors import Conflict, Forbidden, Invalid
from sync.jobstatus import TRANSITIONS as ENGINEER_MOVES

Status = Literal[
    "new",
    "assigned",
    "en_route",
    "on_site",
    "work_started",
    "needs_parts",
    "escalated",
    "completed",
    "cancelled",
]
STATUSES: Final[tuple[Status, ...]] = (
    "new",
    "assigned",
    "en_route",
    "on_site",
    "work_started",
    "needs_parts",
    "escalated",
    "completed",
    "cancelled",
)
CLOSED: Final = frozenset({"completed", "cancelled"})
OPEN: Final = frozenset(STATUSES) - CLOSED
# Open and in someone's hands: what counts as an engineer's current load.
ACTIVE: Final = OPEN - {"new"}

# The engineer's moves are part of the sync protocol (PROTOCOL.md): one table, in sync/.
_ENGINEER: Final = ENGINEER_MOVES
_REASSIGNABLE: Final = frozenset({"new", "assigned", "needs_parts", "escalated"})
_DISPATCHER: Final[dict[str, frozenset[str]]] = {
    status: frozenset({"cancelled", "assigned"} if status in _REASSIGNABLE else {"cancelled"})
    for status in STATUSES
    if status not in CLOSED
}

# actor role -> current status -> statuses it may move the job to.
TRANSITIONS: Final[dict[str, Mapping[str, frozenset[str]]]] = {
    "engineer": _ENGINEER,
    "dispatcher": _DISPATCHER,
    "admin": _DISPATCHER,
}


class TransitionRefused(Conflict):
    """The job's current status does not allow this move for this role."""

    code = "transition_refused"


def allowed(current: str, actor_role: str) -> frozenset[str]:
    """The statuses ``actor_role`` may move a job in ``current`` to (empty when none)."""
    return TRANSITIONS.get(actor_role, {}).get(current, frozenset())


def transition(current: str, target: str, actor_role: str) -> None:
    """Refuse (raise) unless ``actor_role`` may move a job from ``current`` to ``target``."""
    if target not in STATUSES:
        raise Invalid(f"unknown job status {target!r}", field="status")
    if actor_role not in TRANSITIONS:
        raise Forbidden(f"the {actor_role} role may not change a job's status")
    if target not in allowed(current, actor_role):
        raise TransitionRefused(
            f"a {actor_role} cannot move a job from {current} to {target}",
            current=current,
            target=target,
        )


def is_open(status: str) -> bool:
    return status in OPEN
