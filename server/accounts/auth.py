"""Who is calling: JWT access tokens (Litestar's JWTAuth) checked against live login sessions.

An access token names its login session (``sid``). Every request re-checks that the user is still
active and the session not revoked, so logout and disabling a user take effect at once, not when
the short-lived token expires. Guards check roles; object-level checks live in each area's rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token
from sqlalchemy import bindparam, select

from server.accounts.models import AuthSession, User
from server.database import Reads
from server.errors import Forbidden
from server.settings import Settings

# Anchored regexes: Litestar searches them anywhere in the path, so an unanchored "/ready" would
# also open "/shipments/by-tracking/ready". Public handlers elsewhere (the PWA's static files, the
# customer sign-off link) opt out with ``exclude_from_auth`` on the handler instead.
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/auth/login$", "^/auth/refresh$", "^/schema(/|$)"]


class Principal(msgspec.Struct, frozen=True):
    """The authenticated caller, as handlers see it (``request.user``)."""

    id: UUID
    username: str
    display_name: str
    role: str
    session_id: UUID


_LIVE_SESSION = (
    select(User.username, User.display_name, User.role)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        User.is_active.is_(True),
        AuthSession.id == bindparam("session_id"),
        AuthSession.revoked_at.is_(None),
    )
)


class VerifiedToken(Token):
    """A Litestar ``Token`` whose verification is remembered per token string.

    A device sends the same access token with every request for its lifetime (minutes); checking
    its signature, issuer and claims again each time (PyJWT plus Litestar's conversion, ~75 µs
    here) was a tenth of an empty pull's server time. The result of that check depends only on
    the token string and the arguments, so it is kept (at most ``CACHE_SIZE`` tokens, oldest
    dropped first); what depends on the clock is checked on every use: a remembered token past
    its ``exp`` (or before its ``nbf``) is refused as PyJWT would refuse it. Revocation is not
    the token's business: ``retrieve_user`` checks the login session on every request.
    """

    CACHE_SIZE: ClassVar[int] = 4096
    _verified: ClassVar[dict[tuple[Any, ...], VerifiedToken]] = {}

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> VerifiedToken:
        key = (
            encoded_token,
            secret,
            algorithm,
            _frozen(audience),
            _frozen(issuer),
            _frozen(require_claims),
            verify_exp,
            verify_nbf,
            strict_audience,
        )
        token = cls._verified.get(key)
        if token is None:
            token = super().decode(
                encoded_token,
                secret,
                algorithm,
                audience,
                issuer,
                require_claims,
                verify_exp,
                verify_nbf,
                strict_audience,
            )
            while len(cls._verified) >= cls.CACHE_SIZE:
                del cls._verified[next(iter(cls._verified))]
            cls._verified[key] = token
            return token
        now = datetime.now(UTC)
        nbf = token.extras.get("nbf")
        if (verify_exp and token.exp <= now) or (
            verify_nbf and isinstance(nbf, int | float) and nbf > now.timestamp()
        ):
            del cls._verified[key]
            raise NotAuthorizedException("Invalid token")
        return token


def _frozen(value: str | Sequence[str] | None) -> str | tuple[str, ...] | None:
    return value if value is None or isinstance(value, str) else tuple(value)


def build_jwt_auth(settings: Settings, reads: Reads) -> JWTAuth[Principal, Token]:
    async def retrieve_user(
        token: Token, _connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Principal | None:
        try:
            user_id = UUID(token.sub)
            session_id = UUID(str(token.extras.get("sid", "")))
        except ValueError:
            return None
        async with reads.transaction() as read:
            params = {"user_id": user_id, "session_id": session_id}
            row = (await read.execute(_LIVE_SESSION, params)).first()
        if row is None:
            return None
        return Principal(user_id, row.username, row.display_name, row.role, session_id)

    return JWTAuth[Principal, Token](
        token_secret=settings.token_key(),
        retrieve_user_handler=retrieve_user,
        default_token_expiration=timedelta(minutes=settings.access_token_minutes),
        exclude=PUBLIC_PATHS,
        accepted_issuers=["fieldsync"],
        require_claims=["sub", "exp", "iss"],
        token_cls=VerifiedToken,
    )


def issue_access_token(
    jwt_auth: JWTAuth[Principal, Token], settings: Settings, user_id: UUID, session_id: UUID
) -> str:
    """A signed access token for one login session (``sid``), valid for the configured time."""
    return jwt_auth.create_token(
        identifier=str(user_id),
        token_expiration=timedelta(minutes=settings.access_token_minutes),
        token_issuer="fieldsync",  # noqa: S106 — the issuer name, not a secret
        token_extras={"sid": str(session_id)},
    )


def requires(
    *roles: str,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard admitting only the given roles (admin is not implied: list it where meant)."""
    allowed = frozenset(roles)

    # async on purpose: Litestar runs a plain function guard in a worker thread (a thread hop on
    # every request); a coroutine runs on the event loop
    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        user = connection.user
        if not isinstance(user, Principal) or user.role not in allowed:
            raise Forbidden("your role may not use this endpoint")

    guard.__name__ = "requires_" + "_".join(sorted(allowed))
    return guard
