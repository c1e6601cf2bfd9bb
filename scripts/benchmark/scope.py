"""The bench's 10k-document engineer scope, built from real domain rows (never replica rows).

The demo engineer's scope is about 1.4k documents (their jobs with customers, sites, assets,
history and articles; the 300-part catalogue; stock at the three warehouses and their van). The
bench grows it to ``target`` documents the way a bigger catalogue would: it adds parts made from
the shared deterministic generator's part documents (``docgen.py``: name, category, price,
compatible models, with the generator's filler text as the description, sized so a rendered part
change is about 330 bytes) and books an opening receipt for each at the first warehouse through
the server's own stock ledger (``server.inventory.ledger.record_movement``), which creates the
stock level. Parts and warehouse stock are in every engineer's scope, so every engineer's scope
grows the same way. The unit of work is committed with ``replication.commit``: replicas already
built receive the new documents exactly as they would in production; engineers who never pulled
get theirs built by the server on their first pull.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from docgen import make_doc
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.accounts.models import User
from server.database import begin_write, create_engine, load_models
from server.inventory.ledger import verify_ledger
from server.inventory.models import Part, StockLevel, StockLocation, StockMovement
from server.settings import load_settings
from server.syncing.replication import commit, touch
from server.syncing.scope import scope_keys
from sync.changes import encode_put

PART_CHANGE_BYTES = 330
_PROBE_ID = str(uuid.UUID(int=0))


def _part_fields(doc: dict[str, Any]) -> dict[str, Any]:
    fields = {
        "sku": f"BENCH-{doc['sku']}",
        "name": doc["name"],
        "name_en": doc["name"],
        "unit": "pc",
        "unit_price_cents": doc["price_cents"],
        "compatible_models": list(doc["compatible_models"]),
        "description": "",
    }
    base = len(encode_put("part", _PROBE_ID, 1, fields))
    fields["description"] = doc["notes"][: max(0, PART_CHANGE_BYTES - base)]
    return fields


def part_documents(n: int) -> list[dict[str, Any]]:
    """The first ``n`` part documents of the shared generator, as catalogue fields."""
    out: list[dict[str, Any]] = []
    i = 0
    while len(out) < n:
        doc = make_doc(i)
        if doc["type"] == "part":
            out.append(_part_fields(doc))
        i += 1
    return out


async def _scope_size(db: AsyncSession, username: str) -> tuple[str, int]:
    uid = (await db.execute(select(User.id).where(User.username == username))).scalar_one()
    return str(uid), len(await scope_keys(db, str(uid)))


async def grow_scope(
    database_url: str, *, target: int, engineer: str = "engineer1"
) -> dict[str, Any]:
    """Add parts and opening warehouse stock until ``engineer``'s scope holds ``target``
    documents; returns what was written and how long it took (the bench's bulk load)."""
    load_models()
    engine = create_engine(load_settings(database_url=database_url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as db:
            _, before = await _scope_size(db, engineer)
            warehouse = (
                await db.execute(
                    select(StockLocation.id)
                    .where(StockLocation.kind == "warehouse")
                    .order_by(StockLocation.code)
                    .limit(1)
                )
            ).scalar_one()
        need = max(0, target - before)
        n_parts = (need + 1) // 2  # one part + one warehouse stock level each
        n_stock = need - n_parts
        fields = part_documents(n_parts)
        cpu0, t0 = time.process_time(), time.perf_counter()
        async with sessions() as db:
            await begin_write(db)
            parts = [Part(**f) for f in fields]
            db.add_all(parts)
            await db.flush()
            at = datetime.now(UTC)
            stocked = [(p.id, 5 + j % 40) for j, p in enumerate(parts[:n_stock])]
            if stocked:
                await db.execute(
                    insert(StockMovement),
                    [
                        {
                            "part_id": p,
                            "location_id": warehouse,
                            "kind": "receipt",
                            "qty_delta": q,
                            "at": at,
                            "recorded_at": at,
                            "note": "bench opening stock",
                        }
                        for p, q in stocked
                    ],
                )
                await db.execute(
                    insert(StockLevel),
                    [
                        {
                            "id": uuid.uuid4(),
                            "part_id": p,
                            "location_id": warehouse,
                            "on_hand": q,
                            "reserved": 0,
                            "reorder_point": 0,
                            "updated_at": at,
                        }
                        for p, q in stocked
                    ],
                )
                # Core inserts are invisible to flush tracking: name the documents they change
                touch(db, *(f"stock:{warehouse}/{p}" for p, _ in stocked))
            await commit(db)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        async with sessions() as db:
            _, after = await _scope_size(db, engineer)
            mismatches = await verify_ledger(db)
        if mismatches:
            raise RuntimeError(f"the bench load broke the stock ledger: {mismatches[:3]}")
    finally:
        await engine.dispose()
    return {
        "seconds": seconds,
        "loader_cpu_s": cpu,
        "docs": n_parts + n_stock,
        "parts": n_parts,
        "stock_levels": n_stock,
        "scope_before": before,
        "scope_after": after,
    }
