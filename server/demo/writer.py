"""Buffered bulk inserts in foreign-key order, with an optional progress bar on stderr.

Generators call :meth:`Writer.add` for each row and the seeder awaits :meth:`Writer.flush` between
steps. A flush inserts every buffered table in dependency order (``metadata.sorted_tables``), so a
row may reference any row generated before it: its parent is either already in the database or
in the same flush, ahead of it. Memory stays bounded by ``chunk`` rows however large the scale.

Rows go to the driver's ``executemany`` directly: binding millions of values through SQLAlchemy's
per-value type processors costs more than generating them. Values are converted as the column
types would convert them — a fast path for the two hot types (UUID and UTC datetime), the type's
own bind processor for everything else — and ``tests/demo`` checks the stored values match a
plain SQLAlchemy insert. Every row of a table must carry every column (no Python-side defaults).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from server.database import metadata

Row = dict[str, Any]
Convert = Callable[[Any], Any] | None


def _uuid_bytes(value: UUID | None) -> bytes | None:
    return None if value is None else value.bytes


def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME storage format, in UTC: "2026-11-23 01:30:00.000000".
    return None if value is None else value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _converter(table: Table, key: str, dialect: Dialect) -> Convert:
    kind = table.c[key].type
    native = dialect.name == "postgresql"  # asyncpg takes UUIDs and aware datetimes as they are
    if isinstance(kind, GUID) and kind.binary:
        return None if native else _uuid_bytes
    if isinstance(kind, DateTimeUTC):
        return None if native else _sqlite_datetime
    return kind.dialect_impl(dialect).bind_processor(dialect)


def insert_sql(table: Table, keys: list[str], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    if dialect.paramstyle == "qmark":
        marks = ["?"] * len(keys)
    elif dialect.paramstyle == "numeric_dollar":
        marks = [f"${i}" for i in range(1, len(keys) + 1)]
    else:
        raise NotImplementedError(f"paramstyle {dialect.paramstyle}")
    columns = ", ".join(quote(k) for k in keys)
    return f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({', '.join(marks)})"  # noqa: S608


class Progress:
    """``[#####-----]  52%  123,456 rows  61,234 rows/s`` redrawn in place on a terminal line."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int, total: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._drawn < 0.2:
            return
        self._drawn = now
        fraction = 1.0 if final else min(done / max(total, 1), 0.99)
        filled = int(fraction * self.WIDTH)
        rate = done / max(now - self.started, 1e-6)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        end = "\n" if final else ""
        self.stream.write(f"\r[{bar}] {fraction:4.0%}  {done:,} rows  {rate:,.0f} rows/s{end}")
        self.stream.flush()


class Writer:
    def __init__(
        self,
        conn: AsyncConnection,
        *,
        chunk: int = 20_000,
        progress: Progress | None = None,
        fast: bool = True,
    ) -> None:
        self.conn = conn
        self.chunk = chunk
        self.progress = progress
        self.fast = fast  # False: plain SQLAlchemy inserts (tests compare the two)
        self.expected = 0  # total rows expected, for the progress bar; the seeder refines it
        self.counts: Counter[str] = Counter()
        self._tables = {t.name: t for t in metadata.sorted_tables}
        self._buffers: dict[str, list[Row]] = {name: [] for name in self._tables}
        self._pending = 0
        self._plans: dict[str, tuple[str, list[str], list[Convert]]] = {}

    def add(self, table: str, row: Row) -> None:
        self._buffers[table].append(row)
        self._pending += 1

    @property
    def written(self) -> int:
        return sum(self.counts.values())

    async def flush(self, *, force: bool = False) -> None:
        if self._pending == 0 or (not force and self._pending < self.chunk):
            return
        for name, rows in self._buffers.items():
            if rows:
                await self._insert(name, rows)
                self.counts[name] += len(rows)
                self._buffers[name] = []
        self._pending = 0
        if self.progress is not None:
            self.progress.update(self.written, self.expected)

    async def _insert(self, name: str, rows: list[Row]) -> None:
        table = self._tables[name]
        if not self.fast:
            await self.conn.execute(insert(table), rows)
            return
        if name not in self._plans:
            keys = list(rows[0])
            dialect = self.conn.dialect
            converters = [_converter(table, key, dialect) for key in keys]
            self._plans[name] = (insert_sql(table, keys, dialect), keys, converters)
        sql, keys, converters = self._plans[name]
        plan = list(zip(keys, converters, strict=True))
        params = [tuple(row[k] if f is None else f(row[k]) for k, f in plan) for row in rows]
        await self.conn.exec_driver_sql(sql, params)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress.update(self.written, self.expected, final=True)
