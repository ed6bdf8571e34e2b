"""Each role's main pages in Chromium, on a phone and on a desktop (issue 13): no console error,
no failed request (the icon included), nothing wider than a phone's screen, every required
field marked; and the visit → 据此申报 journey with the visit carried into the report.

Screenshots of every page are kept in test-artifacts/roles/ (README: Quick start, point 2),
whether the test passes or fails, for the closing note and for review."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import ARTIFACTS, PHONE
from tests.factories import PASSWORD
from tests.monitoring.cases import case_at, report

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
SHOTS = ARTIFACTS / "roles"

# Inputs the browser would require that show no 必填 mark in their label.
UNMARKED_REQUIRED = """() => [...document.querySelectorAll('.field input[required], .field select[required], .field textarea[required]')]
  .filter(e => e.type !== 'hidden' && e.type !== 'checkbox' && e.type !== 'radio')
  .filter(e => { const l = document.querySelector(`label[for="${e.id}"]`); return !l || !l.querySelector('.req'); })
  .map(e => e.name)"""


@pytest.fixture
def scene(world, db):
    """The world's users plus a contact person, and a case in each place a role acts."""
    w = world
    w.admin.is_staff = w.admin.is_superuser = True
    w.admin.save()
    w.helper = f.UserFactory(username="helper")
    w.helper.set_password(PASSWORD)
    w.helper.save()
    w.village_cadre_b.set_password(PASSWORD)
    w.reported = report(w)
    w.monitored = case_at(w, "monitored", household=f.make_household(w.village_a1, members=2))
    w.monitored.contact_person = w.helper
    w.monitored.save(update_fields=["contact_person"])
    return w


def main_pages(w):
    return {
        "admin": ["/cases/", "/households/", f"/households/{w.household_a1.pk}/"],
        "county": ["/inbox/", "/cases/", f"/cases/{w.monitored.pk}/", "/households/", "/screening/warnings/"],
        "town": ["/inbox/", "/cases/", f"/cases/{w.reported.pk}/"],
        "village": [
            "/inbox/",
            "/cases/",
            f"/cases/{w.reported.pk}/",
            f"/cases/{w.reported.pk}/actions/start_appraisal/",
            "/households/",
            f"/households/{w.household_a1.pk}/",
            f"/visits/{w.household_a1.pk}/new/",
            "/cases/new/?q=" + w.household_a1.number[-4:],
        ],
        "village_b": ["/inbox/", "/households/", f"/households/{w.household_b1.pk}/"],
        "medical": ["/", "/screening/"],
        "helper": ["/", f"/cases/{w.monitored.pk}/"],
    }


def _login(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, username


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_roles_main_pages_load_cleanly_fit_and_mark_required_fields(browser, live_server, scene, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for username, urls in main_pages(scene).items():
        context = browser.new_context(base_url=live_server.url, **(PHONE if size == "phone" else DESKTOP))
        context.set_default_timeout(10_000)
        page = context.new_page()
        seen = []
        page.on("console", lambda m, seen=seen: m.type == "error" and seen.append(f"console: {m.text}"))
        page.on("response", lambda r, seen=seen: r.status >= 400 and seen.append(f"{r.status} {r.url}"))
        _login(page, username)
        for url in urls:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            name = re.sub(r"[^\w]+", "_", url).strip("_") or "home"
            page.screenshot(path=str(SHOTS / f"{username}-{size}-{name}.png"), full_page=True)
            if size == "phone" and page.evaluate("document.documentElement.scrollWidth") > PHONE["viewport"]["width"]:
                problems.append(f"{username} {url}: wider than the phone")
            if size == "phone":
                nav = page.locator(".nav")
                if nav.count() and nav.bounding_box()["height"] > 50:
                    problems.append(f"{username} {url}: navigation takes more than one row")
            unmarked = page.evaluate(UNMARKED_REQUIRED)
            if unmarked:
                problems.append(f"{username} {url}: required without a mark: {unmarked}")
        problems += [f"{username}: {s}" for s in seen]
        context.close()
    assert problems == []


def test_the_phone_menu_opens_the_links_that_do_not_fit(page, scene):
    _login(page, "county")
    page.goto("/inbox/")
    expect(page.locator(".nav-row").get_by_role("link", name="数据质量")).to_be_hidden()
    page.locator(".nav-more summary").click()
    page.locator(".nav-more-list").get_by_role("link", name="数据质量").click()
    expect(page.get_by_role("heading", name=re.compile("数据质量"))).to_be_visible()


def test_a_visit_leads_to_a_report_that_carries_it(page, world, bad_responses):
    w = world
    household = f.make_household(w.village_a1, members=2)
    _login(page, "village")
    page.goto(f"/visits/{household.pk}/new/")
    page.get_by_label("基本医疗有保障").uncheck()
    page.get_by_label("走访情况").fill("户主突发脑梗住院，自付费用高")
    page.get_by_label("因病").check()
    page.get_by_role("button", name="保存走访记录").click()
    next_step = page.get_by_role("region", name="下一步")
    next_step.get_by_role("link", name="据此申报").click()
    expect(page.get_by_text("已带入")).to_be_visible()
    expect(page.get_by_label("申报理由")).to_have_value("户主突发脑梗住院，自付费用高")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.get_by_role("button", name="提交申报").click()
    expect(page.get_by_text(re.compile("已带入走访记录和入户核实情况"))).to_be_visible()
    timeline = page.get_by_role("region", name="办理记录")
    expect(timeline.locator(".tl-visit")).to_have_count(1)
    expect(page.locator("#case-title + dl")).to_contain_text("入户核实")
    assert bad_responses == []
