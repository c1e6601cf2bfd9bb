"""The demo's stock ledger: every quantity comes from a movement line, levels are their sums.

What must stay true: a ``StockLevel`` row's ``on_hand`` equals the sum of ``qty_delta`` over its
(part, location) exactly; a transfer is a ``transfer_out`` at the source and a ``transfer_in`` at
the destination sharing one ``transfer_ref`` (a parcel still on the road has only its
``transfer_out`` so far); no location goes below zero. Warehouses never run dry: a transfer that
needs more than a warehouse holds is preceded by a supplier receipt. Movement ids are assigned
here (1, 2, 3…) so part usages can point at their consumption line; on PostgreSQL the seeder
moves the id sequence past them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from uuid import UUID

from server.demo.context import Context
from server.demo.writer import Writer

Key = tuple[UUID, UUID]  # (part id, location id)


class Ledger:
    def __init__(self, ctx: Context, out: Writer) -> None:
        self.ctx = ctx
        self.out = out
        self.on_hand: dict[Key, int] = {}
        self.reorder: dict[Key, int] = {}
        self.last_at: dict[Key, datetime] = {}
        self._next_id = 1

    def balance(self, part: UUID, location: UUID) -> int:
        return self.on_hand.get((part, location), 0)

    def move(
        self,
        part: UUID,
        location: UUID,
        kind: str,
        delta: int,
        at: datetime,
        *,
        recorded_at: datetime | None = None,
        actor: UUID | None = None,
        job: UUID | None = None,
        shipment: UUID | None = None,
        ref: str = "",
        note: str = "",
    ) -> int:
        key = (part, location)
        balance = self.on_hand.get(key, 0) + delta
        assert balance >= 0, f"demo ledger would overdraw {key}"
        self.on_hand[key] = balance
        if key not in self.last_at or at > self.last_at[key]:
            self.last_at[key] = at
        movement_id = self._next_id
        self._next_id += 1
        self.out.add(
            "stock_movements",
            {
                "id": movement_id,
                "part_id": part,
                "location_id": location,
                "kind": kind,
                "qty_delta": delta,
                "at": at,
                "recorded_at": recorded_at or at,
                "actor_id": actor,
                "job_id": job,
                "shipment_id": shipment,
                "transfer_ref": ref,
                "overdraw": False,
                "note": note,
            },
        )
        return movement_id

    def receive(self, part: UUID, warehouse: UUID, qty: int, at: datetime, actor: UUID) -> None:
        self.move(part, warehouse, "receipt", qty, at, actor=actor, note="供应商到货入库")

    def transfer(
        self,
        part: UUID,
        source: UUID,
        target: UUID,
        qty: int,
        at: datetime,
        *,
        actor: UUID,
        arrives: datetime | None = None,
        shipment: UUID | None = None,
        ref: str = "",
        note: str = "",
    ) -> None:
        """``transfer_out`` at ``at``; ``transfer_in`` at ``arrives`` (default: at once).

        A shipment still on the road passes ``arrives=None``: its stock has left the source and
        reaches the van when the carrier delivers (the server writes that ``transfer_in``).
        """
        if self.balance(part, source) < qty:  # the supplier delivered the day before
            restock = qty - self.balance(part, source) + self.ctx.rng.randrange(20, 60)
            self.receive(part, source, restock, at - timedelta(days=1), actor)
        ref = ref or f"TR-{self.ctx.uuid(at).hex}"
        self.move(
            part,
            source,
            "transfer_out",
            -qty,
            at,
            actor=actor,
            shipment=shipment,
            ref=ref,
            note=note,
        )
        if arrives is not None or shipment is None:
            self.move(
                part,
                target,
                "transfer_in",
                qty,
                arrives or at,
                actor=actor,
                shipment=shipment,
                ref=ref,
                note=note,
            )

    def levels(self, warehouses: set[UUID]) -> Iterator[dict[str, object]]:
        """One ``stock_levels`` row per (part, location) the ledger touched."""
        rng = self.ctx.rng
        for key, on_hand in self.on_hand.items():
            part, location = key
            reserved = 0
            if location in warehouses:
                reorder = rng.randrange(10, 40)
                if rng.random() < 0.12:  # a few warehouse lines wait for the next purchase order
                    reorder = on_hand + rng.randrange(1, 10)
            else:
                reorder = self.reorder.get(key, 0)
                # A part set aside on some vans for today's visits.
                reserved = min(on_hand, 1 if rng.random() < 0.05 else 0)
            yield {
                "id": self.ctx.uuid(self.last_at[key]),
                "part_id": part,
                "location_id": location,
                "on_hand": on_hand,
                "reserved": reserved,
                "reorder_point": reorder,
                "updated_at": self.last_at[key],
            }
