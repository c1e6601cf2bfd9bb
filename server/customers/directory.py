"""The customer directory: find a customer by name, and one customer with sites and assets.

Searches are bounded (paged, with a short query string) and ordered by name then id, so pages
are stable. A customer's detail lists every site and asset; customers have tens of sites, not
thousands, so it is not paged.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.customers.assets import AssetOut, asset_out
from server.customers.models import Asset, Customer, ProductModel, Site
from server.errors import NotFound


class CustomerOut(msgspec.Struct):
    id: UUID
    name: str
    phone: str
    email: str
    created_at: datetime


class SiteOut(msgspec.Struct):
    id: UUID
    name: str
    address: str
    lat: float
    lon: float
    contact_name: str
    contact_phone: str
    notes: str
    assets: list[AssetOut]


class CustomerDetailOut(msgspec.Struct):
    customer: CustomerOut
    sites: list[SiteOut]


def customer_out(c: Customer) -> CustomerOut:
    return CustomerOut(c.id, c.name, c.phone, c.email, c.created_at)


async def search(db: AsyncSession, q: str, limit: int, offset: int) -> list[CustomerOut]:
    """Customers whose name contains ``q`` (case-insensitive; every customer when empty)."""
    query = select(Customer).order_by(Customer.name, Customer.id).limit(limit).offset(offset)
    if q:
        query = query.where(Customer.name.icontains(q, autoescape=True))
    return [customer_out(c) for c in (await db.execute(query)).scalars()]


async def detail(db: AsyncSession, customer_id: UUID, today: date) -> CustomerDetailOut:
    customer = await db.get(Customer, customer_id)
    if customer is None:
        raise NotFound("no such customer")
    sites = (
        (await db.execute(select(Site).where(Site.customer_id == customer_id).order_by(Site.name)))
        .scalars()
        .all()
    )
    assets: dict[UUID, list[AssetOut]] = {site.id: [] for site in sites}
    rows = await db.execute(
        select(Asset, ProductModel)
        .join(ProductModel, ProductModel.id == Asset.product_model_id)
        .where(Asset.customer_id == customer_id)
        .order_by(Asset.serial)
    )
    for asset, model in rows.tuples():
        assets.setdefault(asset.site_id, []).append(asset_out(asset, model, today))
    return CustomerDetailOut(
        customer=customer_out(customer),
        sites=[
            SiteOut(
                s.id,
                s.name,
                s.address,
                s.lat,
                s.lon,
                s.contact_name,
                s.contact_phone,
                s.notes,
                assets[s.id],
            )
            for s in sites
        ],
    )
