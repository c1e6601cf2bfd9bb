"""Assets: how they are shown, their warranty standing, and intake lookup by serial number.

Warranty is judged on the local calendar day (``settings.timezone``): the end date is the last
day covered, so an asset whose warranty ends today is still ``in_warranty``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.customers.models import Asset, Customer, ProductModel, Site
from server.errors import NotFound

WarrantyStatus = Literal["in_warranty", "expired"]


class ProductModelOut(msgspec.Struct):
    id: UUID
    code: str
    name: str
    category: str


class AssetOut(msgspec.Struct):
    id: UUID
    serial: str
    site_id: UUID
    product_model: ProductModelOut
    install_date: date
    warranty_end: date
    warranty_status: WarrantyStatus


class AssetLookupOut(msgspec.Struct):
    """An asset found by serial, with whose it is and where, for request intake."""

    asset: AssetOut
    customer_id: UUID
    customer_name: str
    customer_phone: str
    site_name: str
    site_address: str


def local_today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def warranty_status(warranty_end: date, today: date) -> WarrantyStatus:
    return "in_warranty" if today <= warranty_end else "expired"


def asset_out(asset: Asset, model: ProductModel, today: date) -> AssetOut:
    return AssetOut(
        id=asset.id,
        serial=asset.serial,
        site_id=asset.site_id,
        product_model=ProductModelOut(model.id, model.code, model.name, model.category),
        install_date=asset.install_date,
        warranty_end=asset.warranty_end,
        warranty_status=warranty_status(asset.warranty_end, today),
    )


async def by_serial(db: AsyncSession, serial: str, today: date) -> AssetLookupOut:
    row = (
        await db.execute(
            select(Asset, ProductModel, Customer, Site)
            .join(ProductModel, ProductModel.id == Asset.product_model_id)
            .join(Customer, Customer.id == Asset.customer_id)
            .join(Site, Site.id == Asset.site_id)
            .where(Asset.serial == serial)
        )
    ).first()
    if row is None:
        raise NotFound("no asset with that serial number")
    asset, model, customer, site = row
    return AssetLookupOut(
        asset=asset_out(asset, model, today),
        customer_id=customer.id,
        customer_name=customer.name,
        customer_phone=customer.phone,
        site_name=site.name,
        site_address=site.address,
    )
