"""The installable field app on a phone (issue 12 point 6; DOMAIN.md §8): the service worker
keeps the pages a cadre opened, so the visit form opens and saves with no signal at all — even
in a page opened after the signal is gone, as when the phone starts in a valley — and the
visit is sent once when the signal returns, however often it is sent.
"""

import re
import time

import pytest
from playwright.sync_api import expect

from monitoring.models import Visit
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

KEPT_PAGES = "caches.open('fanpin-pages').then(c => c.keys()).then(k => k.map(r => new URL(r.url).pathname))"


def _until(page, expression, seconds=10):
    # page.evaluate, not wait_for_function: the pages' CSP forbids the eval the latter uses.
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {expression}"
        time.sleep(0.1)


def _install(page, username="village"):
    """Online once: sign in; the service worker installs and takes over the page."""
    login(page, username)
    _until(page, "!!navigator.serviceWorker.controller")


def _open_online(page, *paths):
    for path in paths:
        page.goto(path)
        _until(page, f"{KEPT_PAGES}.then(p => p.includes({path!r}))")


def test_the_visit_form_opens_and_saves_with_no_signal_from_the_start_and_syncs_once(page, world, bad_responses):
    household = world.household_a1
    context = page.context
    _install(page)
    _open_online(page, f"/households/{household.pk}/", f"/visits/{household.pk}/new/")
    page.goto("about:blank")

    # The phone starts without a signal: a new page, nothing from the network.
    context.set_offline(True)
    phone = context.new_page()
    phone.goto(f"/visits/{household.pk}/new/")
    expect(phone.get_by_role("heading", name=re.compile("记录走访"))).to_be_visible()
    expect(phone.get_by_role("status").filter(has_text="现在没有网络")).to_be_visible()
    phone.get_by_label("住房安全有保障").uncheck()
    phone.get_by_label("走访情况").fill("东屋漏雨，需危房改造")
    phone.get_by_role("button", name="保存走访记录").click()
    expect(phone.get_by_role("heading", name="已保存在手机上，有网络时自动上传")).to_be_visible()
    assert not Visit.objects.exists()

    # The household page opened before is there too; a page never opened says so plainly.
    phone.goto(f"/households/{household.pk}/")
    expect(phone.get_by_role("heading", name=re.compile(household.number))).to_be_visible()
    expect(phone.locator("#offline-pending")).to_have_text("待上传 1")
    phone.goto(f"/households/{world.household_a2.pk}/")
    expect(phone.get_by_role("heading", name="现在没有网络")).to_be_visible()
    expect(phone.locator("#offline-saved-pages")).to_contain_text("记录走访")
    kept = phone.evaluate(KEPT_PAGES)
    assert f"/visits/{household.pk}/new/" in kept

    # The signal returns: the visit goes up once.
    phone.goto(f"/households/{household.pk}/")
    context.set_offline(False)
    expect(phone.get_by_text("离线走访记录已上传 1 条。")).to_be_visible()
    visit = Visit.objects.get()
    assert visit.findings == "东屋漏雨，需危房改造" and visit.recorded_by == world.village_cadre
    household.refresh_from_db()
    assert household.housing_secure is False

    # The answer was lost on the way and the phone sends it again: nothing is stored twice.
    entry = {
        "client_uuid": str(visit.client_uuid),
        "household": str(household.pk),
        "label": household.number,
        "form_url": f"/visits/{household.pk}/new/",
        "visited_on": visit.visited_on.isoformat(),
        "fields": [["household", str(household.pk)], ["visitors", "张三"], ["client_uuid", str(visit.client_uuid)]],
        "photos": [],
        "error": "",
    }
    phone.reload()
    resent = phone.evaluate("entry => fanpinOffline.save(entry).then(() => fanpinOffline.sync())", entry)
    assert resent["refused"] == []
    assert Visit.objects.count() == 1
    assert phone.evaluate("fanpinOffline.all().then(l => l.length)") == 0
    assert [r for r in bad_responses if "/api/" in r] == []


def test_two_visits_saved_offline_from_the_same_kept_form_are_two_visits(page, world):
    household = world.household_a1
    context = page.context
    _install(page)
    _open_online(page, f"/visits/{household.pk}/new/")
    context.set_offline(True)
    uuids = []
    for findings in ("第一次走访", "第二次走访"):
        page.goto(f"/visits/{household.pk}/new/")
        uuids.append(page.locator("input[name=client_uuid]").input_value())
        page.get_by_label("走访情况").fill(findings)
        page.get_by_role("button", name="保存走访记录").click()
        expect(page.get_by_role("heading", name="已保存在手机上，有网络时自动上传")).to_be_visible()
    assert uuids[0] != uuids[1]
    context.set_offline(False)
    expect(page.get_by_text("离线走访记录已上传 2 条。")).to_be_visible()
    assert sorted(Visit.objects.values_list("findings", flat=True)) == ["第一次走访", "第二次走访"]


