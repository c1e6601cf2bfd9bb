"""The one database gate: engine, session factory, SQLite tuning and the write-transaction rule.

SQLite is the embedded default (WAL, busy timeout, foreign keys on). Every transaction that writes
starts with ``BEGIN IMMEDIATE`` (call :func:`begin_write` first), so two writers queue on the
busy timeout instead of failing half-way with ``SQLITE_BUSY`` when a deferred read lock cannot be
upgraded. Reads use plain deferred transactions and never block writers under WAL.
PostgreSQL (asyncpg) is the scale-out path; the same code runs there.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar
from uuid import UUID

from advanced_alchemy.base import orm_registry
from advanced_alchemy.extensions.litestar import (
    AlembicAsyncConfig,
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
)
from litestar.di import NamedDependency
from sqlalchemy import BindParameter, MetaData, bindparam, event, func, select
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import Executable

from server.settings import Settings
from server.sqlite_async import OneHopDBAPI

MIGRATIONS = "server/migrations"
WRITE_OPTION = "fieldsync_write"
IN_CHUNK = 500  # values per IN (…) list: far below SQLite's and asyncpg's bound-parameter limits

_T = TypeVar("_T")


def in_chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``items`` in slices small enough for one ``IN (…)`` list on every backend."""
    return (items[i : i + IN_CHUNK] for i in range(0, len(items), IN_CHUNK))


def in_list(name: str = "ids") -> BindParameter[Any]:
    """An ``IN (…)`` list given at execution (``{name: [...]}``, at most ``IN_CHUNK`` values),
    so that a hot statement is built once: building one costs more than running it."""
    return bindparam(name, expanding=True)


metadata: MetaData = orm_registry.metadata

# Handlers take the per-request session as ``db_session: Db`` (injected by advanced-alchemy).
Db = NamedDependency[AsyncSession]


def load_models() -> None:
    """Import every business area's models so ``metadata`` knows the whole schema."""
    from server.accounts import models as _accounts  # noqa: F401
    from server.audit import models as _audit  # noqa: F401
    from server.complaints import models as _complaints  # noqa: F401
    from server.customers import models as _customers  # noqa: F401
    from server.feedback import models as _feedback  # noqa: F401
    from server.inventory import models as _inventory  # noqa: F401
    from server.jobs import models as _jobs  # noqa: F401
    from server.knowledge import models as _knowledge  # noqa: F401
    from server.logistics import models as _logistics  # noqa: F401
    from server.notifications import models as _notifications  # noqa: F401
    from server.reports import models as _reports  # noqa: F401
    from server.syncing import models as _syncing  # noqa: F401


def create_engine(settings: Settings, *, pool: bool = True) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": settings.log_sql}
    if settings.is_sqlite:
        # One writer at a time; readers run beside it thanks to WAL.
        kwargs["connect_args"] = {"timeout": 30, "isolation_level": None}
        kwargs["module"] = OneHopDBAPI()  # aiosqlite, one thread hop per statement
    else:
        kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
    if not pool:
        kwargs = {k: v for k, v in kwargs.items() if k not in {"pool_size", "max_overflow"}}
        kwargs["poolclass"] = NullPool
    engine = create_async_engine(settings.database_url, **kwargs)
    if settings.is_sqlite:
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
            "temp_store=MEMORY",
            "cache_size=-32000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        # The driver runs in autocommit mode (isolation_level=None) so we own BEGIN.
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def begin_write(session: AsyncSession) -> None:
    """Start the session's transaction as a writer (``BEGIN IMMEDIATE`` on SQLite).

    Call before the first statement of any unit of work that writes. Harmless on PostgreSQL.
    """
    if session.in_transaction():
        return
    await session.connection(execution_options={WRITE_OPTION: True})


async def advisory_lock(db: AsyncSession, name: str) -> None:
    """PostgreSQL: wait for, then hold until commit or rollback, the advisory lock ``name``.

    A writer that must see everything committed by every earlier writer of the same kind takes
    it before it reads: the lock is released only when the holder commits, and each READ
    COMMITTED statement reads what is committed when it starts, so the next holder's reads see
    the previous holder's writes. A no-op on SQLite, whose writers already run one at a time
    (:func:`begin_write`). Re-entrant within one transaction."""
    if db.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    await db.execute(select(func.pg_advisory_xact_lock(key)))


def alchemy_config(settings: Settings, engine: AsyncEngine) -> SQLAlchemyAsyncConfig:
    """advanced-alchemy's config: per-request sessions for Litestar and Alembic's settings."""
    return SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False, autoflush=False),
        alembic_config=AlembicAsyncConfig(
            script_location=MIGRATIONS,
            script_config=f"{MIGRATIONS}/alembic.ini",
            version_table_name="alembic_version",
            render_as_batch=True,
        ),
        # No autocommit: advanced-alchemy's autocommit handler swallows commit errors after the
        # status is decided, so a 2xx could go out for work that never committed. Writers commit
        # explicitly (``server.syncing.replication.commit``); anything else is rolled back.
        before_send_handler=None,
        create_all=False,
    )


