"""Load the deterministic demo data set into an empty database, in one write transaction.

Order: catalogue, staff and warehouses; opening warehouse stock; then per shard (twenty
engineers with their customers) the standing world, ninety days of history and today's
schedule; knowledge articles after the first shard; stock levels last, from the ledger's sums.
Rows are generated and inserted in chunks, so memory stays flat whatever the scale.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.accounts.sessions import hash_password
from server.database import WRITE_OPTION, load_models, metadata
from server.demo.context import Context
from server.demo.history import History, opening_stock
from server.demo.knowledge import write_articles
from server.demo.schedule import Schedule
from server.demo.stock import Ledger
from server.demo.territory import shard
from server.demo.world import catalogue
from server.demo.writer import Progress, Writer
from server.settings import Settings, load_settings

DEMO_PASSWORD = "fieldsync-demo"  # noqa: S105 - the documented demo login
ROWS_PER_SHARD = 43_000  # about; only sizes the progress bar until a shard is done


class DatabaseNotEmpty(Exception):
    """The demo data set is only ever loaded into a database without users."""


async def is_empty(engine: AsyncEngine) -> bool:
    """True when the database has no users yet (the schema must exist)."""
    load_models()
    async with engine.connect() as conn:
        return await _user_count(conn) == 0


async def _user_count(conn: AsyncConnection) -> int:
    users = metadata.tables["users"]
    return int(await conn.scalar(select(func.count()).select_from(users)) or 0)


async def seed_demo(
    engine: AsyncEngine,
    *,
    scale: int = 1,
    today: date | None = None,
    progress: bool = False,
    settings: Settings | None = None,
) -> dict[str, int]:
    """Write the demo data set; returns rows written per table.

    ``today`` anchors the data set (default: today in ``settings.timezone``): the same ``today``
    and scale always give the same rows, except the password hash (salted on purpose).
    """
    if scale < 1:
        raise ValueError("scale must be at least 1")
    load_models()
    settings = settings or load_settings()
    if today is None:
        today = datetime.now(ZoneInfo(settings.timezone)).date()
    password_hash = hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{WRITE_OPTION: True})  # BEGIN IMMEDIATE on SQLite
        async with conn.begin():
            if await _user_count(conn):
                raise DatabaseNotEmpty(
                    "the database already has users; demo data is only loaded into an empty one"
                )
            out = Writer(conn, progress=Progress() if progress else None)
            await generate(out, Context(today, settings), password_hash, scale)
            await _advance_movement_ids(conn)
            out.finish()
    return dict(sorted(out.counts.items()))


async def generate(out: Writer, ctx: Context, password_hash: str, scale: int) -> None:
    out.expected = ROWS_PER_SHARD * scale
    cat = catalogue(ctx, out, password_hash)
    ledger = Ledger(ctx, out)
    opening_stock(ctx, ledger, cat, scale)
    for index in range(scale):
        standing = shard(ctx, out, cat, index)
        await out.flush()
        history = History(ctx, out, cat, ledger, standing)
        for _day in history.days():
            await out.flush()
        Schedule(ctx, out, cat, ledger, history).write(standing)
        if index == 0:
            write_articles(ctx, out, cat, history.repairs.examples)
        await out.flush()
        if index == 0:  # now the real size of a shard is known
            out.expected = out.written * scale
    ctx.reseed("levels")
    for row in ledger.levels({w.id for w in cat.warehouses}):
        out.add("stock_levels", row)
        await out.flush()
    await out.flush(force=True)


async def _advance_movement_ids(conn: AsyncConnection) -> None:
    """PostgreSQL: move the movement id sequence past the ids written here explicitly."""
    if conn.dialect.name != "postgresql":
        return
    table = metadata.tables["stock_movements"]
    top = await conn.scalar(select(func.max(table.c.id)))
    if not top:
        return
    names = {"stock_movements_id_seq"}
    serial = await conn.scalar(text("SELECT pg_get_serial_sequence('stock_movements', 'id')"))
    if serial:
        names.add(serial)
    for name in sorted(names):
        found = await conn.scalar(text("SELECT CAST(to_regclass(:name) AS text)"), {"name": name})
        if found is not None:
            await conn.execute(
                text("SELECT setval(CAST(:name AS regclass), :top)"), {"name": name, "top": top}
            )
