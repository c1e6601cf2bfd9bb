"""Settings load from the environment, reject bad values, and are all documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import PREFIX, ConfigError, Settings, load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text()
    missing = [f for f in Settings.__struct_fields__ if f"`{PREFIX}{f.upper()}`" not in text]
    assert not missing, f"settings missing from README's configuration table: {missing}"


def test_environment_overrides_defaults() -> None:
    s = load_settings(
        environ={
            "FIELDSYNC_PORT": "9001",
            "FIELDSYNC_SEED_DEMO": "true",
            "FIELDSYNC_BUSINESS_START": "08:30",
        }
    )
    assert s.port == 9001 and s.seed_demo is True and s.business_start.minute == 30


@pytest.mark.parametrize(
    "env",
    [
        {"FIELDSYNC_PORT": "eighty"},
        {"FIELDSYNC_BUSINESS_DAYS": "1,9"},
        {"FIELDSYNC_SLA_HOURS": "critical=2/8"},
        {"FIELDSYNC_SLA_HOURS": "critical=x/8,high=4/16,normal=8/40,low=24/80"},
    ],
)
def test_bad_values_are_refused_clearly(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(environ=env)


def test_generated_key_file_is_private(tmp_path: Path) -> None:
    s = load_settings(environ={"FIELDSYNC_DATA_DIR": str(tmp_path / "d")})
    key = s.token_key()
    path = tmp_path / "d" / "secret.key"
    assert len(key) > 40 and path.stat().st_mode & 0o777 == 0o600
    assert s.token_key() == key  # stable across restarts
