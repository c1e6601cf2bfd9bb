"""A shard's territory: twenty engineers with their vans, 500 customers, their sites and assets.

Engineers' primary skills cycle through the skills product models need, so every asset has
engineers who can serve it; their vans carry the common parts of the models they serve.
Customers have one or two sites somewhere in the city and 1,500 assets between them, installed
over the last six years.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from uuid import UUID

from server.demo import names
from server.demo.catalogue import REQUIRED_SKILLS, SKILLS
from server.demo.context import Context
from server.demo.world import AssetRef, Catalogue, Engineer, Location, Shard, SiteRef, user_row
from server.demo.writer import Writer

ENGINEERS_PER_SHARD = 20
CUSTOMERS_PER_SHARD = 500
ASSETS_PER_SHARD = 1500


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shard(ctx: Context, out: Writer, cat: Catalogue, index: int) -> Shard:
    """Twenty engineers with vans, 500 customers with 1-2 sites each, ~1,500 assets."""
    ctx.reseed(f"shard-{index}")
    rng = ctx.rng
    engineers = [_engineer(ctx, out, cat, index, i) for i in range(ENGINEERS_PER_SHARD)]
    by_skill: dict[str, list[AssetRef]] = {s: [] for s in SKILLS}
    # Assets per customer average three: a few big customers, many with one or two machines.
    plan = [rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 7)) for _ in range(CUSTOMERS_PER_SHARD)]
    total = sum(plan)
    plan = [max(1, round(n * ASSETS_PER_SHARD / total)) for n in plan]
    while (excess := sum(plan) - ASSETS_PER_SHARD) != 0:  # exactly 1,500 per shard
        i = rng.randrange(len(plan))
        if excess < 0 or plan[i] > 1:
            plan[i] += -1 if excess > 0 else 1
    for n_assets in plan:
        since = ctx.today - timedelta(days=rng.randrange(90, 6 * 365))
        created = ctx.at(since, rng.uniform(9, 17))
        customer_id = ctx.uuid(created)
        full, short = names.company(rng)
        out.add(
            "customers",
            {
                "id": customer_id,
                "name": full,
                "phone": names.landline(rng),
                "email": f"service{ctx.count('customer'):06d}@customer.example.cn",
                "created_at": created,
            },
        )
        sites = [_site(ctx, out, customer_id, short, created) for _ in range(rng.choice((1, 1, 2)))]
        for _ in range(n_assets):
            asset = _asset(ctx, out, cat, rng.choice(sites), since)
            by_skill[asset.model.spec.skill].append(asset)
    for engineer in engineers:
        engineer.candidates = [a for s in engineer.skills for a in by_skill[s]]
    return Shard(index, engineers, [a for s in SKILLS for a in by_skill[s]])


def _engineer(ctx: Context, out: Writer, cat: Catalogue, index: int, i: int) -> Engineer:
    rng = ctx.rng
    number = index * ENGINEERS_PER_SHARD + i + 1
    joined = ctx.at(ctx.today - timedelta(days=rng.randrange(120, 1500)), 9)
    primary = REQUIRED_SKILLS[i % len(REQUIRED_SKILLS)]
    extra = rng.sample([s for s in SKILLS if s != primary], rng.randint(1, 3))
    skills = (primary, *extra)
    lat, lon = names.home_base(rng)
    display = names.person(rng)
    team = f"{names.area(lat, lon)}服务{index + 1}组"
    engineer_id = ctx.uuid(joined)
    out.add(
        "users",
        user_row(
            engineer_id,
            f"engineer{number}",
            display,
            "engineer",
            cat.password_hash,
            team,
            names.mobile(rng),
            list(skills),
            (lat, lon),
            joined,
        ),
    )
    van = Location(
        ctx.uuid(joined),
        round(lat + rng.uniform(-0.005, 0.005), 6),
        round(lon + rng.uniform(-0.005, 0.005), 6),
    )
    plate = f"沪A·D{rng.randrange(10000, 99999)}"
    out.add(
        "stock_locations",
        {
            "id": van.id,
            "code": f"VAN-{number:04d}",
            "name": f"{display}的服务车 {plate}",
            "kind": "van",
            "engineer_id": engineer_id,
            "lat": van.lat,
            "lon": van.lon,
            "address": "",
        },
    )
    stocked = list(
        {p.id: p for m in cat.models if m.spec.skill in skills for p in m.common}.values()
    )
    return Engineer(engineer_id, number, display, skills, lat, lon, van, stocked, [])


def _site(ctx: Context, out: Writer, customer_id: UUID, short: str, created: datetime) -> SiteRef:
    rng = ctx.rng
    address, lat, lon = names.place(rng)
    site = SiteRef(ctx.uuid(created), customer_id, lat, lon, names.person(rng), names.mobile(rng))
    out.add(
        "sites",
        {
            "id": site.id,
            "customer_id": customer_id,
            "name": f"{short}{rng.choice(names.SITE_KINDS)}",
            "address": address,
            "lat": lat,
            "lon": lon,
            "contact_name": site.contact,
            "contact_phone": site.phone,
            "notes": "",
        },
    )
    return site


def _asset(ctx: Context, out: Writer, cat: Catalogue, site: SiteRef, since: date) -> AssetRef:
    rng = ctx.rng
    model = rng.choice(cat.models)
    installed = since + timedelta(days=rng.randrange(0, max(1, (ctx.today - since).days - 30)))
    warranty_end = add_months(installed, model.spec.warranty_months)
    serial = f"{model.spec.code.replace('-', '')}{installed:%y%m}{ctx.count('serial'):07d}"
    asset = AssetRef(ctx.uuid(ctx.at(installed, 10)), site, model, warranty_end)
    out.add(
        "assets",
        {
            "id": asset.id,
            "serial": serial,
            "customer_id": site.customer_id,
            "site_id": site.id,
            "product_model_id": model.id,
            "install_date": installed,
            "warranty_end": warranty_end,
        },
    )
    return asset
