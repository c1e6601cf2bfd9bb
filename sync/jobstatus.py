"""The job status state machine, as data, shared by server handlers and device clients.

Rules, in the order they are checked for ``job.status {base_status, to}`` against the job's
current status on the server:

1. ``to == current``: already there — applied, nothing changes (``{"changed": false}``).
2. ``base_status != current``: the device decided on a stale view — rejected
   ``stale_transition`` with flag ``conflict``; the result carries the current status.
3. ``to`` is not in ``TRANSITIONS[current]``: rejected ``invalid_transition``.
4. Otherwise the job moves to ``to``.

Transitions an engineer may make (dispatchers and supervisors use other routes)::

    assigned     -> en_route, on_site
    en_route     -> on_site
    on_site      -> work_started, needs_parts, escalated
    work_started -> completed, needs_parts, escalated
    needs_parts  -> en_route, on_site, work_started, escalated
    escalated    -> en_route, on_site, work_started
    completed    -> (final)

Re-entry: a job waiting for parts or escalated may be travelled to and worked on again
(``en_route``/``on_site``/``work_started``); ``assigned -> on_site`` covers an engineer who forgot
to tap "en route". Statuses outside this table (e.g. ``cancelled``) allow no engineer move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from sync.errors import Rejected
from sync.outcome import CONFLICT

STATUSES: Final = (
    "assigned",
    "en_route",
    "on_site",
    "work_started",
    "needs_parts",
    "escalated",
    "completed",
)

TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "assigned": frozenset({"en_route", "on_site"}),
    "en_route": frozenset({"on_site"}),
    "on_site": frozenset({"work_started", "needs_parts", "escalated"}),
    "work_started": frozenset({"completed", "needs_parts", "escalated"}),
    "needs_parts": frozenset({"en_route", "on_site", "work_started", "escalated"}),
    "escalated": frozenset({"en_route", "on_site", "work_started"}),
    "completed": frozenset(),
}


def transition(current: str, base_status: str, to: str) -> bool:
    """True when the job moves to ``to``, False when it is already there; else ``Rejected``."""
    if to == current:
        return False
    if base_status != current:
        raise Rejected(
            "stale_transition",
            f"job is {current}, not {base_status}; {to} was decided on a stale view",
            flags=(CONFLICT,),
            result={"status": current},
        )
    if to not in TRANSITIONS.get(current, frozenset()):
        raise Rejected(
            "invalid_transition",
            f"a job cannot go from {current} to {to}",
            result={"status": current},
        )
    return True
