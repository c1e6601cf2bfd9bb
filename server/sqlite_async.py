"""aiosqlite with one thread hop per statement instead of three or four.

aiosqlite runs each SQLite connection in its own thread and hands it one call at a time. The
SQLAlchemy adapter for it makes a separate call for every cursor step — open a cursor, execute,
fetch the rows, close — so each statement crosses between the event loop and the thread three or
four times, and each crossing wakes a thread and then the loop. Measured here, a sync push of two
operations ran 23 statements in 83 crossings (~27 ms); those wake-ups, not SQLite, were most of it.

This module keeps everything else of that adapter (its connection, transactions, error
handling, the thread that keeps SQLite off the event loop) and changes only the cursor: a
statement runs as one function in the connection's thread — cursor, execute, fetch and close
together — and comes back with its rows. It is plugged in through SQLAlchemy's documented
``module=`` engine argument (an alternative DBAPI module), so URLs stay ``sqlite+aiosqlite://``.

It relies on two private members that SQLAlchemy's own adapter already uses: aiosqlite's
``Connection._execute`` (queue a function for the connection's thread) and ``Connection._conn``
(the ``sqlite3.Connection`` inside). ``tests/test_sqlite_async.py`` runs the adapter's statements,
errors and transactions against a real file, so an aiosqlite change that breaks this fails there.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)

_Outcome = tuple[Any, list[Any], int, int]  # description, rows, lastrowid, rowcount


def _run(db: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In the connection's thread: the whole statement, rows included."""
    cursor = db.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid or 0, cursor.rowcount
    finally:
        cursor.close()


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _one_hop(self, operation: str, parameters: Any, many: bool) -> None:
        connection: Any = self._connection  # the aiosqlite.Connection
        try:
            outcome: _Outcome = self.await_(
                connection._execute(_run, connection._conn, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description, rows, self.lastrowid, self.rowcount = outcome
        self._rows.clear()
        self._rows.extend(rows)

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._one_hop(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._one_hop(operation, seq_of_parameters, True)


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        # a server-side cursor streams its rows, so it keeps the adapter's own cursor
        return AsyncAdapt_aiosqlite_ss_cursor(self) if server_side else _OneHopCursor(self)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to pass as ``create_async_engine(..., module=OneHopDBAPI())``."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        if type(adapted) is not AsyncAdapt_aiosqlite_connection:
            return adapted  # SQLAlchemy's async_fallback mode: leave it as it is
        return _OneHopConnection(self, adapted._connection)
