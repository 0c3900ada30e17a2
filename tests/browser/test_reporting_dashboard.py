"""The dashboard in a real headless browser (Debian's chromium): what a person sees matches the API."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parents[2] / "services" / "reporting" / "tests"))
sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from test_reporting_from_kafka import publish_script

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
PLAN = "ben-tre-996-2021"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def shown(metric: str, value: float) -> str:
    if metric == "demand-coverage":
        return f"{value * 100:.1f} %"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def test_the_dashboard_shows_the_api_numbers_in_vietnamese_and_english_on_a_phone(platform, tmp_path):
    url = platform.start("reporting", {"REPORTING_EVALUATION_DATE": "2025-12-31"}).url
    asyncio.run(publish_script(platform))
    api = f"{url}/plans/{PLAN}/progress"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        targets = httpx.get(api, params={"as_of": "2025-12-31"}).json()["targets"]
        if targets[0]["details"].get("demand") == 5 and targets[3]["value"] == 15:
            break
        time.sleep(0.5)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        blocked: list[str] = []
        page.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(url)
                else (blocked.append(route.request.url), route.abort())
            ),
        )
        page.goto(f"{url}/?as_of=2025-12-31")
        page.wait_for_selector("body[data-ready=true]")
        page.screenshot(path=str(tmp_path / "dashboard-vi.png"), full_page=True)
        assert blocked == [], "everything the page needs ships with the service"
        assert page.locator("html").get_attribute("lang") == "vi"
        for target in targets:
            card = page.locator(f"[data-target='{target['id']}']")
            assert card.locator(".value").inner_text() == shown(target["metric"], target["value"])
            assert card.locator("h2").inner_text() == target["title"]["vi"]
            assert card.locator("canvas").count() == (1 if target["series"] else 0), "a chart where months exist"
        risk = page.locator("[data-target='enterprise-times-2025'] .status").inner_text()
        assert risk == "Có nguy cơ"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"

        page.click("#lang")
        page.wait_for_function("document.documentElement.lang === 'en'")
        page.screenshot(path=str(tmp_path / "dashboard-en.png"), full_page=True)
        card = page.locator("[data-target='enterprise-times-2025']")
        assert card.locator("h2").inner_text() == "Enterprise-times reached by the Measurement Assurance Programme"
        assert card.locator(".status").inner_text() == "At risk"
        channels = card.locator("table[data-breakdown='channel']")
        assert "calibration" in (channels.text_content() or "")
        browser.close()
    assert (tmp_path / "dashboard-vi.png").stat().st_size > 10_000
    print(f"screenshots: {tmp_path}")
