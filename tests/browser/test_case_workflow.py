"""One monitoring case from report to county determination, in a phone browser (issue 3).

Only the pages are used: the village cadre reports the household, records the home check and
the appraisal, publishes the notice, records an objection raised during it and resolves it
(dismissed), closes the notice; the town official approves; the county officer determines.
The notice is published with a start date in the past, so its period is over without
moving the clock of the live server's thread.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.models import CaseEvent, MonitoringCase, Objection, State
from tests import factories as f
from tests.browser.conftest import login, logout

pytestmark = pytest.mark.browser


def _open_case_from_inbox(page, number):
    page.goto("/inbox/")
    page.get_by_role("link", name=re.compile(number)).first.click()
    expect(page.get_by_role("heading", name=re.compile(f"监测对象 · {number}"))).to_be_visible()


def _take_step(page, label):
    """Open the step's form from the case page's 办理 section; return the form page."""
    page.get_by_role("region", name=re.compile("^(下一步|办理)$")).get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", name=label, exact=True)).to_be_visible()


def _submit_step(page, label):
    page.get_by_role("button", name=f"确认{label}").click()
    expect(page.get_by_text(f"已完成“{label}”。")).to_be_visible()


def _fits_the_phone(page):
    # Nothing wider than the 390 px screen: no sideways scrolling to reach a field or button.
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_a_case_goes_from_report_to_county_determination_with_an_objection_on_a_phone(page, world, bad_responses):
    w = world
    number = w.household_a1.number
    head = w.household_a1.head.name
    today = timezone.localdate()
    discovered = today - datetime.timedelta(days=9)
    notice_start = today - datetime.timedelta(days=6)  # a 5-day notice: over since yesterday

    # --- village cadre: report ----------------------------------------------------------------
    login(page, "village")
    page.goto("/inbox/")
    page.get_by_role("link", name="申报监测对象").click()
    expect(page.get_by_role("heading", name="申报监测对象")).to_be_visible()
    # Find the household by its head's name (no dropdown of every household), then choose it.
    page.get_by_label("查找农户").fill(head)
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name=re.compile(f"{number} · {head}")).click()
    expect(page.locator("#chosen-title + p")).to_contain_text(number)
    page.get_by_label("发现渠道").select_option(label="干部走访排查")
    page.get_by_label("发现日期").fill(discovered.isoformat())
    page.get_by_label("申报理由").fill(f"{head}突发脑梗住院，自付医疗费用约 4 万元，家庭收入骤减。")
    assert _fits_the_phone(page)
    page.get_by_role("button", name="提交申报").click()
    expect(page.get_by_text(f"已申报监测对象：农户 {number}")).to_be_visible()
    expect(page.locator(".page-head .state")).to_have_text("已申报")

    # --- village cadre: home check and commitment, then the appraisal and the notice ----------
    _take_step(page, "开始村级评议")
    page.get_by_label("入户核实日期").fill((discovered + datetime.timedelta(days=1)).isoformat())
    # Two different people: the cadre (a user of the village) and a named colleague; the scan of
    # the signed commitment (issue 7 point 6).
    page.get_by_label("village", exact=True).check()
    page.get_by_label("其他核实人员（姓名，用顿号分隔）").fill("李秀英")
    page.get_by_label("承诺授权书签署日期").fill((discovered + datetime.timedelta(days=1)).isoformat())
    page.get_by_label(re.compile(r"^承诺授权书扫描件\*?$")).set_input_files(
        files=[{"name": "承诺授权书.pdf", "mimeType": "application/pdf", "buffer": f.pdf_bytes()}]
    )
    _submit_step(page, "开始村级评议")
    expect(page.locator(".page-head .state")).to_have_text("村级评议")

    _take_step(page, "发布公示")
    page.get_by_label("民主评议日期").fill((discovered + datetime.timedelta(days=2)).isoformat())
    page.get_by_label("参会人数").fill("15")
    page.get_by_label("评议结果").select_option(label="同意纳入")
    page.get_by_label("评议记录").fill("村民代表会议民主评议，参会代表一致同意纳入监测。")
    page.get_by_label("拟纳入类别").select_option(label="突发严重困难户")
    page.get_by_label("主要风险类型（公示的纳入原因）").select_option(label="因病")
    page.get_by_label("公示开始日期").fill(notice_start.isoformat())
    assert _fits_the_phone(page)
    _submit_step(page, "发布公示")
    expect(page.locator(".page-head .state")).to_have_text("村级公示")

    # --- an objection during the notice holds it until it is resolved -------------------------
    objections = page.get_by_role("region", name=re.compile("异议"))
    new_objection = objections.locator("form", has=page.get_by_role("heading", name="登记异议"))
    new_objection.get_by_label("异议人").fill("匿名")
    new_objection.get_by_label("提出日期").fill((notice_start + datetime.timedelta(days=1)).isoformat())
    new_objection.get_by_label("异议内容").fill("反映该户家中有小轿车一辆，收入情况与申报不符。")
    new_objection.get_by_role("button", name="登记异议").click()
    expect(page.get_by_text("已登记异议")).to_be_visible()
    held = page.get_by_role("region", name=re.compile("^(下一步|办理)$")).get_by_text(re.compile("还有 1 条异议未处理"))
    expect(held).to_be_visible()
    expect(
        page.get_by_role("region", name=re.compile("^(下一步|办理)$")).get_by_role("link", name="公示结束，报乡镇审核")
    ).to_have_count(0)

    resolve = page.locator("form", has=page.get_by_role("button", name="保存处理结果"))
    resolve.get_by_label("异议不成立").check()
    resolve.get_by_label("核实情况").fill("经入户核实，车辆为亲属借用，异议不成立。")
    assert _fits_the_phone(page)
    resolve.get_by_role("button", name="保存处理结果").click()
    expect(page.get_by_text("已处理异议：异议不成立。")).to_be_visible()
    expect(page.locator(".page-head .state")).to_have_text("村级公示")

    _take_step(page, "公示结束，报乡镇审核")
    _submit_step(page, "公示结束，报乡镇审核")
    expect(page.locator(".page-head .state")).to_have_text("乡镇审核")
    logout(page)

    # --- town official: review ----------------------------------------------------------------
    login(page, "town")
    _open_case_from_inbox(page, number)
    _take_step(page, "乡镇审核通过")
    page.get_by_label("审核意见").fill("经核查，情况属实，同意上报县级审批。")
    _submit_step(page, "乡镇审核通过")
    expect(page.locator(".page-head .state")).to_have_text("县级审批")
    logout(page)

    # --- county officer: determination --------------------------------------------------------
    login(page, "county")
    _open_case_from_inbox(page, number)
    # The determination waits for the asset cross-check's result (信息比对), recorded on the page.
    actions = page.get_by_role("region", name="下一步")
    expect(actions.get_by_text(re.compile("尚未记录信息比对结果"))).to_be_visible()
    expect(actions.get_by_role("link", name="县级认定", exact=True)).to_have_count(0)
    check = page.get_by_role("region", name=re.compile("信息比对"))
    expect(check.get_by_text("尚未收到任何比对数据。")).to_be_visible()
    check.get_by_label("未收到比对数据").check()
    check.get_by_label("说明").fill("各部门比对数据尚未报送，已电话函询公安、不动产登记部门，未发现车辆和房产。")
    assert _fits_the_phone(page)
    check.get_by_role("button", name="保存比对结果").click()
    expect(page.get_by_text("信息比对结果已记录。")).to_be_visible()
    _take_step(page, "县级认定")
    page.get_by_label("监测对象类别").select_option(label="突发严重困难户")
    page.get_by_label("主要风险类型").select_option(label="因病")
    page.get_by_label("因务工就业不稳").check()
    page.get_by_label("认定文号").fill("示乡振〔2026〕12号")
    assert _fits_the_phone(page)
    _submit_step(page, "县级认定")
    expect(page.locator(".page-head .state")).to_have_text("监测帮扶中")
    timeline = page.get_by_role("region", name="办理记录")
    for label in (
        "申报监测对象",
        "开始村级评议",
        "发布公示",
        "登记异议",
        "异议处理：异议不成立",
        "公示结束，报乡镇审核",
        "乡镇审核通过",
        "信息比对：未收到比对数据",
        "县级认定",
    ):
        expect(timeline.get_by_text(label, exact=True)).to_be_visible()
    # Approved: the assistance work comes first on the page, 自然减少 is folded away (issue 13).
    plan = page.locator("#plan-summary")
    assert plan.bounding_box()["y"] < page.locator("#actions-title").bounding_box()["y"]
    expect(page.locator(".rare-actions")).not_to_have_attribute("open", "")
    expect(page.get_by_role("link", name="自然减少…")).to_be_hidden()
    plan.get_by_role("link", name="制定帮扶计划").click()
    expect(page.get_by_role("heading", name=re.compile(f"帮扶计划.*{number}"))).to_be_visible()
    assert _fits_the_phone(page)

    # What the pages did is what the records say, every step by the role that took it.
    case = MonitoringCase.objects.get(household=w.household_a1)
    assert case.state == State.MONITORED
    assert (case.category, case.primary_risk, case.secondary_risks) == ("sudden", "illness", ["employment"])
    assert case.determined_on == today and case.document_number == "示乡振〔2026〕12号"
    assert case.notice_start == notice_start and case.notice_end < today
    [objection] = Objection.objects.filter(case=case)
    assert objection.status == Objection.Status.DISMISSED and objection.resolved_by == w.village_cadre
    steps = [(e.action, e.from_state, e.to_state, e.actor.username) for e in CaseEvent.objects.filter(case=case)]
    assert steps == [
        ("report", "", "reported", "village"),
        ("start_appraisal", "reported", "village_appraisal", "village"),
        ("publish_notice", "village_appraisal", "public_notice", "village"),
        ("objection_recorded", "public_notice", "public_notice", "village"),
        ("objection_resolved", "public_notice", "public_notice", "village"),
        ("close_notice", "public_notice", "town_review", "village"),
        ("town_approve", "town_review", "county_review", "town"),
        ("asset_comparison", "county_review", "county_review", "county"),
        ("county_approve", "county_review", "monitored", "county"),
    ]
    assert bad_responses == []
