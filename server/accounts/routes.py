"""HTTP: log in, refresh, log out, who am I; user listing and enabling/disabling for staff."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select

from server.accounts import sessions
from server.accounts.auth import Principal, issue_access_token, requires
from server.accounts.models import ROLES, AuthSession, User
from server.database import Db
from server.settings import Settings
from server.syncing.replication import commit

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Name
    password: Secret


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Secret


class UserOut(msgspec.Struct):
    id: UUID
    username: str
    display_name: str
    role: str
    is_active: bool
    phone: str
    team: str
    skills: list[str]
    locale: str


class TokensOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    user: UserOut
    token_type: str = "Bearer"  # noqa: S105 — the scheme name, not a secret


class ActiveIn(msgspec.Struct, forbid_unknown_fields=True):
    is_active: bool


def user_out(user: User) -> UserOut:
    return UserOut(
        user.id,
        user.username,
        user.display_name,
        user.role,
        user.is_active,
        user.phone,
        user.team,
        list(user.skills),
        user.locale,
    )


def _tokens(
    request: Request[Any, Any, Any], user: User, session: AuthSession, refresh: str
) -> TokensOut:
    settings: Settings = request.app.state.settings
    access = issue_access_token(request.app.state.jwt_auth, settings, user.id, session.id)
    return TokensOut(access, refresh, settings.access_token_minutes * 60, user_out(user))


def login_rate_limit(settings: Settings) -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", settings.login_rate_per_minute), store="rate_limit"
    )


@post("/auth/login", status_code=200, summary="Log in; returns access and refresh tokens")
async def login(
    request: Request[Any, Any, Any], db_session: Db, data: JSONBody[LoginIn]
) -> TokensOut:
    settings: Settings = request.app.state.settings
    user, session, refresh = await sessions.login(
        db_session,
        data.username,
        data.password,
        refresh_days=settings.refresh_token_days,
        user_agent=request.headers.get("user-agent", ""),
    )
    await commit(db_session)
    return _tokens(request, user, session, refresh)


@post("/auth/refresh", status_code=200, summary="Rotate a refresh token")
async def refresh(
    request: Request[Any, Any, Any], db_session: Db, data: JSONBody[RefreshIn]
) -> TokensOut:
    settings: Settings = request.app.state.settings
    user, session, token = await sessions.rotate(
        db_session, data.refresh_token, refresh_days=settings.refresh_token_days
    )
    await commit(db_session)
    return _tokens(request, user, session, token)


@post("/auth/logout", status_code=204, summary="End this login session")
async def logout(request: Request[Principal, Any, Any], db_session: Db) -> None:
    await sessions.logout(db_session, request.user.session_id)
    await commit(db_session)


@get("/auth/me", summary="The calling user")
async def me(request: Request[Principal, Any, Any], db_session: Db) -> UserOut:
    return user_out(await db_session.get_one(User, request.user.id))


@get("/users", guards=[requires("dispatcher", "manager", "admin")], summary="List users")
async def list_users(
    db_session: Db,
    role: Annotated[
        str | None, QueryParameter(name="role", pattern="^(" + "|".join(ROLES) + ")$")
    ] = None,
) -> list[UserOut]:
    query = select(User).order_by(User.username)
    if role:
        query = query.where(User.role == role)
    return [user_out(u) for u in (await db_session.execute(query)).scalars()]


@post(
    "/users/{user_id:uuid}/active",
    status_code=200,
    guards=[requires("admin")],
    summary="Enable or disable a user (disabling ends their sessions)",
)
async def set_active(db_session: Db, user_id: FromPath[UUID], data: JSONBody[ActiveIn]) -> UserOut:
    user = await sessions.set_active(db_session, user_id, data.is_active)
    await commit(db_session)
    return user_out(user)


def router(settings: Settings) -> Router:
    limited = Router(
        path="/", route_handlers=[login], middleware=[login_rate_limit(settings).middleware]
    )
    return Router(path="/", route_handlers=[limited, refresh, logout, me, list_users, set_active])
