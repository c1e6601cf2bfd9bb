"""A small, fixed data set for tests: enough of every kind of row to exercise the rules.

Three engineers (two with van stock), one of each staff role, two warehouses, a few customers,
sites, assets, parts and jobs — engineer1's jobs today, engineer2's, an unassigned one, and a
completed past job with a report so the asset has service history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.accounts.sessions import hash_password
from server.customers.models import Asset, Customer, ProductModel, Site
from server.inventory.models import Part, StockLevel, StockLocation, StockMovement
from server.jobs.models import Job, ServiceRequest
from server.logistics.models import Shipment, ShipmentEvent, ShipmentLine
from server.reports.models import WorkReport
from sync.canonical import report_hash

_HASH = hash_password("pw-test")


@dataclass
class World:
    PASSWORD = "pw-test"
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    users: dict[str, UUID] = field(default_factory=dict)
    customers: list[UUID] = field(default_factory=list)
    sites: list[UUID] = field(default_factory=list)
    assets: list[UUID] = field(default_factory=list)
    parts: list[UUID] = field(default_factory=list)
    locations: dict[str, UUID] = field(default_factory=dict)
    jobs: dict[str, UUID] = field(default_factory=dict)
    requests: dict[str, UUID] = field(default_factory=dict)
    shipments: dict[str, UUID] = field(default_factory=dict)
    reports: dict[str, UUID] = field(default_factory=dict)


USERS = [
    ("engineer1", "engineer", ["hvac", "electrical"], (31.23, 121.47)),
    ("engineer2", "engineer", ["elevator"], (31.30, 121.50)),
    ("engineer3", "engineer", ["hvac"], (31.10, 121.30)),
    ("dispatcher1", "dispatcher", [], None),
    ("logistics1", "logistics", [], None),
    ("manager1", "manager", [], None),
    ("admin", "admin", [], None),
]


async def build_world(db: AsyncSession) -> World:
    w = World()
    now = w.now
    for name, role, skills, home in USERS:
        user = User(
            username=name,
            display_name=name.title(),
            role=role,
            password_hash=_HASH,
            skills=skills,
            home_lat=home[0] if home else None,
            home_lon=home[1] if home else None,
            created_at=now,
        )
        db.add(user)
        await db.flush()
        w.users[name] = user.id

    model_a = ProductModel(
        code="HX-200", name="Chiller HX-200", category="chiller", warranty_months=24
    )
    model_b = ProductModel(
        code="EL-9", name="Elevator EL-9", category="elevator", warranty_months=36
    )
    db.add_all([model_a, model_b])
    await db.flush()

    coords = [(31.231, 121.471), (31.25, 121.45), (31.31, 121.52), (31.00, 121.20)]
    for i, (lat, lon) in enumerate(coords):
        customer = Customer(name=f"Customer {i}", phone=f"+86-21-5555-000{i}", created_at=now)
        db.add(customer)
        await db.flush()
        site = Site(
            customer_id=customer.id, name=f"Site {i}", address=f"{i} Road", lat=lat, lon=lon
        )
        db.add(site)
        await db.flush()
        model = model_a if i % 2 == 0 else model_b
        installed = date(2023, 1, 1)
        # Asset 0 is in warranty, asset 1 is out of it.
        asset = Asset(
            serial=f"SN-{i:04d}",
            customer_id=customer.id,
            site_id=site.id,
            product_model_id=model.id,
            install_date=installed,
            warranty_end=date(2030, 1, 1) if i != 1 else date(2024, 1, 1),
        )
        db.add(asset)
        await db.flush()
        w.customers.append(customer.id)
        w.sites.append(site.id)
        w.assets.append(asset.id)

    for i in range(6):
        part = Part(
            sku=f"P-{i:03d}",
            name=f"零件 {i}",
            name_en=f"Part {i}",
            unit_price_cents=1000 * (i + 1),
            compatible_models=["HX-200"] if i < 3 else ["EL-9"],
        )
        db.add(part)
        await db.flush()
        w.parts.append(part.id)

    locations = [
        ("WH-1", "warehouse", None, 31.22, 121.48),
        ("WH-2", "warehouse", None, 31.40, 121.60),
        ("VAN-1", "van", w.users["engineer1"], 31.23, 121.47),
        ("VAN-2", "van", w.users["engineer2"], 31.30, 121.50),
    ]
    for code, kind, owner, lat, lon in locations:
        loc = StockLocation(code=code, name=code, kind=kind, engineer_id=owner, lat=lat, lon=lon)
        db.add(loc)
        await db.flush()
        w.locations[code] = loc.id

    # Stock comes from ledger lines only; levels are their sums.
    ledger = [("WH-1", 0, 50), ("WH-1", 1, 5), ("WH-2", 0, 20), ("VAN-1", 0, 3), ("VAN-2", 0, 1)]
    for code, part_idx, qty in ledger:
        loc_id, part_id = w.locations[code], w.parts[part_idx]
        db.add(
            StockMovement(
                part_id=part_id,
                location_id=loc_id,
                kind="receipt",
                qty_delta=qty,
                at=now - timedelta(days=3),
                recorded_at=now,
            )
        )
        db.add(
            StockLevel(
                part_id=part_id,
                location_id=loc_id,
                on_hand=qty,
                reserved=0,
                reorder_point=10,
                updated_at=now,
            )
        )

    def request(key: str, site_idx: int) -> ServiceRequest:
        r = ServiceRequest(
            number=f"SR-T-{key}",
            channel="phone",
            category="fault",
            urgency="normal",
            customer_id=w.customers[site_idx],
            site_id=w.sites[site_idx],
            asset_id=w.assets[site_idx],
            problem=f"problem {key}",
            received_at=now,
            response_due=now + timedelta(hours=8),
            resolution_due=now + timedelta(hours=40),
        )
        db.add(r)
        return r

    today = now.replace(hour=1, minute=0, second=0)
    plan = [
        ("e1_a", "engineer1", 0, "assigned", today + timedelta(hours=1)),
        ("e1_b", "engineer1", 2, "assigned", today + timedelta(hours=3)),
        ("e1_done", "engineer1", 0, "completed", today - timedelta(days=20)),
        ("e2_a", "engineer2", 1, "assigned", today + timedelta(hours=2)),
        ("open", None, 3, "new", None),
    ]
    for key, engineer, site_idx, status, start in plan:
        req = request(key, site_idx)
        await db.flush()
        job = Job(
            number=f"J-T-{key}",
            request_id=req.id,
            engineer_id=w.users[engineer] if engineer else None,
            customer_id=w.customers[site_idx],
            site_id=w.sites[site_idx],
            asset_id=w.assets[site_idx],
            status=status,
            summary=f"job {key}",
            required_skill="hvac" if site_idx % 2 == 0 else "elevator",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1) if start else None,
            created_at=now,
            updated_at=now,
            completed_at=start + timedelta(hours=1) if status == "completed" and start else None,
        )
        db.add(job)
        await db.flush()
        w.jobs[key] = job.id
        w.requests[key] = req.id

    report_id = uuid4()
    form = {
        "report_id": str(report_id),
        "job_id": str(w.jobs["e1_done"]),
        "diagnosis": "compressor noise",
        "root_cause_category": "wear",
        "root_cause": "bearing worn",
        "prevention": "lubricate quarterly",
        "actions": "replaced bearing",
        "labour_minutes": 90,
        "parts": [],
    }
    report = WorkReport(
        id=report_id,
        report_id=report_id,
        job_id=w.jobs["e1_done"],
        version=1,
        author_id=w.users["engineer1"],
        diagnosis="compressor noise",
        root_cause_category="wear",
        root_cause="bearing worn",
        prevention="lubricate quarterly",
        actions="replaced bearing",
        labour_minutes=90,
        parts=[],
        content_sha256=report_hash(form),
        submitted_at=now - timedelta(days=20),
        received_at=now,
    )
    db.add(report)
    await db.flush()
    w.reports["e1_done"] = report.id

    shipment = Shipment(
        carrier="SF",
        tracking_number="SF1234567890",
        status="in_transit",
        from_location_id=w.locations["WH-1"],
        to_location_id=w.locations["VAN-1"],
        created_at=now - timedelta(days=1),
        eta=now + timedelta(days=1),
    )
    db.add(shipment)
    await db.flush()
    db.add(ShipmentLine(shipment_id=shipment.id, part_id=w.parts[1], qty=2))
    for status, hours in (("picked", 24), ("in_transit", 20)):
        db.add(
            ShipmentEvent(shipment_id=shipment.id, status=status, at=now - timedelta(hours=hours))
        )
    w.shipments["sf"] = shipment.id
    await db.flush()
    return w
