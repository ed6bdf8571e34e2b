"""Playwright fixtures: Debian's Chromium on a phone-sized screen against pytest-django's
live_server (DEVELOPERS.md: no browser download, ever; CI installs chromium with apt-get).

Mark browser tests with @pytest.mark.browser. They skip, saying why, when /usr/bin/chromium is
missing (scripts/test.sh installs it when apt-get is possible). A failing test leaves a
screenshot in test-artifacts/.
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# This machine has no network but loopback: without the background-networking flags
# Chromium keeps trying Google's hosts and fills the log with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so the page fixture knows whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: launching costs about a second. Module scope (not session)
    also ends Playwright's event loop before the non-browser tests run."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            f"浏览器测试需要 Debian 的 Chromium（{CHROMIUM} 不存在）：运行 `bash scripts/test.sh` 时以 root "
            "或可用 sudo 的用户通过 apt-get 安装 chromium；Playwright 不会自行下载浏览器。"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright 未安装：pip install -r requirements-dev.txt"
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def bad_responses():
    """Responses with status >= 400 seen by the page (a missing stylesheet shows up here)."""
    return []


@pytest.fixture
def page(request, browser, live_server, transactional_db, bad_responses):
    """A fresh phone-sized page whose relative URLs go to the live server.

    transactional_db: the live server answers from another thread, so the data a test sets
    up must be committed for it to be seen, and what the browser writes is visible to asserts.
    """
    context = browser.new_context(base_url=live_server.url, **PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("response", lambda r: _note_bad_response(r, bad_responses))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def _note_bad_response(response, seen):
    # Browsers ask for /favicon.ico on their own; its absence is not a broken page.
    if response.status >= 400 and not response.url.endswith("/favicon.ico"):
        seen.append(f"{response.status} {response.url}")


def login(page, username, password=PASSWORD):
    """Sign in through the real login page, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name=re.compile("登录")).click()
    page.wait_for_load_state()
    if "/accounts/login/" in page.url:
        raise AssertionError(f"{username} 登录失败：{page.locator('body').inner_text()[:300]}")


def logout(page):
    """Sign out with the page's button and wait until its navigation is over (the button first
    empties the service worker's kept pages, then posts): a login started earlier aborts it."""
    from playwright.sync_api import expect

    button = page.get_by_role("button", name="退出登录")
    button.click()
    expect(button).to_have_count(0)
    page.wait_for_load_state("networkidle")
