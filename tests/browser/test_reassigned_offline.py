"""Test 2: the job is reassigned while the engineer works on it offline.

After reconnecting, the engineer sees a clear rejection with its reason and what to do, the
job leaves their list, and the report they wrote is kept on the server for review (the
dispatcher finds it among rejected operations), not lost.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, context_options
from tests.browser.helpers import (
    RESULTS,
    WORK,
    blob,
    click_status,
    login,
    outbox,
    shot,
    wait_controlled,
    wait_outbox_empty,
)

pytestmark = pytest.mark.browser
USER = "engineer2"


def test_reassigned_job_is_a_visible_rejection_and_nothing_is_lost(
    browser: Any, server: Server, shots: Path
) -> None:
    ctx = browser.new_context(**context_options("en-US"))
    page = ctx.new_page()
    login(page, server, USER)
    wait_controlled(page)
    ctx.set_offline(True)

    card = page.locator("a.card.job", has=page.locator(".chip.status-assigned")).first
    number = card.locator(".num").inner_text()
    card.click()
    page.wait_for_selector(".grid-buttons")
    job_id = page.url.rsplit("/", 1)[1]
    click_status(page, "On site", "on_site")
    click_status(page, "Start work", "work_started")
    page.click("text=Write repair report")
    page.fill("#diagnosis", "Door sensor misaligned — 门机传感器偏移")
    page.select_option("#root_cause_category", "installation")
    page.fill("#actions", "Realigned the sensor")
    page.fill("#labour_minutes", "30")
    page.click("text=Save report")
    page.wait_for_selector("canvas")
    report_id = page.evaluate(WORK, job_id)["report_id"]
    assert [op["op"] for op in outbox(page)] == ["job.status", "job.status", "report.submit"]

    # Meanwhile the dispatcher gives the job to another engineer.
    engineers = server.api("GET", "/users", "dispatcher1", params={"role": "engineer"}).json()
    other = next(u for u in engineers if u["username"] == "engineer7")
    start = datetime.now(UTC) + timedelta(hours=2)
    r = server.api(
        "POST",
        f"/jobs/{job_id}/assign",
        "dispatcher1",
        json={
            "engineer_id": other["id"],
            "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(hours=2)).isoformat(),
        },
    )
    assert r.status_code == 200, r.text

    ctx.set_offline(False)
    wait_outbox_empty(page)
    answers = page.evaluate(RESULTS)
    mine = [a for a in answers if a["op"] and a["op"]["job_id"] == job_id]
    assert {(a["op"]["op"], a["status"], a["code"]) for a in mine} == {
        ("job.status", "rejected", "not_assigned"),
        ("report.submit", "rejected", "not_assigned"),
    }

    # The job has left the list; its page says so instead of failing.
    page.goto(server.url + "/#/jobs")
    page.wait_for_selector("a.card.job")
    assert number not in page.inner_text("main")
    banner = page.locator(".notice.error a[href='#/sync']")
    assert "3 operations were rejected" in banner.inner_text()
    page.goto(server.url + f"/#/job/{job_id}")
    page.wait_for_selector("text=Job not available")

    # The sync screen lists every rejection with the reason and what to do.
    page.goto(server.url + "/#/sync")
    page.wait_for_selector(".card.problem")
    problems = page.locator(".card.problem")
    assert problems.count() == 3
    text = page.inner_text("main")
    assert text.count("This job is no longer assigned to you") == 3
    assert "kept on the server for the dispatcher to review" in text
    assert "Repair report" in text and text.count(number) == 3  # named though it left
    page.locator(".card.problem").first.scroll_into_view_if_needed()
    shot(page, shots, "sync-rejected")

    # Dismissing is the engineer's decision; until then nothing disappears.
    page.locator(".card.problem button", has_text="Dismiss").first.click()
    page.wait_for_function("document.querySelectorAll('.card.problem').length === 2")
    ctx.close()

    # On the server: nothing of the report was applied, and all of it is kept for review.
    assert server.sql("SELECT count(*) FROM work_reports WHERE job_id = ?", blob(job_id)) == [(0,)]
    r = server.api("GET", "/sync/rejections", "dispatcher1", params={"limit": 500})
    assert r.status_code == 200, r.text
    kept = [row["operation"] for row in r.json() if row["username"] == USER]
    reports = [op for op in kept if op["op"] == "report.submit"]
    assert len(reports) == 1
    assert reports[0]["report_id"] == report_id
    assert reports[0]["diagnosis"] == "Door sensor misaligned — 门机传感器偏移"
    assert json.dumps(reports[0], ensure_ascii=False).count("Realigned the sensor") == 1
