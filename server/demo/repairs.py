"""How a past visit turned out: done, done after waiting for a part, escalated, or cancelled.

Parts come off the engineer's van as ``consumption`` lines (each with its ``PartUsage``) only
when the van holds them; a part the van lacks stops the job in ``needs_parts`` until a courier
brings it, and the engineer comes back the next business day. Jobs whose second visit would fall
today or later stay open, so the dispatcher's board shows them waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from server.demo import texts
from server.demo.aftercare import COMPLAINT_IF_UNHAPPY, UNHAPPY, complaint, feedback
from server.demo.context import Context
from server.demo.jobs import Call, Jobs, Story
from server.demo.logistics import request_part
from server.demo.reports import file_report
from server.demo.stock import Ledger
from server.demo.world import Catalogue, Engineer, Part
from server.demo.writer import Writer

CANCELLED = 0.025
ESCALATED = 0.03  # of fault visits
RARE_PART = 0.08  # a repair needs a part outside the model's common set
LABOUR_MINUTES = {"fault": (40.0, 180.0), "parts": (30.0, 90.0), "usage": (20.0, 60.0)}

Used = tuple[Part, int, int, datetime]  # part, qty, movement id, used at


class Repairs:
    def __init__(
        self, ctx: Context, out: Writer, cat: Catalogue, ledger: Ledger, jobs: Jobs
    ) -> None:
        self.ctx = ctx
        self.out = out
        self.cat = cat
        self.ledger = ledger
        self.jobs = jobs
        # (model code, root cause) -> a report that found it: knowledge articles cite them.
        self.examples: dict[tuple[str, str], UUID] = {}

    def past(self, engineer: Engineer, call: Call, slot: datetime) -> None:
        """One visit planned at ``slot`` (before today) for ``call``, and everything after."""
        ctx, rng = self.ctx, self.ctx.rng
        created = call.received_at + ctx.minutes(1, 4)
        story = Story(None, created)
        job_id = ctx.uuid(created)
        travel = ctx.minutes(15, 50)
        window = (slot, slot + timedelta(hours=rng.choice((1, 2, 2, 3))))
        if rng.random() < CANCELLED:
            self._cancel(job_id, call, story, engineer, slot - travel, window)
            return
        self.jobs.assign(story, engineer, ctx.between(created, slot - travel, 0.1, 0.5))
        started = self.jobs.visit(story, slot - travel)
        parts = self._parts(call)
        van = engineer.van.id
        missing = next(((p, q) for p, q in parts if self.ledger.balance(p.id, van) < q), None)
        escalate = missing is None and call.category == "fault" and rng.random() < ESCALATED
        work = ctx.minutes(*LABOUR_MINUTES[call.category])
        if missing or escalate:
            work = timedelta(seconds=round(work.total_seconds() * rng.uniform(0.3, 0.6)))
        stopped = started + work
        used = [
            self._consume(job_id, engineer, part, qty, ctx.between(started, stopped, 0.3, 0.95))
            for part, qty in parts
            if self.ledger.balance(part.id, van) >= qty
        ]
        labour = work
        if missing is not None:
            part, qty = missing
            story.go("needs_parts", stopped, engineer.id, texts.NEEDS_PARTS.format(part=part.name))
            asked = stopped + ctx.minutes(5, 30)
            delivered = request_part(
                ctx, self.out, self.cat, self.ledger, engineer, part, qty, asked, job_id
            )
            if delivered is None:
                self.jobs.job(job_id, call, story, window=window)
                return
            back = ctx.next_business_day(ctx.local_date(delivered))
            window = (ctx.at(back, rng.uniform(9, 16)), ctx.at(back, 18))
            if back >= ctx.today:  # the return visit is on today's or a later schedule
                self.jobs.job(job_id, call, story, window=window)
                return
            started = self.jobs.visit(story, window[0] - travel)
            more = ctx.minutes(30, 90)
            used.append(self._consume(job_id, engineer, part, qty, started + more // 2))
            labour += more
            stopped = started + more
        elif escalate:
            story.go("escalated", stopped, engineer.id, rng.choice(texts.ESCALATION_NOTES))
            back = ctx.next_business_day(ctx.local_date(stopped))
            if back >= ctx.today:
                self.jobs.job(job_id, call, story, window=window)
                return
            self.jobs.assign(story, engineer, stopped + ctx.minutes(60, 240), texts.SUPPORT_VISIT)
            window = (ctx.at(back, rng.uniform(9, 15)), ctx.at(back, 18))
            started = self.jobs.visit(story, window[0] - travel)
            more = ctx.minutes(60, 150)
            labour += more
            stopped = started + more
        self._complete(job_id, call, story, engineer, window, used, labour, stopped)

    def _complete(
        self,
        job_id: UUID,
        call: Call,
        story: Story,
        engineer: Engineer,
        window: tuple[datetime, datetime],
        used: list[Used],
        labour: timedelta,
        done: datetime,
    ) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        filed = file_report(
            ctx,
            self.out,
            job_id=job_id,
            author=engineer.id,
            scenario=call.scenario,
            used=[part.name for part, *_ in used],
            parts=[{"part_id": str(part.id), "qty": qty} for part, qty, *_ in used],
            labour=int(labour.total_seconds() // 60),
            done_at=done,
            signer=call.asset.site.contact,
        )
        for part, qty, movement_id, at in used:
            self.out.add(
                "part_usages",
                {
                    "id": ctx.uuid(at),
                    "job_id": job_id,
                    "report_id": filed.report_id,
                    "part_id": part.id,
                    "location_id": engineer.van.id,
                    "qty": qty,
                    "movement_id": movement_id,
                    "used_at": at,
                },
            )
        story.go("completed", done, engineer.id)
        repeat = self.jobs.job(job_id, call, story, window=window)
        if call.category == "fault":
            key = (call.asset.model.spec.code, call.scenario.root_cause)
            self.examples.setdefault(key, filed.report_id)
        unhappy = rng.random() < (0.3 if repeat else UNHAPPY)
        after = filed.signed_at or done
        channel = "link" if after > done else "device"
        answered = feedback(ctx, self.out, job_id, after, channel, unhappy)
        if answered and unhappy and rng.random() < COMPLAINT_IF_UNHAPPY:
            complaint(ctx, self.out, self.cat.staff, call.asset.site.customer_id, job_id, after)

    def _cancel(
        self,
        job_id: UUID,
        call: Call,
        story: Story,
        engineer: Engineer,
        en_route: datetime,
        window: tuple[datetime, datetime],
    ) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        dispatcher = self.cat.staff["dispatcher"]
        reason = rng.choice(texts.CANCEL_REASONS)
        if rng.random() < 0.3:  # called off before anyone was assigned
            at = ctx.between(story.created, en_route, 0.1, 0.5)
            story.go("cancelled", at, dispatcher, reason)
            self.jobs.job(job_id, call, story, window=None)
            return
        assigned = ctx.between(story.created, en_route, 0.1, 0.5)
        self.jobs.assign(story, engineer, assigned)
        story.go("cancelled", ctx.between(assigned, en_route, 0.2, 0.9), dispatcher, reason)
        self.jobs.job(job_id, call, story, window=window)

    def _parts(self, call: Call) -> list[tuple[Part, int]]:
        rng = self.ctx.rng
        if call.category == "usage":
            return []
        if call.category == "fault":
            n = rng.choices((0, 1, 2, 3), (35, 40, 18, 7))[0]
        else:
            n = rng.choices((1, 2, 3), (50, 35, 15))[0]
        model = call.asset.model
        pool = model.parts if rng.random() < RARE_PART else model.common
        chosen = rng.sample(pool, min(n, len(pool)))
        return [(part, 1 if rng.random() < 0.8 else 2) for part in chosen]

    def _consume(
        self, job_id: UUID, engineer: Engineer, part: Part, qty: int, at: datetime
    ) -> Used:
        movement_id = self.ledger.move(
            part.id,
            engineer.van.id,
            "consumption",
            -qty,
            at,
            recorded_at=self.ctx.received(at),
            actor=engineer.id,
            job=job_id,
            note=texts.CONSUMPTION_NOTE,
        )
        return part, qty, movement_id, at
