"""What the browser tests do with the app: log in, read the device's state, draw, wait."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.conftest import PASSWORD, Server

# Reads of the device state go through the app's own IndexedDB module (never a second one).
OUTBOX = "import('/src/db.js').then((db) => db.outbox())"
RESULTS = "import('/src/db.js').then((db) => db.results())"
WORK = "(id) => import('/src/db.js').then((db) => db.getWork(id))"
DEVICE = "import('/src/db.js').then((db) => db.device())"
DOCS = "(kind) => import('/src/db.js').then((db) => db.docsOfKind(kind))"


def login(page: Any, server: Server, user: str) -> None:
    page.goto(server.url + "/")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    # the first sync runs, then the job list shows
    page.wait_for_selector("a.card.job", timeout=60_000)
    wait_for(lambda: page.evaluate("fieldsync.state.running") is False, "first sync")


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def wait_controlled(page: Any) -> None:
    """Until the service worker has installed the shell and controls the page."""
    page.evaluate("navigator.serviceWorker.ready")
    wait_for(lambda: page.evaluate("Boolean(navigator.serviceWorker.controller)"), "SW control", 20)


def outbox(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(OUTBOX))


def wait_outbox_empty(page: Any, timeout: float = 60) -> None:
    wait_for(
        lambda: not outbox(page) and page.evaluate("fieldsync.state.running") is False,
        "the outbox to flush",
        timeout,
    )


def draw_signature(page: Any) -> None:
    canvas = page.locator("canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"] + 20, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(40):
        page.mouse.move(x + i * 7, y + (25 if i % 2 else -25), steps=2)
    page.mouse.up()


def click_status(page: Any, label: str, to: str) -> None:
    page.locator(".grid-buttons button", has_text=label).click()
    # saved: the queued move shows on the status chip
    page.wait_for_selector(f"h2 .chip.status-{to}")


def shot(page: Any, folder: Path, name: str, *, height: int | None = None) -> None:
    """A screenshot of the viewport (taller when asked), without the passing toast."""
    page.wait_for_timeout(250)
    size = page.viewport_size
    if height:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.evaluate("window.scrollTo(0, 0)")
    page.add_style_tag(content=".toast { visibility: hidden }")
    page.screenshot(path=str(folder / f"{name}.png"))
    page.add_style_tag(content=".toast { visibility: visible }")
    if height:
        page.set_viewport_size(size)


def uid(value: bytes) -> str:
    return str(uuid.UUID(bytes=value))


def blob(value: str) -> bytes:
    return uuid.UUID(value).bytes
