"""Login sessions: password check, rotating refresh tokens, logout and user disabling.

Refresh tokens rotate: each use returns a new one and marks the old one used. Presenting a used
token again means it leaked (or a client misbehaves): the whole family — the login session — is
revoked, so whoever holds the newer token is logged out too. Tokens are stored as SHA-256 only.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import AuthSession, RefreshToken, User
from server.database import begin_write
from server.errors import NotFound, Unauthorized

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which users exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


async def _issue_refresh(db: AsyncSession, session_id: UUID, days: int) -> str:
    token = secrets.token_urlsafe(32)
    now = _now()
    db.add(
        RefreshToken(
            session_id=session_id,
            token_hash=_digest(token),
            issued_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    return token


async def login(
    db: AsyncSession, username: str, password: str, *, refresh_days: int, user_agent: str = ""
) -> tuple[User, AuthSession, str]:
    """Check the password and open a login session; returns (user, session, refresh token)."""
    await begin_write(db)
    user = (await db.execute(select(User).where(User.username == username))).scalar_one_or_none()
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.is_active:
        raise Unauthorized("wrong username or password, or the account is disabled")
    session = AuthSession(user_id=user.id, created_at=_now(), user_agent=user_agent[:200])
    db.add(session)
    await db.flush()
    refresh = await _issue_refresh(db, session.id, refresh_days)
    return user, session, refresh


async def rotate(
    db: AsyncSession, token: str, *, refresh_days: int
) -> tuple[User, AuthSession, str]:
    """Exchange a refresh token for a new one in the same family; reuse revokes the family."""
    await begin_write(db)
    row = (
        await db.execute(select(RefreshToken).where(RefreshToken.token_hash == _digest(token)))
    ).scalar_one_or_none()
    if row is None:
        raise Unauthorized("unknown refresh token")
    session = await db.get_one(AuthSession, row.session_id)
    user = await db.get_one(User, session.user_id)
    now = _now()
    claimed = await db.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await _revoke(db, session.id, "refresh_reuse")
        # Commit the revocation even though the request fails: that is the point of it.
        await db.commit()
        raise Unauthorized("refresh token reused; this login has been revoked")
    if session.revoked_at is not None or not user.is_active or row.expires_at <= now:
        raise Unauthorized("login expired or revoked; log in again")
    refresh = await _issue_refresh(db, session.id, refresh_days)
    return user, session, refresh


async def _revoke(db: AsyncSession, session_id: UUID, reason: str) -> None:
    await db.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=_now(), revoked_reason=reason)
    )


async def logout(db: AsyncSession, session_id: UUID) -> None:
    await begin_write(db)
    await _revoke(db, session_id, "logout")


async def set_active(db: AsyncSession, user_id: UUID, active: bool) -> User:
    """Enable or disable a user; disabling revokes every login session at once."""
    await begin_write(db)
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    user.is_active = active
    if not active:
        await db.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=_now(), revoked_reason="user_disabled")
        )
    return user
