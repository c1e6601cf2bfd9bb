"""The standing world's shapes, and what every scale shares: catalogue, staff and warehouses.

A shard (see :mod:`server.demo.territory`) is twenty engineers with their vans, 500 customers and
1,500 assets; ``--scale N`` generates N shards over the same catalogue, staff and warehouses, so
engineer1's world at scale 1 is engineer1's world at scale 100.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from server.demo import names
from server.demo.catalogue import MODELS, ModelSpec, part_specs
from server.demo.context import Context
from server.demo.writer import Writer

PARTS = 300
COMMON_PARTS = 10  # per product model: what vans carry and most repairs use

STAFF = (
    ("dispatcher1", "dispatcher", "陈静", "售后服务部"),
    ("logistics1", "logistics", "刘洋", "物流部"),
    ("manager1", "manager", "张建华", "售后服务部"),
    ("admin", "admin", "系统管理员", ""),
)
WAREHOUSES = (
    ("WH-PD", "浦东中心仓", "上海市浦东新区金桥路1388号", 31.262, 121.603),
    ("WH-MH", "闵行仓", "上海市闵行区剑川路955号", 31.021, 121.428),
    ("WH-BS", "宝山仓", "上海市宝山区蕴川路2158号", 31.395, 121.449),
)


@dataclass(slots=True)
class Part:
    id: UUID
    name: str
    unit: str


@dataclass(slots=True)
class Model:
    id: UUID
    spec: ModelSpec
    parts: list[Part] = field(default_factory=list)

    @property
    def common(self) -> list[Part]:
        return self.parts[:COMMON_PARTS]


@dataclass(slots=True)
class Location:
    id: UUID
    lat: float
    lon: float


@dataclass(slots=True)
class Catalogue:
    models: list[Model]
    parts: list[Part]
    staff: dict[str, UUID]
    warehouses: list[Location]
    password_hash: str

    def nearest_warehouse(self, lat: float, lon: float) -> Location:
        return min(self.warehouses, key=lambda w: (w.lat - lat) ** 2 + (w.lon - lon) ** 2)


@dataclass(slots=True)
class SiteRef:
    id: UUID
    customer_id: UUID
    lat: float
    lon: float
    contact: str
    phone: str


@dataclass(slots=True)
class AssetRef:
    id: UUID
    site: SiteRef
    model: Model
    warranty_end: date


@dataclass(slots=True)
class Engineer:
    id: UUID
    number: int  # engineer<number> is the username
    name: str
    skills: tuple[str, ...]
    lat: float
    lon: float
    van: Location
    stocked: list[Part]  # what the van carries: common parts of the models the engineer serves
    candidates: list[AssetRef]  # assets this engineer has the skill for


@dataclass(slots=True)
class Shard:
    index: int
    engineers: list[Engineer]
    assets: list[AssetRef]


def catalogue(ctx: Context, out: Writer, password_hash: str) -> Catalogue:
    """Product models, parts, staff users and warehouses: the same at every scale."""
    ctx.reseed("catalogue")
    epoch = ctx.at(ctx.today - timedelta(days=3 * 365), 9)
    models: list[Model] = []
    for spec in MODELS:
        model = Model(ctx.uuid(epoch), spec)
        models.append(model)
        out.add(
            "product_models",
            {
                "id": model.id,
                "code": spec.code,
                "name": spec.name,
                "category": spec.category,
                "warranty_months": spec.warranty_months,
            },
        )
    parts: list[Part] = []
    for item in part_specs(PARTS):
        fits = [m for m in models if m.spec.skill in item.skills]
        chosen = ctx.rng.sample(fits, min(len(fits), ctx.rng.randint(1, 3)))
        chosen.sort(key=models.index)
        part = Part(ctx.uuid(epoch), item.name, item.unit)
        parts.append(part)
        for model in chosen:
            model.parts.append(part)
        out.add(
            "parts",
            {
                "id": part.id,
                "sku": item.sku,
                "name": item.name,
                "name_en": item.name_en,
                "description": "",
                "unit": item.unit,
                "unit_price_cents": item.price_cents,
                "compatible_models": [m.spec.code for m in chosen],
            },
        )
    joined = ctx.at(ctx.today - timedelta(days=400), 9)
    staff: dict[str, UUID] = {}
    for username, role, display, team in STAFF:
        staff[role] = ctx.uuid(joined)
        out.add(
            "users",
            user_row(
                staff[role],
                username,
                display,
                role,
                password_hash,
                team,
                names.mobile(ctx.rng),
                [],
                None,
                joined,
            ),
        )
    warehouses: list[Location] = []
    for code, name, address, lat, lon in WAREHOUSES:
        location = Location(ctx.uuid(epoch), lat, lon)
        warehouses.append(location)
        out.add(
            "stock_locations",
            {
                "id": location.id,
                "code": code,
                "name": name,
                "kind": "warehouse",
                "engineer_id": None,
                "lat": lat,
                "lon": lon,
                "address": address,
            },
        )
    return Catalogue(models, parts, staff, warehouses, password_hash)


def user_row(
    id_: UUID,
    username: str,
    display: str,
    role: str,
    password_hash: str,
    team: str,
    phone: str,
    skills: list[str],
    home: tuple[float, float] | None,
    created_at: datetime,
) -> dict[str, object]:
    return {
        "id": id_,
        "username": username,
        "display_name": display,
        "role": role,
        "password_hash": password_hash,
        "is_active": True,
        "phone": phone,
        "team": team,
        "skills": skills,
        "home_lat": home[0] if home else None,
        "home_lon": home[1] if home else None,
        "locale": "zh-CN",
        "created_at": created_at,
    }
