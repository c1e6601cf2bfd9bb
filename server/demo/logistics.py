"""Part requests and the courier shipments that answer them.

A request is approved within hours and shipped from the warehouse nearest the van. A shipment
goes picked -> in_transit -> (delayed | damaged)? -> delivered; only the events that happened
before "now" are written, so the latest ones are still on the road. Stock leaves the warehouse
when the parcel is picked (``transfer_out``) and reaches the van on delivery (``transfer_in``),
both carrying the shipment id and ``SHP-<shipment id>`` as transfer ref, as the server does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from server.demo import texts
from server.demo.context import Context
from server.demo.stock import Ledger
from server.demo.world import Catalogue, Engineer, Part
from server.demo.writer import Writer

CARRIERS = (("顺丰", "SF", 12), ("京东物流", "JDX", 12), ("德邦", "DPK", 12))
_SCRAMBLE = 982_451_653  # a prime: n -> n * p mod 10**k is a bijection, so numbers stay unique


def request_part(
    ctx: Context,
    out: Writer,
    cat: Catalogue,
    ledger: Ledger,
    engineer: Engineer,
    part: Part,
    qty: int,
    at: datetime,
    job_id: UUID | None,
) -> datetime | None:
    """The engineer asks for ``qty`` of ``part`` at ``at``; returns when it reached the van."""
    rng = ctx.rng
    status, shipment_id, delivered = "requested", None, None
    shipped_at = at + ctx.hours(0.5, 3)
    if job_id is None and rng.random() < 0.05:
        status = "rejected"
    elif shipped_at < ctx.now:
        source = cat.nearest_warehouse(engineer.van.lat, engineer.van.lon)
        shipment_id, delivered = ship(
            ctx, out, ledger, source.id, engineer, part, qty, shipped_at, cat.staff["logistics"]
        )
        status = "delivered" if delivered else "shipped"
    elif at + timedelta(hours=0.5) < ctx.now:
        status = "approved"
    note = "" if job_id else "服务车补货"
    out.add(
        "part_requests",
        {
            "id": ctx.uuid(at),
            "job_id": job_id,
            "engineer_id": engineer.id,
            "part_id": part.id,
            "qty": qty,
            "status": status,
            "note": note,
            "created_at": at,
            "shipment_id": shipment_id,
        },
    )
    return delivered


def ship(
    ctx: Context,
    out: Writer,
    ledger: Ledger,
    source: UUID,
    engineer: Engineer,
    part: Part,
    qty: int,
    created: datetime,
    actor: UUID,
) -> tuple[UUID, datetime | None]:
    """One parcel from ``source`` to the engineer's van; (shipment id, delivered at or None)."""
    rng = ctx.rng
    shipment_id = ctx.uuid(created)
    carrier, prefix, digits = rng.choice(CARRIERS)
    tracking = f"{prefix}{ctx.count('tracking') * _SCRAMBLE % 10**digits:0{digits}d}"
    in_transit = created + ctx.hours(0.5, 2)
    events: list[tuple[str, datetime, str, str]] = [
        ("picked", created, "仓库拣货完成", ""),
        ("in_transit", in_transit, rng.choice(texts.SHIPMENT_PLACES), ""),
    ]
    arrive = in_transit + ctx.hours(3, 18)
    trouble = rng.random()
    if trouble < 0.12:
        delayed = in_transit + ctx.hours(2, 8)
        events.append(
            ("delayed", delayed, rng.choice(texts.SHIPMENT_PLACES), rng.choice(texts.DELAY_NOTES))
        )
        arrive = delayed + ctx.hours(12, 30)
    elif trouble < 0.16:
        events.append(("damaged", arrive - timedelta(hours=1), "派送站", texts.DAMAGED_NOTE))
    events.append(("delivered", arrive, "服务车交接", ""))
    happened = [e for e in events if e[1] <= ctx.now]
    delivered = arrive if happened[-1][0] == "delivered" else None
    out.add(
        "shipments",
        {
            "id": shipment_id,
            "carrier": carrier,
            "tracking_number": tracking,
            "status": happened[-1][0],
            "from_location_id": source,
            "to_location_id": engineer.van.id,
            "created_at": created,
            "eta": created + timedelta(days=1),
            "delivered_at": delivered,
        },
    )
    out.add(
        "shipment_lines",
        {"id": ctx.uuid(created), "shipment_id": shipment_id, "part_id": part.id, "qty": qty},
    )
    for status, at, place, note in happened:
        out.add(
            "shipment_events",
            {
                "id": ctx.uuid(at),
                "shipment_id": shipment_id,
                "status": status,
                "at": at,
                "place": place,
                "note": note,
            },
        )
    ref = f"SHP-{shipment_id.hex}"  # as server/logistics/shipments.py ties the pair together
    ledger.transfer(
        part.id,
        source,
        engineer.van.id,
        qty,
        created,
        actor=actor,
        arrives=delivered,
        shipment=shipment_id,
        ref=ref,
        note=f"shipment {tracking}",
    )
    return shipment_id, delivered
