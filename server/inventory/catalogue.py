"""The parts catalogue: finding a part by what the person in front of a machine knows.

An engineer knows a Chinese or English name (or part of one), the start of a SKU off a label, or
the product model of the machine. ``compatible_models`` is a JSON list; matching one code inside
its JSON text (quotes included, so ``HX-2`` never matches ``HX-200``) works unchanged on SQLite and
PostgreSQL, and a catalogue is small enough that this scan is cheap.
"""

from __future__ import annotations

import json
from uuid import UUID

from sqlalchemy import ColumnElement, String, cast, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound
from server.inventory.models import Part


async def search_parts(
    db: AsyncSession, *, q: str | None, model: str | None, limit: int, offset: int
) -> list[Part]:
    """Parts matching every given filter, by SKU. ``q`` matches a name in either language, a SKU
    prefix or a compatible model code; ``model`` keeps only parts fitting that model."""
    query = select(Part)
    if q:
        query = query.where(
            or_(
                Part.name.icontains(q, autoescape=True),
                Part.name_en.icontains(q, autoescape=True),
                Part.sku.istartswith(q, autoescape=True),
                _fits_model(q),
            )
        )
    if model:
        query = query.where(_fits_model(model))
    query = query.order_by(Part.sku).limit(limit).offset(offset)
    return list((await db.execute(query)).scalars())


async def get_part(db: AsyncSession, part_id: UUID) -> Part:
    part = await db.get(Part, part_id)
    if part is None:
        raise NotFound("no such part")
    return part


def _fits_model(code: str) -> ColumnElement[bool]:
    # SQLite keeps the list as json.dumps text (non-ASCII escaped), PostgreSQL's jsonb prints it
    # raw: model codes are ASCII, so a non-ASCII needle matches no model on either backend (it
    # still matches names), keeping both backends' answers the same.
    if not code.isascii():
        return false()
    needle = json.dumps(code.strip())
    return cast(Part.compatible_models, String).icontains(needle, autoescape=True)
