"""Test 4: the language switch changes every visible string on the main screens.

On each main screen (login, jobs, job, report, parts, sync status) every visible text and every
label (aria-label, title, placeholder) outside user data (marked ``translate="no"``) must be a
string of the current language's dictionary; after switching, the same holds for the other
language. So no string is hard-coded and none stays behind. The choice persists across a reload.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, Server, context_options
from tests.browser.helpers import shot, wait_for

pytestmark = pytest.mark.browser
USER = "engineer4"

# Every visible text node and accessible label outside data, in document order.
COLLECT = """() => {
  const out = [];
  const hidden = '[translate="no"], [aria-hidden="true"], option, script, style';
  const skip = (el) =>
    !el || el.closest(hidden) || !el.checkVisibility({ visibilityProperty: true });
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!skip(n.parentElement) && n.textContent.trim()) out.push(n.textContent);
  }
  for (const el of document.body.querySelectorAll('[aria-label], [title], [placeholder]')) {
    if (skip(el)) continue;
    for (const a of ['aria-label', 'title', 'placeholder']) {
      if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
  }
  return out;
}"""
# Accessibility basics on the same screens: every control has a name, touch targets are large.
UNLABELLED = """() =>
  [...document.querySelectorAll('input, select, textarea, button, a.btn, canvas')]
  .filter((el) => el.checkVisibility())
  .filter((el) => !(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
    || el.labels?.length || el.textContent.trim() || el.title))
  .map((el) => el.outerHTML.slice(0, 120))"""
SMALL = """() =>
  [...document.querySelectorAll('button, a.btn, select, input:not([type=radio]), textarea')]
  .filter((el) => el.checkVisibility() && !el.closest('.sr-only'))
  .filter((el) => { const r = el.getBoundingClientRect(); return r.height < 40 || r.width < 40; })
  .map((el) => el.outerHTML.slice(0, 120))"""
SYMBOLS = " \n\t·✓✕＋★☎→‹:：()（）…#×,，.。*"


def _patterns(table: dict[str, str]) -> list[re.Pattern[str]]:
    out = []
    for text in table.values():
        parts = re.split(r"\{\w+\}", text.strip(SYMBOLS))
        out.append(re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$", re.S))
    return out


def _foreign(texts: list[str], own: list[re.Pattern[str]]) -> list[str]:
    """Texts that are neither a string of `own` nor free of words (numbers, dates, symbols)."""
    bad = []
    for raw in texts:
        text = raw.strip(SYMBOLS)
        if not re.search(r"[A-Za-z]{2,}|[\u4e00-\u9fff]", text):
            continue  # numbers, times, counts
        if not any(p.match(text) for p in own):
            bad.append(raw)
    return bad


def _check(page: Any, own: list[re.Pattern[str]], where: str) -> list[str]:
    assert not page.evaluate(UNLABELLED), f"{where}: controls without a label"
    assert not page.evaluate(SMALL), f"{where}: touch targets under 40 px"
    texts = page.evaluate(COLLECT)
    assert len(texts) > 5, where
    bad = _foreign(texts, own)
    assert not bad, f"{where}: not from the current language's strings: {bad}"
    return list(texts)


def _switch(page: Any, code: str) -> None:
    page.select_option("select[translate=no]", code)
    page.wait_for_function(f"document.documentElement.lang === '{code}'")
    page.wait_for_timeout(100)


def test_language_switch_changes_every_visible_string(
    browser: Any, server: Server, shots: Path
) -> None:
    ctx = browser.new_context(**context_options("en-US"))  # the default follows the browser
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#username")
    tables = page.evaluate("import('/src/strings.js').then((m) => ({en: m.EN, zh: m.ZH}))")
    lang = {"en": _patterns(tables["en"]), "zh-CN": _patterns(tables["zh"])}
    assert page.evaluate("document.documentElement.lang") == "en"

    def both(where: str, name: str | None = None) -> None:
        en = _check(page, lang["en"], f"{where} (en)")
        if name:
            shot(page, shots, f"{name}-en")
        _switch(page, "zh-CN")
        zh = _check(page, lang["zh-CN"], f"{where} (zh-CN)")
        if name:
            shot(page, shots, f"{name}-zh")
        assert len(en) == len(zh), where  # the same strings, each one translated
        same = [
            a
            for a, b in zip(en, zh, strict=True)
            if a.strip() == b.strip() and re.search(r"[A-Za-z]{2,}", a)
        ]
        assert not same, f"{where}: unchanged by the switch: {same}"
        _switch(page, "en")

    both("login")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("a.card.job", timeout=60_000)
    wait_for(lambda: page.evaluate("fieldsync.state.running") is False, "first sync")
    both("jobs", "jobs")

    page.locator("a.card.job").first.click()
    page.wait_for_selector(".grid-buttons")
    both("job")
    job_id = page.url.rsplit("/", 1)[1]

    page.goto(server.url + f"/#/job/{job_id}/report")
    page.wait_for_selector("#diagnosis")
    page.click("text=Add part")
    both("report")

    page.goto(server.url + "/#/parts")
    page.wait_for_selector(".part-head")
    page.locator(".part-head").first.click()
    page.wait_for_selector("table.avail")
    both("parts")

    page.goto(server.url + "/#/sync")
    page.wait_for_selector("[data-testid=pending-count]")
    both("sync")

    # The choice persists on the device.
    _switch(page, "zh-CN")
    page.reload()
    page.wait_for_selector("[data-testid=pending-count]")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.inner_text("h1") == "同步状态"
    ctx.close()
