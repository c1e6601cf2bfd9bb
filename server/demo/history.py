"""Ninety days of one shard's past, day by day: stock upkeep, then each engineer's visits.

Warehouses open with supplier receipts; vans are stocked from the nearest warehouse the day
before the window opens and topped up every Monday; a monthly stocktake adjusts a few van lines
and warehouses see refurbished returns and returns to suppliers. On business days each engineer
does two to four visits to assets they have the skill for, nearer ones more often; at weekends a
few are on call for urgent faults. An asset is rarely visited twice within a month, except the
deliberate repeat visits after a repair.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from uuid import UUID

from server.demo.context import HISTORY_DAYS, Context
from server.demo.jobs import URGENCIES, URGENCY_WEIGHTS, Jobs, lead_time, new_call
from server.demo.repairs import Repairs
from server.demo.stock import Ledger
from server.demo.world import AssetRef, Catalogue, Engineer, Shard
from server.demo.writer import Writer

SLOTS = (9.0, 10.75, 13.5, 15.25)  # local hours of a day's visits
VAN_REORDER = 2
VAN_TARGET = 6
DAY_LOAD = (15, 40, 30, 15)  # weights of 1..4 visits on a business day
REPEAT = 0.04  # share of visits that go back to an asset visited within the month
ON_CALL = 0.12  # chance an engineer has one urgent visit on a weekend day
QUIET_DAYS = 36  # an asset is not picked again this soon (a month, plus the lead time)


def opening_stock(ctx: Context, ledger: Ledger, cat: Catalogue, scale: int) -> None:
    """Supplier receipts into every warehouse for every part, before the window opens."""
    ctx.reseed("opening-stock")
    at = ctx.at(ctx.start - timedelta(days=3), 10)
    for warehouse in cat.warehouses:
        for part in cat.parts:
            qty = ctx.rng.randrange(30, 120) * scale
            ledger.receive(part.id, warehouse.id, qty, at, cat.staff["logistics"])


class Picker:
    """Which asset calls next: a quiet one (no visit for a month), now and then a repeat."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._visited: dict[UUID, date] = {}
        self._recent: deque[AssetRef] = deque(maxlen=200)

    def quiet(self, pool: list[AssetRef], day: date) -> AssetRef | None:
        rng = self.ctx.rng
        for _ in range(40):
            asset = rng.choice(pool)
            last = self._visited.get(asset.id)
            if last is None or (day - last).days > QUIET_DAYS:
                return asset
        return None

    def repeat(self, day: date) -> AssetRef | None:
        """An asset visited 3 to 25 days ago: the fault came back."""
        if not self._recent:
            return None
        asset = self.ctx.rng.choice(self._recent)
        last = self._visited.get(asset.id)
        return asset if last is not None and 3 <= (day - last).days <= 25 else None

    def visit(self, asset: AssetRef, day: date) -> None:
        self._visited[asset.id] = day
        self._recent.append(asset)


