"""Test 1: an engineer finishes a job offline, across a restart, and it all arrives exactly once.

Log in, first sync, go offline, reload: the shell comes from the service worker and the data from
IndexedDB. Start the job, write a report with parts, capture a drawn signature, collect
feedback, complete. Close the page; reopen it offline: the outbox is intact. Go online: every
operation reaches the server exactly once, the stock ledger shows the consumption, the
signature image is stored and its hash — and the report hash — match.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, context_options
from tests.browser.helpers import (
    DEVICE,
    DOCS,
    WORK,
    blob,
    click_status,
    draw_signature,
    login,
    outbox,
    shot,
    uid,
    wait_controlled,
    wait_for,
    wait_outbox_empty,
)

pytestmark = pytest.mark.browser
USER = "engineer1"


def _measure_bulk_apply(browser: Any, server: Server, rows: int = 10_000) -> float:
    """Rows/s of db.applyPage for pages of ~330-byte documents, in a throwaway profile."""
    ctx = browser.new_context(**context_options())
    try:
        page = ctx.new_page()
        page.goto(server.url + "/")
        return float(
            page.evaluate(
                """async (rows) => {
                  const db = await import('/src/db.js');
                  const pad = 'x'.repeat(200);
                  const pages = [];
                  for (let p = 0; p < rows / 2000; p++) {
                    pages.push(Array.from({ length: 2000 }, (_, i) => ({
                      op: 'put', kind: 'part', id: `bench-${p}-${i}`, v: 1,
                      doc: { sku: `B-${p}-${i}`, name: 'bench part', name_en: 'bench', unit: 'pc',
                             unit_price_cents: i, compatible_models: ['HX-200'], description: pad },
                    })));
                  }
                  const t0 = performance.now();
                  for (const [i, changes] of pages.entries()) await db.applyPage(changes, `c${i}`);
                  return rows / ((performance.now() - t0) / 1000);
                }""",
                rows,
            )
        )
    finally:
        ctx.close()


def test_finish_a_job_offline(
    browser: Any, server: Server, shots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = browser.new_context(**context_options("en-US"))
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#username")
    shot(page, shots, "login")
    login(page, server, USER)
    stats = page.evaluate("fieldsync.state.stats")
    rate = stats["rows"] / (stats["applyMs"] / 1000)
    bulk = _measure_bulk_apply(browser, server)
    report = (
        f"\ninitial sync of {USER}'s scope: {stats['rows']} rows applied into IndexedDB in "
        f"{stats['applyMs']:.0f} ms = {rate:,.0f} rows/s (whole pull {stats['pullMs']:.0f} ms); "
        f"bulk apply of 10,000 ~330-byte documents: {bulk:,.0f} rows/s"
    )
    with capsys.disabled():  # a figure to read in the log, not a pass/fail bar
        print(report)
    wait_controlled(page)

    # Offline from here on; a reload comes from the service worker and IndexedDB.
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("a.card.job")
    assert page.locator("header .net").inner_text().strip().startswith("Offline")
    shot(page, shots, "jobs")

    card = page.locator("a.card.job", has=page.locator(".chip.status-assigned")).first
    job_number = card.locator(".num").inner_text()
    card.click()
    page.wait_for_selector(".grid-buttons")
    job_id = page.url.rsplit("/", 1)[1]
    for label, to in (
        ("En route", "en_route"),
        ("On site", "on_site"),
        ("Start work", "work_started"),
    ):
        click_status(page, label, to)
    page.wait_for_selector("h2 .chip.status-work_started .queued")
    shot(page, shots, "job", height=1000)

    # The repair report, with a part from the van (2 of the first part the van holds).
    page.click("text=Write repair report")
    page.fill("#diagnosis", "Compressor bearing worn: loud noise at start-up")
    page.select_option("#root_cause_category", "wear")
    page.fill("#root_cause", "Bearing past its service life")
    page.fill("#prevention", "Lubricate quarterly; replace bearings every 3 years")
    page.fill("#actions", "Replaced the bearing, test run OK — 更换轴承，试机正常")
    page.fill("#labour_minutes", "75")
    page.click("text=Add part")
    part_id = page.eval_on_selector("#part-0", "s => [...s.options].map(o => o.value)[1]")
    page.select_option("#part-0", part_id)
    page.fill("#qty-0", "2")
    shot(page, shots, "report", height=1180)
    page.click("text=Save report")

    page.wait_for_selector("canvas")
    page.fill("#signer-name", "Wang Fang")
    draw_signature(page)
    shot(page, shots, "signoff", height=1280)
    page.click("text=Confirm signature")
    page.wait_for_selector("text=Send feedback")
    for dim in ("attitude", "efficiency", "quality"):
        page.click(f"input[name={dim}][value='5']", force=True)
    page.fill("#comment", "Quick and tidy")
    page.click("text=Send feedback")
    page.wait_for_selector(".grid-buttons")
    click_status(page, "Complete", "completed")

    queued = outbox(page)
    kinds = [op["op"] for op in queued]
    assert kinds == [
        "job.status",
        "job.status",
        "job.status",
        "report.submit",
        "part.consume",
        "signature.capture",
        "feedback.submit",
        "job.status",
    ]
    assert [op["seq"] for op in queued] == list(range(queued[0]["seq"], queued[0]["seq"] + 8))
    work = page.evaluate(WORK, job_id)
    device_id = page.evaluate(DEVICE)["device_id"]
    van = next(
        loc for loc in page.evaluate(DOCS, "location") if loc["doc"]["engineer_id"] is not None
    )
    page.goto(server.url + "/#/sync")
    page.wait_for_selector("[data-testid=pending-count]")
    wait_for(lambda: page.inner_text("[data-testid=pending-count]") == "8", "pending count")
    shot(page, shots, "sync")

    # Close the page; reopen it, still offline: the shell loads and the outbox is intact.
    page.close()
    page = ctx.new_page()
    page.goto(server.url + "/#/jobs")
    page.wait_for_selector("a.card.job")
    assert [op["id"] for op in outbox(page)] == [op["id"] for op in queued]
    before = server.sql(
        "SELECT on_hand FROM stock_levels WHERE location_id = ? AND part_id = ?",
        blob(van["id"]),
        blob(part_id),
    )[0][0]

    # Online again: refresh, flush, pull.
    ctx.set_offline(False)
    wait_outbox_empty(page)
    ctx.close()

    # Every operation reached the server exactly once, in order.
    records = server.sql(
        "SELECT seq, op_id FROM sync_operations WHERE device_id = ? ORDER BY seq", blob(device_id)
    )
    assert [(seq, uid(op_id)) for seq, op_id in records] == [(op["seq"], op["id"]) for op in queued]
    events = server.sql(
        "SELECT to_status FROM job_events WHERE job_id = ? AND to_status != 'assigned'",
        blob(job_id),
    )
    assert sorted(e[0] for e in events) == sorted(
        ["en_route", "on_site", "work_started", "completed"]
    )
    assert server.sql("SELECT status FROM jobs WHERE id = ?", blob(job_id)) == [("completed",)]

    # The report: one version, its hash computed by the browser equals the server's.
    reports = server.sql(
        "SELECT id, version, content_sha256, signed FROM work_reports WHERE job_id = ?",
        blob(job_id),
    )
    assert len(reports) == 1
    report_row, version, content_sha256, signed = reports[0]
    assert (version, signed) == (1, 1)
    assert content_sha256 == work["report_sha256"]

    # The ledger: one consumption of 2 from the van, for this job; the level follows it.
    moves = server.sql(
        "SELECT qty_delta, kind FROM stock_movements WHERE job_id = ? AND location_id = ?",
        blob(job_id),
        blob(van["id"]),
    )
    assert moves == [(-2, "consumption")]
    after = server.sql(
        "SELECT on_hand FROM stock_levels WHERE location_id = ? AND part_id = ?",
        blob(van["id"]),
        blob(part_id),
    )[0][0]
    assert after == before - 2

    # The signature: bound to the report's hash; its image stored and hashing to its name.
    sigs = server.sql(
        "SELECT image_sha256, report_sha256, signer_name, channel FROM signatures "
        "WHERE report_id = ?",
        report_row,
    )
    assert len(sigs) == 1
    image_sha256, report_sha256, signer, channel = sigs[0]
    assert (signer, channel) == ("Wang Fang", "device")
    assert report_sha256 == content_sha256 == work["signed"]["report_sha256"]
    stored = server.sql("SELECT data, content_type FROM blobs WHERE sha256 = ?", image_sha256)
    assert len(stored) == 1 and stored[0][1] == "image/png"
    assert hashlib.sha256(stored[0][0]).hexdigest() == image_sha256
    assert stored[0][0].startswith(b"\x89PNG")

    feedback = server.sql(
        "SELECT attitude, efficiency, quality, comment FROM feedback WHERE job_id = ? "
        "AND channel = 'device'",
        blob(job_id),
    )
    assert feedback == [(5, 5, 5, "Quick and tidy")]
    r = server.api("GET", f"/jobs/{job_id}", "dispatcher1")
    assert r.status_code == 200, r.text
    detail = r.json()
    assert (detail["job"]["number"], detail["job"]["status"]) == (job_number, "completed")
    assert detail["report"]["signed"] is True
