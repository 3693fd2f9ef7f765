"""The curator's report in a real browser: headless Chromium (the system's, no download) via Playwright.

Opens report/index.html from disk (file://), checks the trial table against the dataset, filters by
a target, opens one value's provenance and checks that its page crop loaded, and saves screenshots
to tests/artifacts/. Without Chromium this test FAILS with the install command (set
REVIEW_EXTRACT_SKIP_BROWSER=1 to skip it explicitly instead).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from test_report import build_once, expected_trials

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
TARGET = "GPRC5D"


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return ""


@pytest.fixture(scope="module")
def browser():
    if os.environ.get("REVIEW_EXTRACT_SKIP_BROWSER") == "1":
        pytest.skip("REVIEW_EXTRACT_SKIP_BROWSER=1: browser test skipped on request")
    executable = _chromium()
    if not executable:
        pytest.fail("headless Chromium not found: install it with `apt-get install -y chromium` "
                    "(or set CHROMIUM_PATH); the report's browser test cannot run without it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: `python3 -m pip install -e '.[dev]'`")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _visible_rows(page) -> int:
    return page.evaluate("document.querySelectorAll('#trial-table tbody tr:not([hidden])').length")


def test_report_in_headless_chromium(browser, extraction_dir):
    built = time.perf_counter()
    index = build_once(extraction_dir)
    start = time.perf_counter()
    build_wait = start - built
    folder = index.parent.parent
    trials = expected_trials(folder)
    with_target = sorted(rid for rid, targets in trials.items()
                         if re.search(rf"\b{TARGET}\b", re.sub(r"\([^)]*\)", "", targets), re.I))
    assert with_target, f"no {TARGET} trial in the dataset"

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    remote: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: remote.append(req.url) if not req.url.startswith(("file:", "data:", "blob:", "about:")) else None)
    page.goto(index.resolve().as_uri())

    # the trial table: one row per trial, all shown before any filter
    page.wait_for_selector("#trial-count[data-shown]")
    assert page.locator("#trial-table tbody tr").count() == len(trials)
    assert _visible_rows(page) == len(trials)
    assert page.inner_text("#trial-count") == f"{len(trials)} of {len(trials)} trials shown"

    # the five charts render (Vega bundle inline, no network)
    page.wait_for_function("document.querySelectorAll('.chart[data-rendered=\"1\"]').length === 5", timeout=30000)
    assert page.locator(".chart svg").count() >= 5

    # filter by target
    page.select_option("#filter-target", TARGET)
    assert _visible_rows(page) == len(with_target)
    shown_ids = page.evaluate("Array.from(document.querySelectorAll('#trial-table tbody tr:not([hidden])')).map(r => r.dataset.id)")
    assert sorted(shown_ids) == with_target
    assert page.inner_text("#trial-count").startswith(f"{len(with_target)} of {len(trials)}")

    # free-text search narrows further, reset restores
    page.fill("#trial-search", with_target[0])
    assert _visible_rows(page) == 1
    page.fill("#trial-search", "")
    page.evaluate("document.getElementById('trials').scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / "report_trials_gprc5d.png"))

    # open one value's provenance: its page crop loads, with the cell highlighted inside it
    link = page.locator("#trial-table tbody tr:not([hidden]) td a.prov").nth(3)
    label = link.get_attribute("data-label")
    link.click()
    page.wait_for_selector("#viewer[data-loaded='1']", timeout=10000)
    natural = page.evaluate("[document.getElementById('viewer-img').naturalWidth, document.getElementById('viewer-img').naturalHeight]")
    assert natural[0] > 0 and natural[1] > 0, natural
    assert page.inner_text("#viewer .label") == label
    img_box = page.locator("#viewer-img").bounding_box()
    hl = page.locator("#viewer .stage .box").first.bounding_box()
    assert hl and hl["width"] > 2 and hl["height"] > 2
    assert img_box["x"] - 1 <= hl["x"] and hl["x"] + hl["width"] <= img_box["x"] + img_box["width"] + 1
    assert img_box["y"] - 1 <= hl["y"] and hl["y"] + hl["height"] <= img_box["y"] + img_box["height"] + 1
    page.screenshot(path=str(ARTIFACTS / "report_provenance.png"))
    page.keyboard.press("Escape")
    assert page.locator("#viewer").is_hidden()

    # sorting by enrollment puts the smallest first (trials without enrollment last)
    page.select_option("#filter-target", "")
    page.click("#trial-table th[data-col='enrollment'] button")
    enroll = page.evaluate("""() => {
        const col = Array.from(document.querySelectorAll('#trial-table thead th')).findIndex(th => th.dataset.col === 'enrollment');
        return Array.from(document.querySelectorAll('#trial-table tbody tr')).map(r => r.cells[col].dataset.sort);
    }""")
    numbers = [float(v) for v in enroll if v]
    assert len(numbers) > 10 and numbers == sorted(numbers)
    assert all(v for v in enroll[:len(numbers)]), "trials without enrollment must sort last"

    # a click on the target chart's GPRC5D bar sets the same filter
    page.click("#trial-reset")
    assert _visible_rows(page) == len(trials)
    bar = page.locator(f"#chart-target svg path[aria-roledescription='bar'][aria-label*='Target antigen: {TARGET};']").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(f"document.getElementById('filter-target').value === '{TARGET}'", timeout=5000)
    assert _visible_rows(page) == len(with_target)
    page.click("#trial-reset")

    # a narrative fact (when the extraction has text_facts.csv) opens its page with the sentence
    if page.locator("#fact-table a.prov").count():
        page.locator("#fact-table a.prov").first.click()
        page.wait_for_selector("#viewer[data-loaded='1']", timeout=10000)
        assert page.evaluate("document.getElementById('viewer-img').naturalWidth") > 0
        assert page.locator("#viewer .stage .box").count() >= 1
        page.keyboard.press("Escape")

    # the page crops of one printed table all load
    page.click("#table-1 details.pages summary")
    page.wait_for_function("Array.from(document.querySelectorAll('#table-1 .pageimgs img')).every(i => i.complete && i.naturalWidth > 0)",
                           timeout=10000)

    assert not errors, errors
    assert not remote, f"the report fetched from the network: {remote[:5]}"
    seconds = time.perf_counter() - start
    (ARTIFACTS / "report_browser_test.json").write_text(json.dumps({
        "browser_seconds": round(seconds, 2), "report_build_wait_seconds": round(build_wait, 2), "trials": len(trials), f"{TARGET}_trials": len(with_target),
        "opened": label, "crop_natural_size": natural, "report": str(index)}, indent=2))
    page.close()
