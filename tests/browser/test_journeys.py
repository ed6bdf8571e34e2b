"""Journeys end to end (issue 14): the whole life of a case, each step by the user whose work it
is, through the real pages only, on a phone-sized Chromium.

The world of tests/conftest.py (county, towns, villages, users, a few households) and the
monitoring lines and last year's income are the only data made outside the pages. A journey
fails on any console error (a CSP violation included), any page error and any answer of 400 or
more; a screenshot of every stage is kept in test-artifacts/journeys/ (the README says where).
"""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from assistance.catalogue import install_default_catalogue
from households.models import Household, Member
from monitoring.models import CaseEvent, MonitoringCase, MonitoringLine, Objection, State
from screening.models import RiskWarning, RuralIncome
from tests import factories as f
from tests.browser.conftest import ARTIFACTS, login, logout
from tests.monitoring.cases import CST, add_users
from tests.screening.helpers import csv_bytes, medical_row

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "journeys"


class Journey:
    """The page, what went wrong on it, and a numbered screenshot per stage."""

    def __init__(self, page, bad_responses):
        self.page = page
        self.bad_responses = bad_responses
        self.errors = []
        self.stage = 0
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text} ({page.url})"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e} ({page.url})"))
        SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name):
        self.stage += 1
        self.page.screenshot(path=str(SHOTS / f"{self.stage:02d}-{name}.png"), full_page=True)
        self.clean()

    def clean(self):
        assert self.errors == [] and self.bad_responses == [], self.errors + self.bad_responses

    def as_user(self, username):
        if self.page.get_by_role("button", name="退出登录").count():
            logout(self.page)
        login(self.page, username)

    def fits_the_phone(self):
        assert self.page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    # --- the case page's steps ------------------------------------------------------------------

    def open_case_from_inbox(self, number):
        self.page.goto("/inbox/")
        self.page.get_by_role("link", name=re.compile(number)).first.click()
        expect(self.page.get_by_role("heading", name=re.compile(f"监测对象 · {number}"))).to_be_visible()

    def take_step(self, label):
        self.page.get_by_role("region", name=re.compile("^(下一步|办理)$")).get_by_role(
            "link", name=label, exact=True
        ).click()
        expect(self.page.get_by_role("heading", name=label, exact=True)).to_be_visible()

    def submit_step(self, label):
        self.page.get_by_role("button", name=f"确认{label}").click()
        expect(self.page.get_by_text(f"已完成“{label}”。")).to_be_visible()

    def state_is(self, label):
        expect(self.page.locator(".page-head .state")).to_have_text(label)


def _section(page, heading):
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


@pytest.fixture
def journey(page, world, bad_responses):
    install_default_catalogue()  # transactional tests start from a flushed database
    add_users(world)  # the contact person (帮扶联系人) among them
    RuralIncome.objects.create(county=world.county, year=2025, amount=Decimal("20500"))
    this_year = timezone.localdate().year
    for year in range(this_year - 1, this_year + 3):
        MonitoringLine.objects.create(county=world.county, year=year, amount=Decimal("8000"))
    Household.objects.filter(pk=world.household_a1.pk).update(household_type=Household.Type.FORMERLY_POOR)
    return Journey(page, bad_responses)


