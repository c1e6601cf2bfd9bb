"""Today and the days ahead: what the demo's users find waiting when they log in.

"Now" is today at 09:30 local. Each engineer has three to six visits today — the first one
perhaps already under way, the rest assigned — and a few in the next business days. The
dispatcher finds unassigned jobs and fresh requests without a job; logistics finds open part
requests and parcels still on the road.
"""

from __future__ import annotations

from datetime import date, timedelta

from server.demo import texts
from server.demo.context import Context
from server.demo.history import History
from server.demo.jobs import URGENCIES, URGENCY_WEIGHTS, Story, lead_time, new_call
from server.demo.logistics import request_part
from server.demo.stock import Ledger
from server.demo.world import AssetRef, Catalogue, Engineer, Shard
from server.demo.writer import Writer

TODAY_SLOTS = (9.0, 10.5, 13.0, 14.5, 16.0, 17.5)
FIRST_VISIT = ("assigned", "en_route", "on_site", "work_started", "needs_parts", "escalated")
FIRST_VISIT_WEIGHTS = (25, 15, 30, 22, 5, 3)
UNASSIGNED_PER_ENGINEER = 2
FRESH_REQUESTS = 10  # per shard: just received, no job yet
RESTOCK_IN_TRANSIT = 3  # per shard


class Schedule:
    def __init__(
        self, ctx: Context, out: Writer, cat: Catalogue, ledger: Ledger, history: History
    ) -> None:
        self.ctx = ctx
        self.out = out
        self.cat = cat
        self.ledger = ledger
        self.jobs = history.jobs
        self.picker = history.picker

    def _asset(self, pool: list[AssetRef]) -> AssetRef:
        asset = self.picker.quiet(pool, self.ctx.today) or self.ctx.rng.choice(pool)
        self.picker.visit(asset, self.ctx.today)
        return asset

    def write(self, shard: Shard) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        for engineer in shard.engineers:
            for i, hour in enumerate(TODAY_SLOTS[: rng.randint(3, 6)]):
                target = "assigned"
                if i == 0:
                    target = rng.choices(FIRST_VISIT, FIRST_VISIT_WEIGHTS)[0]
                elif i == 1 and rng.random() < 0.2:
                    target = "en_route"
                self._today(engineer, hour + rng.uniform(-0.1, 0.1), target)
            day = ctx.today
            for _ in range(rng.randint(1, 3)):
                for _ in range(rng.randint(1, 2)):
                    day = ctx.next_business_day(day)
                self._ahead(engineer, day)
            if rng.random() < 0.25:
                part = rng.choice(engineer.stocked)
                request_part(
                    ctx,
                    self.out,
                    self.cat,
                    self.ledger,
                    engineer,
                    part,
                    rng.randint(2, 5),
                    ctx.now - ctx.minutes(10, 900),
                    None,
                )
        for _ in range(UNASSIGNED_PER_ENGINEER * len(shard.engineers)):
            received = ctx.now - ctx.hours(0.2, 20)
            call = new_call(ctx, self._asset(shard.assets), received)
            story = Story(None, call.received_at + ctx.minutes(1, 10))
            self.jobs.job(ctx.uuid(story.created), call, story, window=None)
        for _ in range(FRESH_REQUESTS):
            received = ctx.now - ctx.minutes(5, 180)
            self.jobs.request(new_call(ctx, self._asset(shard.assets), received), "open")
        for engineer in rng.sample(shard.engineers, RESTOCK_IN_TRANSIT):
            part = rng.choice(engineer.stocked)
            request_part(
                ctx,
                self.out,
                self.cat,
                self.ledger,
                engineer,
                part,
                rng.randint(2, 6),
                ctx.now - ctx.hours(3, 6),
                None,
            )

    def _today(self, engineer: Engineer, hour: float, target: str) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        slot = ctx.at(ctx.today, hour)
        asset = self._asset(engineer.candidates)
        urgency = rng.choices(URGENCIES, URGENCY_WEIGHTS)[0]
        received = ctx.at(ctx.today, 7.5) - lead_time(ctx, urgency)
        call = new_call(ctx, asset, received, urgency=urgency)
        story = Story(None, call.received_at + ctx.minutes(1, 4))
        job_id = ctx.uuid(story.created)
        # Visits under way started early enough to have reached their status by now.
        depth = FIRST_VISIT.index(target)
        en_route = ctx.now - ctx.minutes(5 + 25 * min(depth, 3), 20 + 30 * min(depth, 3))
        assigned = ctx.between(story.created, en_route, 0.1, 0.6)
        self.jobs.assign(story, engineer, assigned)
        if target != "assigned":
            story.go("en_route", en_route, engineer.id)
        if depth >= 2:
            on_site = en_route + ctx.minutes(12, 25)
            story.go("on_site", on_site, engineer.id)
            if depth >= 3:
                started = on_site + ctx.minutes(3, 8)
                story.go("work_started", started, engineer.id)
                if depth >= 4:
                    stopped = min(started + ctx.minutes(10, 30), ctx.now)
                    if target == "escalated":
                        story.go(target, stopped, engineer.id, "需要厂家技术支持")
                    else:
                        part = rng.choice(asset.model.parts)
                        story.go(
                            target, stopped, engineer.id, texts.NEEDS_PARTS.format(part=part.name)
                        )
                        request_part(
                            ctx,
                            self.out,
                            self.cat,
                            self.ledger,
                            engineer,
                            part,
                            1,
                            min(stopped + ctx.minutes(1, 5), ctx.now),
                            job_id,
                        )
        window = (slot, slot + timedelta(hours=rng.choice((1, 1.5, 2))))
        self.jobs.job(job_id, call, story, window=window)

    def _ahead(self, engineer: Engineer, day: date) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        slot = ctx.at(day, rng.choice(TODAY_SLOTS))
        call = new_call(ctx, self._asset(engineer.candidates), ctx.now - ctx.hours(1, 40))
        story = Story(None, call.received_at + ctx.minutes(1, 4))
        self.jobs.assign(story, engineer, ctx.between(story.created, ctx.now, 0.2, 0.5))
        window = (slot, slot + timedelta(hours=2))
        self.jobs.job(ctx.uuid(story.created), call, story, window=window)
