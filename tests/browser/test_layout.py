"""The shared layout on a phone: nothing wider than the screen, every button thumb-sized,
the current section marked in the navigation (browser test: these are CSS outcomes)."""

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import login
from tests.monitoring.cases import report

pytestmark = pytest.mark.browser

# Buttons and button-like links anywhere on the page (checkboxes sit in 44px-high labels).
TOO_SMALL = """() => [...document.querySelectorAll('button, .btn, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height < 44; })
  .map(e => `${e.tagName} ${(e.innerText || e.name || '').trim()} ${Math.round(e.getBoundingClientRect().height)}px`)"""


def test_main_pages_fit_a_phone_with_thumb_sized_buttons(page, world, bad_responses):
    w = world
    case = report(w)
    for _ in range(21):  # a second page of households: the pagination buttons are shown
        f.make_household(w.village_a1, members=1)
    login(page, "village")
    pages = {
        "/inbox/": "我的待办",
        "/cases/": "监测对象",
        f"/cases/{case.pk}/": "监测对象",
        "/households/": "农户登记",
        f"/visits/{w.household_a1.pk}/new/": "农户登记",
    }
    for url, section in pages.items():
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{url} 比屏幕宽"
        assert page.evaluate(TOO_SMALL) == [], url
        expect(page.locator('.nav-row a[aria-current="page"]')).to_have_text(section)
        if url == "/households/":
            expect(page.get_by_role("link", name="下一页")).to_be_visible()  # measured just above
    assert bad_responses == []
