"""Command line: ``python -m server serve|migrate|seed``. The ``scripts/`` wrappers call these."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
from collections.abc import Sequence

from server.settings import ConfigError, Settings, load_settings

DEMO_USERS = ["engineer1 … engineer20", "dispatcher1", "logistics1", "manager1", "admin"]


def migrate(settings: Settings) -> None:
    """Bring the schema to the newest migration (Alembic through advanced-alchemy)."""
    from advanced_alchemy.alembic.commands import AlembicCommands

    from server.database import alchemy_config, create_engine, load_models

    load_models()
    engine = create_engine(settings, pool=False)
    AlembicCommands(sqlalchemy_config=alchemy_config(settings, engine)).upgrade("head")


async def _seed(settings: Settings, scale: int, only_if_empty: bool, progress: bool) -> bool:
    from server.database import create_engine
    from server.demo import DatabaseNotEmpty, is_empty, seed_demo

    engine = create_engine(settings, pool=False)
    try:
        if only_if_empty and not await is_empty(engine):
            return False
        counts = await seed_demo(engine, scale=scale, progress=progress, settings=settings)
    except DatabaseNotEmpty as exc:
        print(f"not seeding: {exc}", file=sys.stderr)
        return False
    finally:
        await engine.dispose()
    total = sum(counts.values())
    print(f"seeded {total:,} rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return True


async def _compact(settings: Settings) -> int:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from server.database import create_engine, load_models
    from server.syncing.compaction import compact
    from server.syncing.store import SqlStore

    load_models()
    engine = create_engine(settings, pool=False)
    try:
        store = SqlStore(async_sessionmaker(engine, expire_on_commit=False))
        return await compact(store, settings.sync_retention_days)
    finally:
        await engine.dispose()


def serve(settings: Settings) -> None:
    import uvicorn

    from server.app import create_app

    migrate(settings)
    if settings.seed_demo and asyncio.run(_seed(settings, 1, True, False)):
        print("demo data loaded")
    if settings.seed_demo:
        from server.demo import DEMO_PASSWORD

        print(f"demo logins (password {DEMO_PASSWORD}): " + ", ".join(DEMO_USERS))
    print(
        f"FieldSync on http://{settings.host}:{settings.port}/  (API schema: /schema/openapi.json)"
    )
    app = create_app(settings)
    settle_heap()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_S,
    )


# Idle keep-alive connections outlive the clients' own idle limit (httpx drops them after 5 s,
# browsers later still): a server that closes first (uvicorn's default is 5 s) races a client
# reusing the connection at that moment, and the request fails with a connection reset.
KEEP_ALIVE_S = 75


def settle_heap() -> None:
    """Tune the cyclic garbage collector for a long-running server.

    Everything built at start-up (modules, SQLAlchemy's mappings, the app) lives as long as the
    process, yet every full collection would walk it again; a 1,000-operation push allocates
    enough objects to set off several. Freezing the start-up heap and collecting the youngest
    generation every 10,000 allocations instead of 700 took that push from ~300 ms to ~170 ms
    here (``docs/benchmarks.md``). Only ``serve`` does this; tests build many apps in one
    process, and frozen objects are never freed."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="migrate, seed demo data if FIELDSYNC_SEED_DEMO and empty, run")
    sub.add_parser("migrate", help="upgrade the database schema to the newest migration")
    sub.add_parser("compact", help="purge replica-log removes older than the retention window")
    dev = sub.add_parser("device", help="simulate one engineer's device against a running server")
    dev.add_argument("--url", default="http://127.0.0.1:8000")
    dev.add_argument("--user", default="engineer1")
    dev.add_argument("--password", default="fieldsync-demo")
    dev.add_argument("--state", default="device.json", help="the device's local storage file")
    dev.add_argument("--notes", type=int, default=0, help="queue this many job notes first")
    dev.add_argument("--offline", action="store_true", help="only queue; do not sync")
    seed = sub.add_parser("seed", help="load the deterministic demo data set")
    seed.add_argument("--scale", type=int, default=1, help="multiply the data set (100 ≈ 1M+ rows)")
    seed.add_argument("--if-empty", action="store_true", help="do nothing if users exist")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.command == "device":
        from server.syncing.device import simulate

        summary = asyncio.run(
            simulate(
                args.url,
                args.user,
                args.password,
                args.state,
                notes=args.notes,
                offline=args.offline,
            )
        )
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    match args.command:
        case "serve":
            serve(settings)
        case "migrate":
            migrate(settings)
        case "compact":
            print(f"purged {asyncio.run(_compact(settings))} remove changes")
        case "seed":
            if args.scale < 1:
                parser.error("--scale must be at least 1")
            migrate(settings)
            seeded = asyncio.run(_seed(settings, args.scale, args.if_empty, progress=True))
            return 0 if seeded or args.if_empty else 1
    return 0
