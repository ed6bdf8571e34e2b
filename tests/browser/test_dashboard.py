"""The dashboard in a real Chromium (issue 11): every chart drawn by the vendored ECharts, no
console error, nothing wider than a phone's screen, a figure opens its list; screenshots of the
phone and the desktop layout go to test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, PHONE, login
from tests.reports.county import build_board

pytestmark = pytest.mark.browser

DESKTOP = {
    **PHONE,
    "viewport": {"width": 1366, "height": 900},
    "device_scale_factor": 1,
    "is_mobile": False,
    "has_touch": False,
}
CHARTS = 7  # states, areas, categories, primary and secondary risks, trend, warnings


@pytest.fixture
def board(world):
    return build_board(world)


def _watch(page):
    errors = []

    def note(message):
        # The browser asks for /favicon.ico on its own; its 404 is not the page's error.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", note)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _charts_drawn(page):
    expect(page.locator('[data-chart][data-rendered="true"]')).to_have_count(CHARTS)
    # ECharts draws on a canvas inside each chart box, sized to it.
    for box in page.locator("[data-chart]").all():
        canvas = box.locator("canvas").first
        expect(canvas).to_be_visible()
        assert canvas.bounding_box()["width"] > 200


def test_dashboard_draws_its_charts_on_a_phone_and_a_desktop(page, board, bad_responses, browser, live_server):
    errors = _watch(page)
    login(page, "county")
    # On a phone the dashboard sits in the 更多 menu of the navigation.
    page.locator(".nav-more summary").click()
    page.locator(".nav-more-list").get_by_role("link", name="统计看板").click()
    expect(page.get_by_role("heading", name=re.compile("统计看板"))).to_be_visible()
    _charts_drawn(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)

    # A figure opens the list behind it, with the same number.
    page.locator('[data-figure="overdue:plan"]').click()
    page.wait_for_url(re.compile(r"/cases/\?plan_overdue=true"))
    expect(page.locator("p.count")).to_contain_text("1 个监测对象")

    desktop = browser.new_context(base_url=live_server.url, **DESKTOP)
    try:
        wide = desktop.new_page()
        errors += _watch(wide)
        login(wide, "county")
        wide.goto("/dashboard/")
        _charts_drawn(wide)
        wide.screenshot(path=str(ARTIFACTS / "dashboard-desktop.png"), full_page=True)
        # A bar of a chart opens its list: 监测帮扶中 (the 6th state) of the states chart.
        box = wide.locator('[data-chart="states"]')
        box.scroll_into_view_if_needed()
        x, y = box.evaluate("el => echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [5, 3])")
        origin = box.bounding_box()
        wide.mouse.click(origin["x"] + x, origin["y"] + y + 8)
        wide.wait_for_url(re.compile(r"/cases/\?state=monitored$"))
        expect(wide.locator("p.count")).to_contain_text("3 个监测对象")
    finally:
        desktop.close()
    assert errors == []
    assert bad_responses == []
