"""What a refused write must leave untouched: the ledger and every stock level."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.inventory.models import StockLevel, StockMovement


async def ledger_state(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, list[Any]]:
    """(movement count, every level row) — equal before and after a refused write."""
    async with sessions() as db:
        count = (await db.execute(select(func.count()).select_from(StockMovement))).scalar_one()
        levels = (
            await db.execute(
                select(
                    StockLevel.part_id,
                    StockLevel.location_id,
                    StockLevel.on_hand,
                    StockLevel.reserved,
                ).order_by(StockLevel.part_id, StockLevel.location_id)
            )
        ).all()
    return count, [tuple(r) for r in levels]