def test_logging_out_empties_the_pages_kept_on_the_phone(page, world):
    household = world.household_a1
    _install(page)
    _open_online(page, f"/households/{household.pk}/")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(re.compile("/accounts/login/"))
    assert page.evaluate(KEPT_PAGES) == []
    # Offline after the logout, the household page is not there for the next person.
    page.context.set_offline(True)
    page.goto(f"/households/{household.pk}/")
    expect(page.get_by_role("heading", name="现在没有网络")).to_be_visible()
    assert household.number not in page.content()


def test_another_cadre_signing_in_never_sees_the_first_ones_pages(page, world):
    household = world.household_a1
    _install(page)
    _open_online(page, f"/households/{household.pk}/")
    # The session ends without a logout (expired, cleared): the next sign-in starts empty.
    page.context.clear_cookies()
    login(page, "village_b")
    _until(page, f"{KEPT_PAGES}.then(p => p.includes('/inbox/'))")
    assert page.evaluate(KEPT_PAGES) == ["/inbox/"]  # the second cadre's own first page only
    owners = page.evaluate(
        "caches.open('fanpin-pages').then(c => c.matchAll()).then(l => l.map(r => r.headers.get('X-Fanpin-User')))"
    )
    assert owners == [str(world.village_cadre_b.pk)]


def test_a_household_changed_meanwhile_is_shown_to_the_cadre_who_decides(page, world):
    household = world.household_a1
    login(page, "village")
    page.goto(f"/visits/{household.pk}/new/")
    page.context.set_offline(True)
    page.get_by_label("走访情况").fill("房屋已修好")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_role("heading", name="已保存在手机上，有网络时自动上传")).to_be_visible()
    # Meanwhile, on the server, the town records the house as unsafe.
    household.housing_secure = False
    household.save()

    page.context.set_offline(False)
    refusal = page.get_by_role("alert").filter(has_text="1 条离线走访记录未能上传")
    expect(refusal).to_contain_text("住房安全有保障：现在为“有问题”，本次走访为“有保障”")
    expect(refusal).to_contain_text("请选择以哪一方为准")
    assert not Visit.objects.exists()
    refusal.get_by_role("button", name="查看").click()
    panel = page.get_by_role("region", name="手机上待上传的记录")
    panel.get_by_role("button", name="保留现在的情况").click()
    expect(page.get_by_text("离线走访记录已上传 1 条。")).to_be_visible()
    visit = Visit.objects.get()
    assert visit.findings == "房屋已修好" and visit.housing_secure is False
    household.refresh_from_db()
    assert household.housing_secure is False


def test_a_declaration_taken_by_phone_is_entered_with_no_signal_and_synced_once(page, world):
    from monitoring.models import Declaration
    from tests.factories import valid_id

    context = page.context
    _install(page)
    _open_online(page, "/declarations/new/")
    page.goto("about:blank")

    context.set_offline(True)
    phone = context.new_page()
    phone.goto("/declarations/new/")
    expect(phone.get_by_role("heading", name="登记农户申报")).to_be_visible()
    expect(phone.get_by_role("status").filter(has_text="现在没有网络")).to_be_visible()
    phone.get_by_label("收到申报的渠道").select_option(label="12317 热线")
    phone.locator("#id_village").select_option(label="东山村")
    phone.get_by_label("姓名").fill("赵大山")
    id_number = valid_id()
    phone.get_by_label("身份证号").fill(id_number)
    phone.get_by_label("手机或电话").fill("13700137000")
    phone.get_by_label("家里遇到了什么困难").fill("老伴住院，医药费负担重")
    phone.get_by_label("家里有人生大病、慢性病，看病花钱多").check()
    phone.get_by_role("button", name="保存").click()
    expect(phone.get_by_role("heading", name="已保存在手机上，有网络时自动上传")).to_be_visible()
    assert not Declaration.objects.exists()
    kept = phone.evaluate("fanpinOffline.all().then(l => l[0])")
    assert kept["kind"] == "declaration" and kept["api"] == "/api/declarations/entries/"

    context.set_offline(False)
    expect(phone.get_by_text("离线申报已上传 1 条。")).to_be_visible()
    declaration = Declaration.objects.get()
    assert declaration.name == "赵大山" and declaration.id_number == id_number
    assert declaration.source == "hotline" and declaration.risk_types == ["illness"]
    assert str(declaration.client_uuid) == kept["client_uuid"]

    # Sent again (a lost answer): the same declaration answers, nothing is stored twice.
    phone.reload()
    resent = phone.evaluate("entry => fanpinOffline.save(entry).then(() => fanpinOffline.sync())", kept)
    assert resent["refused"] == [] and Declaration.objects.count() == 1
