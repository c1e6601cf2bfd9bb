"""Service requests and their jobs, told as stories: intake, assignment, the visit, the outcome.

The stories follow the server's own rules so the demo never shows what the app could not produce:
status moves are those of ``server/jobs/status.py`` (an escalated job goes back to the dispatcher,
who reassigns it), a job starts at version 1 and each move adds one, ``responded_at`` is the
engineer's first move, and a request is ``in_progress`` while it has an open job, ``resolved``
once one completes and ``open`` again when its only job was cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from server.demo import texts
from server.demo.context import Context
from server.demo.texts import Scenario
from server.demo.world import AssetRef, Catalogue, Engineer
from server.demo.writer import Writer
from server.jobs.sla import due_times

URGENCIES = ("critical", "high", "normal", "low")
URGENCY_WEIGHTS = (8, 22, 55, 15)
# How long before the visit the request came in, in wall-clock hours.
LEAD_HOURS = {
    "critical": (1.0, 3.0),
    "high": (2.0, 20.0),
    "normal": (8.0, 60.0),
    "low": (24.0, 120.0),
}
CHANNELS = ("phone", "web", "email")
CHANNEL_WEIGHTS = (50, 30, 20)
CATEGORIES = ("fault", "parts", "usage")
CATEGORY_WEIGHTS = (65, 25, 10)
REPAIR_WARRANTY = timedelta(days=30)


@dataclass(slots=True)
class Call:
    """A service request as it came in."""

    asset: AssetRef
    urgency: str
    category: str
    channel: str
    received_at: datetime
    problem: str
    scenario: Scenario


@dataclass(slots=True)
class Story:
    """A job's status history, built move by move."""

    engineer: Engineer | None
    created: datetime
    status: str = "new"
    events: list[tuple[str, str, datetime, UUID | None, str]] = field(default_factory=list)

    def go(self, target: str, at: datetime, actor: UUID | None, note: str = "") -> None:
        self.events.append((self.status, target, at, actor, note))
        self.status = target

    @property
    def last_at(self) -> datetime:
        return self.events[-1][2] if self.events else self.created


def new_call(
    ctx: Context,
    asset: AssetRef,
    received_at: datetime,
    *,
    urgency: str | None = None,
    category: str | None = None,
) -> Call:
    rng = ctx.rng
    urgency = urgency or rng.choices(URGENCIES, URGENCY_WEIGHTS)[0]
    category = category or rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
    model = asset.model.spec.name
    if category == "fault":
        scenario = rng.choice(texts.SCENARIOS[asset.model.spec.skill])
        problem = scenario.problem
    elif category == "usage":
        scenario, problem = texts.USAGE_SCENARIO, rng.choice(texts.USAGE_QUESTIONS)
    else:
        scenario, problem = texts.PARTS_SCENARIO, rng.choice(texts.PARTS_REQUESTS)
    channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
    return Call(
        asset, urgency, category, channel, received_at, problem.format(model=model), scenario
    )


def lead_time(ctx: Context, urgency: str) -> timedelta:
    low, high = LEAD_HOURS[urgency]
    return ctx.hours(low, high)


