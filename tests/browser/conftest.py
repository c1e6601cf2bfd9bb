"""Browser tests: the real server (demo data) and Debian's Chromium driven by Python Playwright.

One server per session (seeding the demo takes a few seconds); each test works as a different
demo engineer so they cannot disturb each other. Chromium is ``/usr/bin/chromium`` (never a
downloaded browser); when it or Playwright is missing the tests skip with the reason — except
under ``CI=true``, where that is a failure. Screenshots go to a temporary folder, or to
``docs/screenshots/`` when ``FIELDSYNC_SCREENSHOTS=1`` (how the README's pictures are made).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "fieldsync-demo"
VIEWPORT = {"width": 360, "height": 780}


def _require_browser() -> None:
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            problem = "Python Playwright is not installed (pip install playwright)"
    if problem is None and not (ROOT / "pwa" / "node_modules" / "preact").is_dir():
        problem = "the PWA's npm packages are missing (scripts/setup runs npm ci in pwa/)"
    if problem:
        if IN_CI:
            pytest.fail(problem + " — CI requires the browser tests")
        pytest.skip(problem)


@dataclass
class Server:
    url: str
    db_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user: str) -> str:
        if user not in self.tokens:
            r = httpx.post(f"{self.url}/auth/login", json={"username": user, "password": PASSWORD})
            r.raise_for_status()
            self.tokens[user] = r.json()["access_token"]
        return self.tokens[user]

    def api(self, method: str, path: str, user: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(user)}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kw)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the server's SQLite database (read-only, so the server is never disturbed)."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30) as conn:
            return conn.execute(query, params).fetchall()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    _require_browser()
    # Not pytest's tmp_path: parallel pytest sessions on one machine prune each other's.
    data = Path(tempfile.mkdtemp(prefix="fieldsync-browser-"))
    port = _free_port()
    env = {
        **os.environ,
        "FIELDSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{data}/db.sqlite",
        "FIELDSYNC_HOST": "127.0.0.1",
        "FIELDSYNC_PORT": str(port),
        "FIELDSYNC_SEED_DEMO": "true",
        "FIELDSYNC_DATA_DIR": str(data),
        "FIELDSYNC_LOGIN_RATE_PER_MINUTE": "1000",
    }
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {(data / 'server.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not become ready in 180 s")
            time.sleep(0.3)
        yield Server(url, data / "db.sqlite")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_api() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api: Any) -> Iterator[Any]:
    b = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


def context_options(locale: str = "en-US") -> dict[str, Any]:
    return {
        "viewport": VIEWPORT,
        "locale": locale,
        "timezone_id": "Asia/Shanghai",
        "service_workers": "allow",
    }


@pytest.fixture
def shots() -> Iterator[Path]:
    if os.environ.get("FIELDSYNC_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="fieldsync-shots-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
