"""The dashboard in a real headless browser (Debian's chromium): what a person sees matches the API."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

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


# Every chart (canvas and legend) must lie inside its card: a chart wider than its card is clipped at the right,
# hiding the last months up to the deadline. Returns what sticks out, as "<target> <element> <box> > <card box>".
OVERFLOWING = """() => [...document.querySelectorAll('[data-target]')].flatMap((card) => {
  const box = (n) => n.getBoundingClientRect();
  const outside = (b, c) => b.width === 0 || b.left < c.left - 0.5 || b.right > c.right + 0.5
    || b.top < c.top - 0.5 || b.bottom > c.bottom + 0.5;
  const show = (b) => [b.left, b.top, b.right, b.bottom].map(Math.round).join(',');
  const c = box(card);
  return [...card.querySelectorAll('.chart')].flatMap((host) => {
    const h = box(host);
    const parts = [...host.querySelectorAll('canvas, .u-legend')];
    const bad = parts.filter((n) => outside(box(n), h) || outside(box(n), c));
    if (outside(h, c)) bad.push(host);
    return bad.map((n) => card.dataset.target + ' ' + n.tagName.toLowerCase() + '.' + n.className + ' '
                   + show(box(n)) + ' > ' + show(h) + ' / ' + show(c));
  });
})"""


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

        def only_the_service(route: Route) -> None:
            if route.request.url.startswith(url):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_service)
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
        # a 2030 target whose window opens in 2026 is not started, and the forecast note speaks the page's language
        assert page.locator("[data-target='demand-coverage-2030'] .status").inner_text() == "Chưa bắt đầu"
        assert page.locator("#method").inner_text().startswith("xu hướng tuyến tính bình phương tối thiểu")
        assert page.locator("[data-i18n=knownAt]").inner_text() == "Theo dữ liệu ghi nhận đến"
        national = httpx.get(f"{url}/national", params={"as_of": "2025-12-31"}).json()
        trained = next(k for k in national["kpis"] if k["metric"] == "person-times-trained")
        row = page.locator("#national tr[data-metric='person-times-trained']")
        assert row.locator("td").first.inner_text() == "Lượt người được đào tạo"
        assert row.locator("td.total").inner_text() == shown("person-times-trained", trained["value"])
        assert page.locator("#national [data-i18n=national]").inner_text().startswith("Toàn quốc")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
        assert page.evaluate(OVERFLOWING) == [], "every chart and its legend fit in the card on a phone"

        page.click("#lang")
        page.wait_for_function("document.documentElement.lang === 'en'")
        page.screenshot(path=str(tmp_path / "dashboard-en.png"), full_page=True)
        card = page.locator("[data-target='enterprise-times-2025']")
        assert card.locator("h2").inner_text() == "Enterprise-times reached by the Measurement Assurance Programme"
        assert card.locator(".status").inner_text() == "At risk"
        assert page.locator("[data-target='demand-coverage-2030'] .status").inner_text() == "Not started"
        assert page.locator("#method").inner_text().startswith("least-squares linear trend")
        assert page.locator("#national tr[data-metric='person-times-trained'] td").first.inner_text() == (
            "Person-times trained"
        )
        channels = card.locator("table[data-breakdown='channel']")
        assert "calibration" in (channels.text_content() or "")

        page.set_viewport_size({"width": 1280, "height": 900})  # a desktop: the charts follow their cards' width
        with contextlib.suppress(PlaywrightTimeout):  # the ResizeObserver re-sizes the charts
            page.wait_for_function(f"({OVERFLOWING})().length === 0", timeout=5000)
        assert page.evaluate(OVERFLOWING) == [], "every chart and its legend fit in the card on a desktop"
        widths = page.evaluate("[...document.querySelectorAll('.chart canvas')].map((c) => c.clientWidth)")
        assert widths and min(widths) > 300, f"the charts grew with their cards: {widths}"
        page.screenshot(path=str(tmp_path / "dashboard-desktop.png"), full_page=True)

        page.fill("#as-of", "2026-01-15")  # past the 2025 deadline with 14 of 50: missed, no longer at risk
        page.wait_for_function(
            "document.querySelector(\"[data-target='enterprise-times-2025'] .status\").textContent === 'Missed'"
        )
        assert "missed" in (card.get_attribute("class") or "")
        assert page.evaluate(OVERFLOWING) == [], "the charts fit after a re-render too"

        # as known on yesterday (every fact was recorded today): the 2025 year as it stood before any of it
        page.fill("#as-of", "2025-12-31")
        page.fill("#known-at", (date.today() - timedelta(days=1)).isoformat())
        page.wait_for_function(
            "document.querySelector(\"[data-target='person-times-trained-2025'] .value\").textContent === '0'"
        )
        assert page.locator("[data-i18n=knownAt]").inner_text() == "As known on"
        assert "known_at=" in (page.locator("#csv").get_attribute("href") or ""), "the export answers for it too"
        assert "known_at=" in (page.locator("#yearly-xlsx").get_attribute("href") or ""), "and the yearly report"
        yearly = page.locator("#yearly-pdf").get_attribute("href") or ""
        assert f"/plans/{PLAN}/reports/2025.pdf?lang=en&known_at=" in yearly, "the yearly report of the as-of year"
        page.fill("#known-at", "")
        page.wait_for_function(
            "document.querySelector(\"[data-target='person-times-trained-2025'] .value\").textContent === '15'"
        )
        browser.close()
    assert (tmp_path / "dashboard-vi.png").stat().st_size > 10_000
    print(f"screenshots: {tmp_path}")
