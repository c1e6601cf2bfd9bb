"""After the visit: the satisfaction survey and, now and then, a complaint.

Ratings skew high, as real service surveys do; an unhappy customer rates low and sometimes
complains. A complaint is answered within three days or climbs the escalation ladder: one level
per two days overdue, owned by the manager once escalated.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from server.demo import texts
from server.demo.context import Context
from server.demo.writer import Writer

FEEDBACK = 0.78  # share of completed jobs whose customer answered the survey
UNHAPPY = 0.04
COMPLAINT_IF_UNHAPPY = 0.15
ANSWER_WITHIN = timedelta(days=3)
_HAPPY_WEIGHTS = (1, 2, 8, 30, 59)  # ratings 1..5


def feedback(
    ctx: Context, out: Writer, job_id: UUID, after: datetime, channel: str, unhappy: bool
) -> bool:
    """Maybe write the survey answered ``after`` a signature; True if one was written."""
    rng = ctx.rng
    if rng.random() >= FEEDBACK:
        return False
    if unhappy:
        base = rng.choice((1, 2, 2, 3))
        comment = rng.choice(texts.COMMENTS_BAD)
    else:
        base = rng.choices(range(1, 6), _HAPPY_WEIGHTS)[0]
        comment = rng.choice(texts.COMMENTS_GOOD if base >= 4 else texts.COMMENTS_MEH)
    ratings = [min(5, max(1, base + rng.choice((-1, 0, 0, 0, 1)))) for _ in range(3)]
    submitted = min(after + ctx.minutes(1, 6), ctx.now)
    out.add(
        "feedback",
        {
            "id": ctx.uuid(submitted),
            "job_id": job_id,
            "attitude": ratings[0],
            "efficiency": ratings[1],
            "quality": ratings[2],
            "comment": comment,
            "channel": channel,
            "submitted_at": submitted,
            "received_at": ctx.received(submitted) if channel == "device" else submitted,
        },
    )
    return True


def complaint(
    ctx: Context,
    out: Writer,
    staff: dict[str, UUID],
    customer_id: UUID,
    job_id: UUID | None,
    after: datetime,
) -> None:
    rng = ctx.rng
    created = after + ctx.hours(2, 48)
    if created >= ctx.now:
        return
    deadline = created + ANSWER_WITHIN
    status, level, resolved = "open", 0, None
    if rng.random() < (0.9 if deadline < ctx.now else 0.3):
        resolved = created + ctx.hours(4, 90)
        if resolved >= ctx.now:
            resolved = None
    if resolved is not None:
        status = "resolved"
        level = 1 if resolved > deadline else 0
    elif deadline < ctx.now:
        status = "investigating"
        level = min(3, 1 + (ctx.now - deadline).days // 2)
    elif rng.random() < 0.5:
        status = "investigating"
    investigated = status != "open"
    out.add(
        "complaints",
        {
            "id": ctx.uuid(created),
            "number": ctx.number("C", created),
            "customer_id": customer_id,
            "job_id": job_id,
            "owner_id": staff["manager" if level else "dispatcher"],
            "description": rng.choice(texts.COMPLAINTS),
            "status": status,
            "deadline": deadline,
            "escalation_level": level,
            "cause": rng.choice(texts.COMPLAINT_CAUSES) if investigated else "",
            "responsibility": rng.choice(texts.RESPONSIBILITIES) if investigated else "",
            "resolution": rng.choice(texts.COMPLAINT_RESOLUTIONS) if resolved else "",
            "created_at": created,
            "resolved_at": resolved,
        },
    )
