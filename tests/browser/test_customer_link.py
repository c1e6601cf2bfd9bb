"""Test 3: the customer signs and rates through a one-time link; a second use is refused clearly.

The engineer (online) saves the report and sends a sign-off link from the job screen; the
customer opens it on their own phone (another browser profile, Chinese), reads the summary,
signs with the mouse, rates, and sends. Reopening the link shows a "link already used" page.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, context_options
from tests.browser.helpers import (
    WORK,
    blob,
    click_status,
    draw_signature,
    login,
    shot,
    wait_for,
    wait_outbox_empty,
)

pytestmark = pytest.mark.browser
USER = "engineer3"


def test_customer_signs_once_through_a_link(browser: Any, server: Server, shots: Path) -> None:
    ctx = browser.new_context(**context_options("en-US"))
    page = ctx.new_page()
    login(page, server, USER)
    card = page.locator("a.card.job", has=page.locator(".chip.status-assigned")).first
    card.click()
    page.wait_for_selector(".grid-buttons")
    job_id = page.url.rsplit("/", 1)[1]
    click_status(page, "On site", "on_site")
    click_status(page, "Start work", "work_started")
    page.click("text=Write repair report")
    page.fill("#diagnosis", "控制板电容鼓包")
    page.select_option("#root_cause_category", "electrical")
    page.fill("#root_cause", "电源浪涌")
    page.fill("#actions", "更换控制板电容，试机正常")
    page.fill("#labour_minutes", "50")
    page.click("text=Save report")
    page.wait_for_selector("canvas")
    wait_outbox_empty(page)
    work = page.evaluate(WORK, job_id)

    # The report is on the server and back in the replica: the engineer sends a link.
    page.goto(server.url + f"/#/job/{job_id}")
    page.click("text=Send sign-off link to the customer")
    url = page.locator("#signoff-url").input_value()
    assert url.startswith(server.url + "/signoff.html#") and len(url.split("#", 1)[1]) >= 43
    ctx.close()

    customer = browser.new_context(**context_options("zh-CN"))
    phone = customer.new_page()
    phone.goto(url)
    phone.wait_for_selector("canvas")
    main = phone.inner_text("main")
    assert "控制板电容鼓包" in main and "第 1 版" in main
    phone.fill("#signer-name", "李娜")
    draw_signature(phone)
    for dim, stars in (("attitude", 5), ("efficiency", 4), ("quality", 5)):
        phone.click(f"input[name={dim}][value='{stars}']", force=True)
    phone.fill("#comment", "很满意")
    shot(phone, shots, "customer-link", height=1500)
    phone.click("button:has-text('签字并提交')")
    phone.wait_for_selector("h1:has-text('谢谢')")

    # A second use — reopening the link — gets a clear page, not an error.
    phone.reload()
    phone.wait_for_selector("[data-code=link_used]")
    assert "此签收链接已被使用" in phone.inner_text("main")
    shot(phone, shots, "customer-link-used")
    customer.close()

    reports = server.sql(
        "SELECT id, content_sha256, signed FROM work_reports WHERE job_id = ?", blob(job_id)
    )
    assert len(reports) == 1 and reports[0][1] == work["report_sha256"] and reports[0][2] == 1
    sigs = server.sql(
        "SELECT signer_name, channel, report_sha256, image_sha256 FROM signatures "
        "WHERE report_id = ?",
        reports[0][0],
    )
    assert len(sigs) == 1
    signer, channel, report_sha256, image_sha256 = sigs[0]
    assert (signer, channel, report_sha256) == ("李娜", "link", work["report_sha256"])
    image = server.sql("SELECT data FROM blobs WHERE sha256 = ?", image_sha256)[0][0]
    assert hashlib.sha256(image).hexdigest() == image_sha256 and image.startswith(b"\x89PNG")
    assert server.sql(
        "SELECT attitude, efficiency, quality, comment FROM feedback "
        "WHERE job_id = ? AND channel = 'link'",
        blob(job_id),
    ) == [(5, 4, 5, "很满意")]
    token_hash = hashlib.sha256(url.split("#", 1)[1].encode()).hexdigest()
    used = server.sql("SELECT used_at FROM signoff_links WHERE token_hash = ?", token_hash)
    assert len(used) == 1 and used[0][0] is not None

    # The engineer's device learns of the signature on its next pull.
    ctx = browser.new_context(**context_options("en-US"))
    page = ctx.new_page()
    login(page, server, USER)
    page.goto(server.url + f"/#/job/{job_id}")
    wait_for(lambda: "Signed by 李娜" in page.inner_text("main"), "the signature on the device")
    ctx.close()
