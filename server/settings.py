"""Settings: every knob comes from a ``FIELDSYNC_*`` environment variable.

The README lists each setting; ``tests/test_settings.py`` fails when one is undocumented.
Secrets never come from here in plain text unless the operator sets them: the token key is read
from ``FIELDSYNC_SECRET_KEY`` or from a generated file (mode 0600) next to the data, never from
the database.
"""

from __future__ import annotations

import os
import secrets
from datetime import time
from pathlib import Path
from typing import Any

import msgspec


class ConfigError(Exception):
    """A setting has a value the server cannot run with."""


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    database_url: str = "sqlite+aiosqlite:///./fieldsync.db"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "./.fieldsync"
    secret_key: str = ""
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    login_rate_per_minute: int = 10
    max_body_bytes: int = 1_048_576
    timezone: str = "Asia/Shanghai"
    business_start: time = time(9, 0)
    business_end: time = time(18, 0)
    business_days: str = "1,2,3,4,5"
    sla_hours: str = "critical=2/8,high=4/16,normal=8/40,low=24/80"
    sync_retention_days: int = 30
    sync_compact_minutes: int = 60
    seed_demo: bool = False
    log_sql: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def token_key(self) -> str:
        """The signing key for tokens and cursors: the setting, or a generated 0600 file."""
        if self.secret_key:
            return self.secret_key
        path = Path(self.data_dir) / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def weekdays(self) -> frozenset[int]:
        """ISO weekdays (1 = Monday) that count as business days."""
        try:
            days = frozenset(int(d) for d in self.business_days.split(",") if d.strip())
        except ValueError as exc:
            raise ConfigError(f"FIELDSYNC_BUSINESS_DAYS: {exc}") from exc
        if not days or not days <= set(range(1, 8)):
            raise ConfigError("FIELDSYNC_BUSINESS_DAYS must list ISO weekdays 1..7")
        return days

    def sla_targets(self) -> dict[str, tuple[float, float]]:
        """urgency -> (response hours, resolution hours), in business hours."""
        targets: dict[str, tuple[float, float]] = {}
        try:
            for item in self.sla_hours.split(","):
                name, _, hours = item.partition("=")
                respond, _, resolve = hours.partition("/")
                targets[name.strip()] = (float(respond), float(resolve))
        except ValueError as exc:
            raise ConfigError(f"FIELDSYNC_SLA_HOURS: {exc}") from exc
        missing = {"critical", "high", "normal", "low"} - targets.keys()
        if missing:
            raise ConfigError(f"FIELDSYNC_SLA_HOURS lacks {sorted(missing)}")
        return targets


PREFIX = "FIELDSYNC_"


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from ``FIELDSYNC_*`` variables, then keyword overrides (tests use those)."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {
        name: env[PREFIX + name.upper()]
        for name in Settings.__struct_fields__
        if PREFIX + name.upper() in env
    }
    for name in ("business_start", "business_end"):
        value = raw.get(name)
        if isinstance(value, str) and len(value) == 5:  # accept "09:00" as well as "09:00:00"
            raw[name] = value + ":00"
    raw.update(overrides)
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"bad setting: {exc}") from exc
    settings.weekdays()
    settings.sla_targets()
    return settings
