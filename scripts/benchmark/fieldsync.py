"""FieldSync under test: databases (SQLite file or a dedicated PostgreSQL database), the demo
seeder, and the real server started as ``python -m server serve`` on a free loopback port.

A *base* database is seeded once per backend (``python -m server seed --scale N``: the demo
generator, through migrations, exactly as users run it); every repetition then works on a fresh
*clone* of it (a SQLite online backup, or ``CREATE DATABASE … TEMPLATE`` on PostgreSQL) so
repetitions are independent the way the peer's fresh databases are. PostgreSQL databases are
named ``fieldsync_bench_*``, created here and dropped when the run ends.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from process import ServerProcess, free_port, running

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PG_ADMIN = os.environ.get("FIELDSYNC_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_PREFIX = "fieldsync_bench_"
SEED_TIMEOUT_S = 900


def server_env(database_url: str, data_dir: Path, port: int, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    settings = {
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": key,
        "LOGIN_RATE_PER_MINUTE": "1000000",  # devices of many engineers log in at once
        "ACCESS_TOKEN_MINUTES": "240",  # longer than a full run: no refresh mid-measurement
        "SEED_DEMO": "false",
    }
    env.update({f"FIELDSYNC_{k}": v for k, v in settings.items()})
    return env


@dataclass
class Backend:
    """Where FieldSync keeps its data in this run: ``sqlite`` or ``postgresql``."""

    name: str
    work: Path
    key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    _created: list[str] = field(default_factory=list)

    # -- naming ----------------------------------------------------------------------------
    def url(self, db: str) -> str:
        """SQLAlchemy URL of database ``db`` (a file stem on SQLite)."""
        if self.name == "sqlite":
            return f"sqlite+aiosqlite:///{self.work / (db + '.db')}"
        base = PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rpartition("/")[0]
        return f"{base}/{PG_PREFIX}{db}"

    # -- lifecycle -------------------------------------------------------------------------
    def seed(self, db: str, scale: int, log: Path) -> None:
        """A new database ``db`` holding the demo data set at ``scale`` (replaces any old one)."""
        self.drop(db)
        if self.name == "postgresql":
            _pg(f'CREATE DATABASE "{PG_PREFIX}{db}"')
            self._created.append(db)
        env = server_env(self.url(db), self.work / "data", 0, self.key)
        with open(log, "ab") as out:
            subprocess.run(  # noqa: S603
                [PYTHON, "-m", "server", "seed", "--scale", str(scale)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=SEED_TIMEOUT_S,
            )

    def clone(self, base: str, db: str) -> None:
        """``db`` becomes an exact copy of ``base``."""
        self.drop(db)
        if self.name == "sqlite":
            src = sqlite3.connect(self.work / f"{base}.db")
            dst = sqlite3.connect(self.work / f"{db}.db")
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
            return
        _pg(f'CREATE DATABASE "{PG_PREFIX}{db}" TEMPLATE "{PG_PREFIX}{base}"')
        self._created.append(db)

    def drop(self, db: str) -> None:
        if self.name == "sqlite":
            for suffix in (".db", ".db-wal", ".db-shm"):
                (self.work / f"{db}{suffix}").unlink(missing_ok=True)
            return
        _pg(f'DROP DATABASE IF EXISTS "{PG_PREFIX}{db}" WITH (FORCE)')
        if db in self._created:
            self._created.remove(db)

    def drop_all(self) -> None:
        for db in list(self._created):
            self.drop(db)

    def server(self, db: str, log: Path) -> ServerProcess:
        port = free_port()
        return ServerProcess(
            f"fieldsync-{self.name}",
            [PYTHON, "-m", "server", "serve"],
            env=server_env(self.url(db), self.work / "data", port, self.key),
            cwd=ROOT,
            port=port,
            ready_path="/health",
            log=log,
        )

    @contextmanager
    def serving(self, db: str, log: Path) -> Iterator[ServerProcess]:
        with running(self.server(db, log), timeout=120) as server:
            yield server


def _pg(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used in this run, or None when it is reachable."""
    try:
        _pg("SELECT 1")
    except Exception as exc:  # unreachable for any reason: skip PostgreSQL, say why
        return f"{type(exc).__name__}: {exc}"
    return None
