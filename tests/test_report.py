"""The release report in a real browser: headless Chromium driven by Playwright."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from broker.publish import publish
from tests.chain import NOW

ARTEFACTS = Path(__file__).parent.parent / "test-artefacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def report(chain) -> Path:
    done = publish(chain["store"], chain["broker"], chain["key"], NOW)
    return done.folder / "rapport.html"


def fills(page):
    return page.eval_on_selector_all("path.buurt", "ps => ps.map(p => p.getAttribute('fill'))")


def test_report_in_chromium(report):
    assert CHROMIUM, "Chromium is needed for this test: `make test` installs it (apt chromium)"
    errors, requests = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        assert errors == []
        assert requests == [report.as_uri()]  # self-contained: nothing else is fetched
        assert page.locator("path.buurt").count() == 78  # one shape per buurt of Zwolle
        first = fills(page)
        page.select_option("#keuze", "laag_inkomen")
        second = fills(page)
        assert first != second  # another indicator recolours the map
        hatched = page.locator('path.buurt[fill="url(#gearceerd)"]')
        assert hatched.count() > 0  # suppressed buurten are marked …
        assert "onderdrukt" in hatched.first.locator("title").text_content()  # … with the reason
        rows = page.locator("#tabel tbody tr")
        assert rows.count() == 78 + 16  # buurten and wijken of the selected indicator
        page.locator("#tabel thead th").nth(4).click()  # sort by percentage
        assert page.locator("#tabel thead th").nth(4).text_content().endswith("▲")
        ARTEFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "rapport.png"), full_page=True)
        assert errors == []
        browser.close()
    assert (ARTEFACTS / "rapport.png").stat().st_size > 50_000