class History:
    def __init__(
        self, ctx: Context, out: Writer, cat: Catalogue, ledger: Ledger, shard: Shard
    ) -> None:
        self.ctx = ctx
        self.cat = cat
        self.ledger = ledger
        self.shard = shard
        self.jobs = Jobs(ctx, out, cat)
        self.repairs = Repairs(ctx, out, cat, ledger, self.jobs)
        self.picker = Picker(ctx)
        self._by_skill: dict[str, list[Engineer]] = {}
        for engineer in shard.engineers:
            for skill in engineer.skills:
                self._by_skill.setdefault(skill, []).append(engineer)

    def days(self) -> Iterator[date]:
        """Generate the window one day at a time (the seeder flushes between days)."""
        ctx = self.ctx
        for engineer in self.shard.engineers:
            self._stock_van(engineer, ctx.at(ctx.start - timedelta(days=1), 8))
        for offset in range(HISTORY_DAYS):
            day = ctx.start + timedelta(days=offset)
            if day.isoweekday() == 1:
                for engineer in self.shard.engineers:
                    self._stock_van(engineer, ctx.at(day, 8))
            if offset % 30 == 20:
                self._stocktake(ctx.at(day, 17.5))
            if offset % 7 == 3:
                self._returns(ctx.at(day, 11))
            self._dispatch(day)
            yield day

    def _dispatch(self, day: date) -> None:
        """The day's calls, each given to the nearest engineer with the skill and a free slot."""
        ctx, rng = self.ctx, self.ctx.rng
        business = ctx.is_business_day(day)
        free: dict[UUID, list[float]] = {}
        for engineer in self.shard.engineers:
            if business:
                n = rng.choices(range(1, 5), DAY_LOAD)[0]
                free[engineer.id] = [h + rng.uniform(-0.25, 0.25) for h in SLOTS[:n]]
            elif rng.random() < ON_CALL:
                free[engineer.id] = [rng.uniform(9, 16)]
        for _ in range(sum(len(hours) for hours in free.values())):
            asset = self.picker.repeat(day) if rng.random() < REPEAT else None
            asset = asset or self.picker.quiet(self.shard.assets, day)
            if asset is None:
                continue
            site = asset.site
            able = [e for e in self._by_skill.get(asset.model.spec.skill, ()) if free.get(e.id)]
            if not able:
                continue
            engineer = min(able, key=lambda e: (e.lat - site.lat) ** 2 + (e.lon - site.lon) ** 2)
            slot = ctx.at(day, free[engineer.id].pop(0))
            urgency = None if business else rng.choice(("critical", "high"))
            urgency = urgency or rng.choices(URGENCIES, URGENCY_WEIGHTS)[0]
            call = new_call(ctx, asset, slot - lead_time(ctx, urgency), urgency=urgency)
            self.picker.visit(asset, day)
            self.repairs.past(engineer, call, slot)

    def _stock_van(self, engineer: Engineer, at: datetime) -> None:
        """Top the van's usual parts up to the target; the engineer collects them."""
        source = self.cat.nearest_warehouse(engineer.van.lat, engineer.van.lon).id
        for part in engineer.stocked:
            key = (part.id, engineer.van.id)
            self.ledger.reorder[key] = VAN_REORDER
            have = self.ledger.balance(*key)
            if have <= VAN_REORDER:
                want = VAN_TARGET - have + self.ctx.rng.randrange(0, 3)
                self.ledger.transfer(
                    part.id,
                    source,
                    engineer.van.id,
                    want,
                    at,
                    actor=engineer.id,
                    note="服务车周补货",
                )

    def _stocktake(self, at: datetime) -> None:
        rng = self.ctx.rng
        for engineer in self.shard.engineers:
            if rng.random() < 0.2:
                part = rng.choice(engineer.stocked)
                delta = (
                    1 if self.ledger.balance(part.id, engineer.van.id) == 0 else rng.choice((-1, 1))
                )
                self.ledger.move(
                    part.id,
                    engineer.van.id,
                    "adjustment",
                    delta,
                    at,
                    actor=self.cat.staff["logistics"],
                    note="月度盘点调整",
                )

    def _returns(self, at: datetime) -> None:
        """Refurbished parts back into a warehouse; now and then a faulty lot back to supplier."""
        rng, logistics = self.ctx.rng, self.cat.staff["logistics"]
        warehouse = rng.choice(self.cat.warehouses).id
        part = rng.choice(self.cat.parts).id
        if rng.random() < 0.6:
            self.ledger.move(
                part,
                warehouse,
                "return",
                rng.randint(1, 3),
                at,
                actor=logistics,
                note="返修件修复入库",
            )
        elif self.ledger.balance(part, warehouse) >= 2:
            self.ledger.move(
                part, warehouse, "return", -2, at, actor=logistics, note="不良品退回供应商"
            )