def test_a_household_from_registration_on_a_phone_to_a_determined_case_with_measures_and_a_warning(journey, world):
    j, page, w = journey, journey.page, world
    today = timezone.localdate()
    discovered = today - datetime.timedelta(days=9)
    notice_start = today - datetime.timedelta(days=6)  # a 5-day notice: over since yesterday
    head_id = f.valid_id(datetime.date(1978, 4, 2), "M")
    spouse_id = f.valid_id(datetime.date(1980, 11, 23), "F")
    number = "DS-2026-088"

    # --- village cadre, on the phone: registers the household and its members ---------------
    j.as_user("village")
    page.goto("/households/")
    page.get_by_role("link", name="登记新农户").click()
    household = _section(page, "农户信息")
    household.get_by_label("户编号").fill(number)
    household.get_by_label("住址").fill("东山村三组 12 号")
    household.get_by_label("联系电话").fill("13912345678")
    head = _section(page, "户主")
    head.get_by_label("姓名").fill("赵建国")
    head.get_by_label("身份证号").fill(head_id)
    j.fits_the_phone()
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text(f"已登记农户 {number}")).to_be_visible()
    household_url = page.url
    page.get_by_role("link", name="添加成员").click()
    page.get_by_label("姓名").fill("钱秀英")
    page.get_by_label("身份证号").fill(spouse_id)
    page.get_by_label("与户主关系").select_option(label="配偶")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已添加成员 钱秀英")).to_be_visible()
    j.shot("village-registers-household")

    # --- records a visit --------------------------------------------------------------------
    page.goto(household_url)
    page.get_by_role("region", name="监测与走访").get_by_role("link", name="走访", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("记录走访"))).to_be_visible()
    page.get_by_label("走访情况").fill("户主突发脑梗住院，家中收入骤减。")
    j.fits_the_phone()
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_text(re.compile("已保存 .* 的走访记录"))).to_be_visible()
    j.shot("village-records-visit")

    # --- reports a case, with the contact person who will follow it -------------------------
    page.goto(household_url)
    page.get_by_role("region", name="监测与走访").get_by_role("link", name="申报监测对象").click()
    expect(page.get_by_role("heading", name="申报监测对象")).to_be_visible()
    # Opened from the household page, the report names its household (no picker to go through).
    expect(page.locator("#chosen-title + p")).to_contain_text(number)
    page.get_by_label("发现渠道").select_option(label="干部走访排查")
    page.get_by_label("发现日期").fill(discovered.isoformat())
    page.get_by_label("申报理由").fill("赵建国突发脑梗住院，自付医疗费用约 4 万元，家庭收入骤减。")
    page.get_by_label("帮扶联系人").select_option(label="contact")
    j.fits_the_phone()
    page.get_by_role("button", name="提交申报").click()
    expect(page.get_by_text(f"已申报监测对象：农户 {number}")).to_be_visible()
    j.state_is("已申报")
    j.shot("village-reports-case")

    # --- village appraisal, the notice, and an objection raised during it -------------------
    j.take_step("开始村级评议")
    page.get_by_label("入户核实日期").fill((discovered + datetime.timedelta(days=1)).isoformat())
    page.get_by_label("village", exact=True).check()
    page.get_by_label("其他核实人员（姓名，用顿号分隔）").fill("李秀英")
    page.get_by_label("承诺授权书签署日期").fill((discovered + datetime.timedelta(days=1)).isoformat())
    page.get_by_label(re.compile(r"^承诺授权书扫描件\*?$")).set_input_files(
        files=[{"name": "承诺授权书.pdf", "mimeType": "application/pdf", "buffer": f.pdf_bytes()}]
    )
    j.submit_step("开始村级评议")
    j.take_step("发布公示")
    page.get_by_label("民主评议日期").fill((discovered + datetime.timedelta(days=2)).isoformat())
    page.get_by_label("参会人数").fill("15")
    page.get_by_label("评议结果").select_option(label="同意纳入")
    page.get_by_label("评议记录").fill("村民代表会议民主评议，参会代表一致同意纳入监测。")
    page.get_by_label("拟纳入类别").select_option(label="突发严重困难户")
    page.get_by_label("主要风险类型（公示的纳入原因）").select_option(label="因病")
    page.get_by_label("公示开始日期").fill(notice_start.isoformat())
    j.submit_step("发布公示")
    j.state_is("村级公示")
    j.shot("village-publishes-notice")

    objections = page.get_by_role("region", name=re.compile("异议"))
    new_objection = objections.locator("form", has=page.get_by_role("heading", name="登记异议"))
    new_objection.get_by_label("异议人").fill("匿名")
    new_objection.get_by_label("提出日期").fill((notice_start + datetime.timedelta(days=1)).isoformat())
    new_objection.get_by_label("异议内容").fill("反映该户家中有小轿车一辆，收入情况与申报不符。")
    new_objection.get_by_role("button", name="登记异议").click()
    expect(page.get_by_text("已登记异议")).to_be_visible()
    resolve = page.locator("form", has=page.get_by_role("button", name="保存处理结果"))
    resolve.get_by_label("异议不成立").check()
    resolve.get_by_label("核实情况").fill("经入户核实，车辆为亲属借用，异议不成立。")
    resolve.get_by_role("button", name="保存处理结果").click()
    expect(page.get_by_text("已处理异议：异议不成立。")).to_be_visible()
    j.shot("village-resolves-objection")
    j.take_step("公示结束，报乡镇审核")
    j.submit_step("公示结束，报乡镇审核")
    j.state_is("乡镇审核")

    # --- town review ------------------------------------------------------------------------
    j.as_user("town")
    j.open_case_from_inbox(number)
    j.take_step("乡镇审核通过")
    page.get_by_label("审核意见").fill("经核查，情况属实，同意上报县级审批。")
    j.submit_step("乡镇审核通过")
    j.state_is("县级审批")
    j.shot("town-approves")

    # --- county approval --------------------------------------------------------------------
    j.as_user("county")
    j.open_case_from_inbox(number)
    # The asset cross-check's result first (信息比对): no lists received yet in this county.
    check = page.get_by_role("region", name=re.compile("信息比对"))
    check.get_by_label("未收到比对数据").check()
    check.get_by_label("说明").fill("比对数据尚未报送，已函询公安、不动产登记部门，未发现车辆和房产。")
    check.get_by_role("button", name="保存比对结果").click()
    expect(page.get_by_text("信息比对结果已记录。")).to_be_visible()
    j.take_step("县级认定")
    page.get_by_label("监测对象类别").select_option(label="突发严重困难户")
    page.get_by_label("主要风险类型").select_option(label="因病")
    page.get_by_label("认定文号").fill("示乡振〔2026〕12号")
    j.submit_step("县级认定")
    j.state_is("监测帮扶中")
    j.shot("county-determines")

    # --- the contact person plans the measures ----------------------------------------------
    j.as_user("contact")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的帮扶").click()
    card = page.locator("#my-cases li.item").filter(has_text=number)
    card.get_by_role("link", name="帮扶计划", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("帮扶计划（一户一策）"))).to_be_visible()
    page.locator("#suggestions").get_by_role("button").first.click()
    expect(page.get_by_text(re.compile("已添加帮扶措施："))).to_be_visible()
    page.get_by_label("进展情况").fill("已落实，每月按时发放。")
    page.get_by_role("button", name="记录并标为实施中").click()
    expect(page.get_by_text("已记录进展。")).to_be_visible()
    expect(page.locator("#measure-status")).to_have_text("实施中")
    measure_url = page.url
    j.shot("contact-adds-measure")

    # --- a department officer uploads a screening file and watches it processed -------------
    j.as_user("medical")
    page.goto("/screening/")
    warned = w.household_a1.members.order_by("pk").first()
    data = csv_bytes([medical_row(warned, paid="12000", total="30000", reimbursed="18000")])
    page.get_by_label("数据月份").fill("2026-01")
    page.get_by_label("部门数据文件").set_input_files({"name": "医保1月.csv", "mimeType": "text/csv", "buffer": data})
    page.get_by_role("button", name="上传并比对").click()
    expect(page.locator("#upload-summary")).to_contain_text("比对上登记册")
    expect(page.locator("#upload-outcomes")).to_contain_text("生成预警")
    j.shot("department-upload-done")

    # --- the village cadre verifies the warning into a case ---------------------------------
    j.as_user("village")
    more = page.locator(".nav-more summary")
    more.click()
    page.locator(".nav-more-list a[data-count-url]").click()
    page.get_by_role("link", name=re.compile(w.household_a1.number)).click()
    page.get_by_role("button", name="核实纳入").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    j.state_is("已申报")
    j.shot("village-includes-warning")

    # What the pages did is what the records say, each step by the user whose work it is.
    case = MonitoringCase.objects.get(household__number=number)
    assert Member.objects.filter(household=case.household).count() == 2
    assert case.household.visits.count() == 1
    assert case.state == State.MONITORED and case.contact_person == w.contact
    assert Objection.objects.get(case=case).status == Objection.Status.DISMISSED
    actors = [(e.action, e.actor.username) for e in CaseEvent.objects.filter(case=case).order_by("pk")]
    assert actors[:9] == [
        ("visit", "village"),  # reported from the visit (据此申报): the case starts from it
        ("start_appraisal", "village"),
        ("publish_notice", "village"),
        ("objection_recorded", "village"),
        ("objection_resolved", "village"),
        ("close_notice", "village"),
        ("town_approve", "town"),
        ("asset_comparison", "county"),
        ("county_approve", "county"),
    ]
    assert [actor for action, actor in actors[9:]] == ["contact", "contact"]  # the measure and its progress
    warning = RiskWarning.objects.get(household=w.household_a1)
    assert warning.state == "included" and warning.case.channel == "department_warning"

    # --- seven months later: the measure is done, the income is stable; elimination ----------
    # The whole process's clock moves (time_machine), the live server's thread with it; the
    # sessions of seven months ago have expired, so each user signs in again.
    later = today + datetime.timedelta(days=215)
    appraisal_on = later - datetime.timedelta(days=7)  # six months after the determination
    with time_machine.travel(datetime.datetime.combine(later, datetime.time(10), CST), tick=True):
        j.as_user("contact")
        page.goto(measure_url)
        page.get_by_label("进展情况").fill("帮扶措施已全部落实，户主已康复返岗。")
        page.get_by_role("button", name="记录并标为已完成").click()
        expect(page.locator("#measure-status")).to_have_text("已完成")
        j.shot("contact-completes-measure")

        j.as_user("village")
        for year in (later.year - 1, later.year):
            page.goto(household_url)
            page.get_by_role("link", name="录入收入").click()
            page.get_by_label("年度").fill(str(year))
            page.get_by_label("工资性收入（元）").fill("60000")
            page.get_by_role("button", name="保存", exact=True).click()
            page.wait_for_url(household_url)
        j.shot("village-enters-income")

        j.open_case_from_inbox(number)
        j.take_step("提出风险消除")
        page.get_by_label("消除评议日期").fill(appraisal_on.isoformat())
        j.submit_step("提出风险消除")
        j.take_step("发布风险消除公示")
        page.get_by_label("公示开始日期").fill((appraisal_on + datetime.timedelta(days=1)).isoformat())
        j.submit_step("发布风险消除公示")
        j.take_step("公示结束，报乡镇验收")
        j.submit_step("公示结束，报乡镇验收")
        j.shot("village-closes-elimination-notice")

        j.as_user("town")
        j.open_case_from_inbox(number)
        j.take_step("乡镇验收通过")
        page.get_by_label("审核意见").fill("经入户验收，收入稳定，两不愁三保障均有保障。")
        j.submit_step("乡镇验收通过")
        j.shot("town-accepts-elimination")

        j.as_user("county")
        j.open_case_from_inbox(number)
        j.take_step("县级审定风险消除")
        page.get_by_label("风险消除方式").select_option(label="帮扶后稳定消除")
        j.submit_step("县级审定风险消除")
        j.state_is("风险已消除")
        j.shot("county-approves-elimination")

    case.refresh_from_db()
    assert case.state == State.ELIMINATED and case.elimination_reason == "stable"
    ended = [(e.action, e.actor.username) for e in CaseEvent.objects.filter(case=case).order_by("pk")][-5:]
    assert ended == [
        ("propose_elimination", "village"),
        ("publish_elimination_notice", "village"),
        ("close_elimination_notice", "village"),
        ("town_accept_elimination", "town"),
        ("county_approve_elimination", "county"),
    ]
    j.clean()
