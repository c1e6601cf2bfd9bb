"""The Litestar application: ``create_app(settings)`` wires every business area together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.stores.memory import MemoryStore
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import async_sessionmaker

from server import health
from server.accounts import routes as accounts
from server.accounts.auth import build_jwt_auth
from server.customers import routes as customers
from server.database import alchemy_config, create_engine, load_models, reads_for
from server.errors import exception_handlers
from server.inventory import routes as inventory
from server.jobs import routes as jobs
from server.logistics import routes as logistics
from server.reports import routes as reports
from server.settings import Settings, load_settings
from server.syncing import routes as syncing
from server.syncing.compaction import run_periodically
from server.syncing.replication import replicate
from server.syncing.store import SqlStore

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    load_models()
    engine = create_engine(settings)
    alchemy = alchemy_config(settings, engine)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    reads = reads_for(engine)
    jwt_auth = build_jwt_auth(settings, reads)
    sync_store = SqlStore(sessions, before_commit=replicate)

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        compactor = asyncio.create_task(
            run_periodically(
                sync_store, settings.sync_retention_days, settings.sync_compact_minutes
            )
        )
        try:
            yield
        finally:
            compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await compactor
            await engine.dispose()
            reads.dispose()

    api = Router(
        path="/",
        route_handlers=[
            health.health,
            health.ready,
            accounts.router(settings),
            *jobs.HANDLERS,
            *customers.HANDLERS,
            *inventory.HANDLERS,
            *logistics.HANDLERS,
            *reports.HANDLERS,
            *syncing.HANDLERS,
        ],
    )
    handlers: list[ControllerRouterHandler] = [api]
    if PWA_DIR.is_dir():
        handlers.append(
            create_static_files_router(
                path="/",
                directories=[PWA_DIR],
                html_mode=True,
                include_in_schema=False,
                opt={"exclude_from_auth": True},  # the app shell is public; its data is not
            )
        )
    return Litestar(
        route_handlers=handlers,
        plugins=[SQLAlchemyPlugin(config=alchemy)],
        on_app_init=[jwt_auth.on_app_init],
        exception_handlers=exception_handlers(),
        stores={"rate_limit": MemoryStore()},
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="FieldSync",
            version="0.1.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        state=State(
            {
                "settings": settings,
                "jwt_auth": jwt_auth,
                "sessions": sessions,
                "engine": engine,
                "sync_store": sync_store,
                "sync_key": settings.token_key().encode(),
                "built_replicas": set(),  # see ensure_replica
            }
        ),
        lifespan=[lifespan],
        debug=False,
    )