class Reads:
    """Short read-only transactions for the hot paths (a pull's reads, the per-request session
    check), through SQLAlchemy Core without an ORM session.

    Why not the session: measured here, one statement through an ``AsyncSession`` on aiosqlite
    costs ~0.5 ms (session bookkeeping plus a thread hop per driver call), against ~15 µs for a
    Core statement on stdlib ``sqlite3``; a pull of nothing new paid ~4 ms for its five
    statements. So on a SQLite file the reads run synchronously, on the event loop thread, on a
    plain (sync) engine of the same file: they are indexed and short, and WAL readers never wait
    for the writer (``query_only`` keeps these connections from ever writing). Elsewhere
    (PostgreSQL, an in-memory SQLite) they run on an ``AsyncConnection`` of the main engine.

    ``transaction()`` yields an object whose ``execute(statement, params)`` returns a result
    to consume before the block ends (rows, ``first()``, ``scalars()``), whichever way it ran.
    Hot statements are built once with named ``bindparam``s and executed with ``params``:
    building a statement and its cache key costs more than running it here.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sync: Engine | None = None
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self._sync = create_sync_engine(
                url.set(drivername="sqlite"),
                connect_args={"isolation_level": None, "check_same_thread": False},
                # Never block the event loop waiting for a pooled connection: open another.
                pool_size=4,
                max_overflow=-1,
            )

            @event.listens_for(self._sync, "connect")
            def on_connect(dbapi_conn: Any, _record: Any) -> None:
                for pragma in ("busy_timeout=5000", "cache_size=-32000", "query_only=ON"):
                    dbapi_conn.execute(f"PRAGMA {pragma}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[ReadTx]:
        if self._sync is not None:
            with self._sync.connect() as conn:
                conn.exec_driver_sql("BEGIN")  # one snapshot for every read of the block
                try:
                    yield _SyncRead(conn)
                finally:
                    conn.rollback()
            return
        async with self._engine.connect() as aconn:
            try:
                yield _AsyncRead(aconn)
            finally:
                await aconn.rollback()

    def dispose(self) -> None:
        if self._sync is not None:
            self._sync.dispose()


class ReadTx(Protocol):
    async def execute(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> Result[Any]: ...


class _SyncRead:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> Result[Any]:
        return self._conn.execute(statement, params)


class _AsyncRead:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def execute(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> Result[Any]:
        return await self._conn.execute(statement, params)


_READS: weakref.WeakKeyDictionary[Engine, Reads] = weakref.WeakKeyDictionary()


def reads_for(engine: AsyncEngine) -> Reads:
    """The one ``Reads`` of ``engine`` (shared by the sync store and the auth check)."""
    reads = _READS.get(engine.sync_engine)
    if reads is None:
        reads = _READS[engine.sync_engine] = Reads(engine)
    return reads


class RowInserter:
    """``INSERT`` of many rows of one table, with each column's values converted once per
    distinct value.

    SQLAlchemy's executemany converts every parameter of every row through its type's bind
    processor (a UUID through advanced-alchemy's ``GUID`` and then the binary type, a timestamp
    through ``DateTimeUTC`` and then SQLite's text format): ~10 µs a row for an operation record,
    a fifth of a 1,000-operation push. The rows of one batch repeat most values (one ``now``,
    a few jobs, parts, locations and one device), so a per-column memo of the same processors
    leaves about one conversion per distinct value; the rows then go to the driver as they are
    (``exec_driver_sql``, the statement compiled once per dialect and column set). Conversions
    are SQLAlchemy's own, so the stored values are exactly what ``insert(table)`` would store.

    Columns a row leaves out get their Python-side default (``default=`` of the model), as
    with ``insert(table)``; every row must name the same columns.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self._plans: dict[tuple[str, tuple[str, ...]], _InsertPlan] = {}

    async def execute(self, db: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        keys = tuple(rows[0])
        if any(r.keys() != rows[0].keys() for r in rows):
            raise ValueError(f"rows for {self.table.name} name different columns")
        conn = await db.connection()
        plan = self._plans.get((conn.dialect.name, keys))
        if plan is None:
            plan = self._plans[(conn.dialect.name, keys)] = _InsertPlan(
                self.table, keys, conn.dialect
            )
        await conn.exec_driver_sql(plan.sql, plan.parameters(rows))


class _InsertPlan:
    def __init__(self, table: Any, keys: tuple[str, ...], dialect: Any) -> None:
        defaults = {
            c.name: c.default
            for c in table.columns
            if c.name not in keys
            and c.default is not None
            # a value known in Python; a sequence or the ORM's sentinel column is left out
            and (c.default.is_scalar or c.default.is_callable)
        }
        names = keys + tuple(defaults)
        compiled = table.insert().values({n: bindparam(n) for n in names}).compile(dialect=dialect)
        self.sql = compiled.string
        order = list(compiled.positiontup or names) if dialect.positional else list(names)
        self.positional = dialect.positional
        self.names = order
        self.defaults = defaults
        self.processors = [
            table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in order
        ]

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        if self.defaults:
            rows = [{**r, **{n: _default(d) for n, d in self.defaults.items()}} for r in rows]
        columns = []
        for name, proc in zip(self.names, self.processors, strict=True):
            values = [r[name] for r in rows]
            if proc is not None:
                memo: dict[Any, Any] = {}
                for i, v in enumerate(values):
                    if v is None:
                        continue
                    # a UUID's own __hash__ and __eq__ are Python code: key it by its int
                    key = v.int if v.__class__ is UUID else v
                    try:
                        values[i] = memo[key]
                    except KeyError:
                        values[i] = memo[key] = proc(v)
                    except TypeError:  # unhashable (a JSON value): convert it as it is
                        values[i] = proc(v)
            columns.append(values)
        if self.positional:
            return list(zip(*columns, strict=True))
        return [dict(zip(self.names, row, strict=True)) for row in zip(*columns, strict=True)]


def _default(default: Any) -> Any:
    if default.is_scalar:
        return default.arg
    return default.arg(None)  # SQLAlchemy wraps argument-less callables as ``lambda ctx: f()``