class Jobs:
    """Writes requests, jobs and their events; remembers repairs for repeat-visit flags."""

    def __init__(self, ctx: Context, out: Writer, cat: Catalogue) -> None:
        self.ctx = ctx
        self.out = out
        self.cat = cat
        self.last_repair: dict[UUID, datetime] = {}  # asset id -> when its last repair ended

    def request(self, call: Call, status: str, story: Story | None = None) -> UUID:
        ctx = self.ctx
        response_due, resolution_due = due_times(call.received_at, call.urgency, ctx.settings)
        responded = resolved = None
        for _, target, at, actor, _ in story.events if story else ():
            if responded is None and story and story.engineer and actor == story.engineer.id:
                responded = at
            if target == "completed":
                resolved = at
        site = call.asset.site
        request_id = ctx.uuid(call.received_at)
        by_staff = call.channel != "web"
        self.out.add(
            "service_requests",
            {
                "id": request_id,
                "number": ctx.number("SR", call.received_at),
                "channel": call.channel,
                "category": call.category,
                "urgency": call.urgency,
                "status": status,
                "customer_id": site.customer_id,
                "site_id": site.id,
                "asset_id": call.asset.id,
                "contact_name": site.contact,
                "contact_phone": site.phone,
                "problem": call.problem,
                "received_at": call.received_at,
                "response_due": response_due,
                "resolution_due": resolution_due,
                "responded_at": responded,
                "resolved_at": resolved,
                "created_by": self.cat.staff["dispatcher"] if by_staff else None,
            },
        )
        return request_id

    def job(
        self,
        job_id: UUID,
        call: Call,
        story: Story,
        *,
        window: tuple[datetime, datetime] | None,
    ) -> bool:
        """Write the request, the job and its events as the story left them; True if the job
        is a repeat visit (the asset was repaired within the repair warranty before)."""
        ctx, rng = self.ctx, self.ctx.rng
        # As server/jobs/dispatch.py and events.py keep it: in progress while a job is open.
        request_status = {"completed": "resolved", "cancelled": "open"}.get(
            story.status, "in_progress"
        )
        request_id = self.request(call, request_status, story)
        asset = call.asset
        last = self.last_repair.get(asset.id)
        repeat = last is not None and call.received_at - last <= REPAIR_WARRANTY
        in_warranty = asset.warranty_end >= ctx.local_date(call.received_at)
        completed_at = story.last_at if story.status == "completed" else None
        note = rng.choice(texts.JOB_NOTES)
        updated = story.created
        for from_status, target, at, actor, event_note in story.events:
            by_engineer = story.engineer is not None and actor == story.engineer.id
            received = ctx.received(at) if by_engineer else at
            updated = max(updated, received)
            self.out.add(
                "job_events",
                {
                    "id": ctx.uuid(at),
                    "job_id": job_id,
                    "actor_id": actor,
                    "from_status": from_status,
                    "to_status": target,
                    "event_at": at,
                    "received_at": received,
                    "note": event_note,
                },
            )
        self.out.add(
            "jobs",
            {
                "id": job_id,
                "number": ctx.number("JOB", story.created),
                "request_id": request_id,
                "engineer_id": story.engineer.id if story.engineer else None,
                "customer_id": asset.site.customer_id,
                "site_id": asset.site.id,
                "asset_id": asset.id,
                "status": story.status,
                "required_skill": asset.model.spec.skill,
                "summary": f"{asset.model.spec.code} {call.problem}"[:300],
                "scheduled_start": window[0] if window else None,
                "scheduled_end": window[1] if window else None,
                "note": note,
                "note_version": 1 if note else 0,
                "version": 1 + len(story.events),
                "is_repeat_visit": repeat,
                "free_of_charge": repeat or in_warranty,
                "created_at": story.created,
                "updated_at": updated,
                "completed_at": completed_at,
            },
        )
        if completed_at is not None and call.category != "usage":
            self.last_repair[asset.id] = completed_at
        return repeat

    def assign(self, story: Story, engineer: Engineer, at: datetime, note: str = "") -> None:
        username = f"engineer{engineer.number}"
        text = (
            f"assigned to {username}" if story.engineer is None else f"rescheduled for {username}"
        )
        story.engineer = engineer
        story.go("assigned", at, self.cat.staff["dispatcher"], f"{text}: {note}" if note else text)

    def visit(self, story: Story, en_route: datetime) -> datetime:
        """The engineer drives over and starts work; returns when work started."""
        assert story.engineer is not None
        ctx, who = self.ctx, story.engineer.id
        story.go("en_route", en_route, who)
        on_site = en_route + ctx.minutes(12, 55)
        story.go("on_site", on_site, who)
        started = on_site + ctx.minutes(5, 20)
        story.go("work_started", started, who)
        return started
