"""Test 5: killing the browser in the middle of writing operations loses none the UI reported
as saved.

A persistent browser profile queues operations offline as fast as it can — the same action
functions the screens call, one after another — and reports each one to the test the moment its
promise resolves, which is when the screens say "saved on this device". The whole browser is
then killed with SIGKILL mid-stream, restarted on the same profile, still offline: every
reported operation is in the outbox, the sequence has no gap, and once online each one reaches
the server exactly once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Server, context_options
from tests.browser.helpers import (
    DEVICE,
    DOCS,
    blob,
    login,
    outbox,
    uid,
    wait_controlled,
    wait_outbox_empty,
)

pytestmark = pytest.mark.browser
USER = "engineer5"

WRITER = """([jobId, partId]) => {
  window.__writer = (async () => {
    const actions = await import('/src/actions.js');
    for (let i = 0; i < 2000; i++) {
      const rating = { attitude: 1 + (i % 5), efficiency: 3, quality: 4, comment: `kill ${i}` };
      const ops = i % 2
        ? await actions.submitFeedback(jobId, rating)
        : await actions.requestPart(jobId, partId, 1 + (i % 3), `kill ${i}`);
      await window.reportSaved(ops.map((op) => op.id)); // when the screens say "saved"
    }
  })();
}"""


def _browser_pids(profile: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if f"--user-data-dir={profile}".encode() in cmdline:
            pids.append(int(entry.name))
    return pids


def _launch(playwright_api: Any, profile: Path) -> Any:
    return playwright_api.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **context_options("en-US")
    )


def test_no_saved_operation_is_lost_when_the_browser_is_killed(
    playwright_api: Any, server: Server
) -> None:
    profile = Path(tempfile.mkdtemp(prefix="fieldsync-profile-"))
    try:
        ctx = _launch(playwright_api, profile)
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        login(page, server, USER)
        wait_controlled(page)
        job_id = next(
            j["id"]
            for j in page.evaluate(DOCS, "job")
            if j["doc"]["status"] not in ("completed", "cancelled")
        )
        part_id = page.evaluate(DOCS, "part")[0]["id"]
        device_id = page.evaluate(DEVICE)["device_id"]

        saved: list[str] = []
        page.expose_function("reportSaved", lambda ids: saved.extend(ids))
        ctx.set_offline(True)
        page.evaluate(WRITER, [job_id, part_id])
        while len(saved) < 40:
            page.wait_for_timeout(20)  # lets Playwright deliver the page's reports
        pids = _browser_pids(profile)
        assert pids, "no browser process found for the profile"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)  # mid-stream: the writer never stops by itself
        reported = list(saved)
        with contextlib.suppress(Exception):  # the browser is gone; Playwright may say so
            ctx.close()

        # Restart on the same profile, still offline: the shell and the outbox are there.
        ctx = _launch(playwright_api, profile)
        ctx.set_offline(True)
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.goto(server.url + "/#/sync")
        page.wait_for_selector("[data-testid=pending-count]")
        queued = outbox(page)
        ids = [op["id"] for op in queued]
        assert set(reported) <= set(ids), f"lost {len(set(reported) - set(ids))} saved operations"
        assert len(ids) == len(set(ids))
        seqs = [op["seq"] for op in queued]
        assert seqs == list(range(1, len(seqs) + 1)), "the outbox sequence has a gap"
        print(f"\n{len(reported)} reported saved before SIGKILL, {len(ids)} in the outbox after")

        # Logging out now warns instead of dropping them.
        page.click("button:has-text('Log out')")
        page.wait_for_selector("text=have not been sent yet")
        assert [op["id"] for op in outbox(page)] == ids

        ctx.set_offline(False)
        wait_outbox_empty(page, timeout=120)
        ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)

    records = server.sql(
        "SELECT seq, op_id FROM sync_operations WHERE device_id = ? ORDER BY seq", blob(device_id)
    )
    assert [(s, uid(o)) for s, o in records] == [(op["seq"], op["id"]) for op in queued]
    comments = [
        c
        for (c,) in server.sql(
            "SELECT comment FROM feedback WHERE job_id = ? AND comment LIKE 'kill %'",
            blob(job_id),
        )
    ]
    notes = [
        n
        for (n,) in server.sql(
            "SELECT note FROM part_requests WHERE job_id = ? AND note LIKE 'kill %'",
            blob(job_id),
        )
    ]
    assert len(comments) == len(set(comments)) and len(notes) == len(set(notes))
    assert len(comments) + len(notes) == len(queued)  # each applied once
