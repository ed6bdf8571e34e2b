"""Monitoring pages: inbox, case list and detail, step forms, objections, new case, visits and
the printable notice list (issue 3 item 7, item 6's visit pages)."""

import datetime
import pathlib
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from households import idnumber
from households.models import Member
from monitoring import services
from monitoring.models import CaseEvent, MonitoringCase, Objection, State, Visit
from tests import factories as f
from tests.monitoring.cases import (
    CST,
    HOME_CHECK,
    T_REPORT,
    T_REVIEW,
    add_users,
    case_at,
    commitment_scan,
    report,
)

pytestmark = pytest.mark.django_db

# During the notice (2-6 March 2026) and after it.
T_NOTICE = datetime.datetime(2026, 3, 4, 10, tzinfo=CST)


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def detail_url(case):
    return reverse("monitoring:case-detail", args=[case.pk])


def action_url(case, name):
    return reverse("monitoring:case-action", args=[case.pk, name])


def text(response):
    return response.content.decode()


def head_of(household):
    return household.members.get(relation=Member.Relation.HEAD)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- inbox ------------------------------------------------------------------------------------


def test_home_opens_the_inbox(login, world):
    client = login(world.village_cadre)
    assert client.get(reverse("home")).url == reverse("monitoring:inbox")
    page = text(client.get(reverse("monitoring:inbox")))
    assert "我的待办" in page and 'href="/cases/"' in page


def test_inbox_lists_the_cases_waiting_for_the_user_with_the_step_and_days_left(login, world):
    w = world
    case = report(w)
    head = head_of(w.household_a1)
    with time_machine.travel(T_REPORT, tick=False):
        page = text(login(w.village_cadre).get(reverse("monitoring:inbox")))
    assert w.household_a1.number in page and head.name in page and "东山村" in page
    assert "已申报" in page and "开始村级评议" in page
    assert "剩 14 天" in page  # discovered 1 March, 15-day limit, today 2 March
    assert detail_url(case) in page


def test_inbox_of_the_town_official_holds_only_cases_at_the_town_step(login, world):
    w = world
    reported = report(w)
    at_town = case_at(w, State.TOWN_REVIEW, household=f.make_household(w.village_a1))
    with time_machine.travel(T_REVIEW, tick=False):
        page = text(login(w.town_official).get(reverse("monitoring:inbox")))
    assert detail_url(at_town) in page and "乡镇审核通过" in page
    assert detail_url(reported) not in page


def test_inbox_shows_overdue_cases_in_red(login, world):
    w = world
    report(w)
    with time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=CST), tick=False):
        page = text(login(w.village_cadre).get(reverse("monitoring:inbox")))
    assert "已超期 4 天" in page and "badge-bad" in page


def test_inbox_lists_monitored_households_with_an_overdue_visit(login, world):
    w = world
    case = case_at(w, State.MONITORED)
    with time_machine.travel(datetime.datetime(2026, 5, 1, 10, tzinfo=CST), tick=False):
        page = text(login(w.village_cadre).get(reverse("monitoring:inbox")))
        assert "认定后未走访" in page
        assert reverse("monitoring:visit-create", args=[case.household_id]) in page
        services.visit_create(
            user=w.village_cadre, household=w.household_a1, visited_on=datetime.date(2026, 5, 1), visitors="张三、李四"
        )
        page = text(login(w.village_cadre).get(reverse("monitoring:inbox")))
    assert "认定后未走访" not in page and "没有走访超期的监测户" in page


# --- case list --------------------------------------------------------------------------------


def test_case_list_shows_only_cases_in_scope(login, world):
    w = world
    mine = report(w)
    page = text(login(w.village_cadre_b).get(reverse("monitoring:case-list")))
    assert detail_url(mine) not in page and "共 <strong>0</strong> 个监测对象" in page
    page = text(login(w.town_official).get(reverse("monitoring:case-list")))
    assert detail_url(mine) in page


def test_case_list_filters_by_state_and_overdue(login, world):
    w = world
    reported = report(w)
    monitored = case_at(w, State.MONITORED, household=f.make_household(w.village_a1))
    client = login(w.county_officer)
    with time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=CST), tick=False):
        page = text(client.get(reverse("monitoring:case-list"), {"state": "monitored"}))
        assert detail_url(monitored) in page and detail_url(reported) not in page
        page = text(client.get(reverse("monitoring:case-list"), {"overdue": "true"}))
        assert detail_url(reported) in page and detail_url(monitored) not in page
        page = text(client.get(reverse("monitoring:case-list"), {"stage": "ended"}))
    assert "没有符合条件的监测对象" in page


def test_case_list_filters_by_category_risk_and_area(login, world):
    w = world
    reported = report(w)
    monitored = case_at(w, State.MONITORED, household=f.make_household(w.village_a1))  # sudden, illness + disability
    client = login(w.county_officer)
    page = text(client.get(reverse("monitoring:case-list"), {"category": "sudden"}))
    assert detail_url(monitored) in page and detail_url(reported) not in page
    page = text(client.get(reverse("monitoring:case-list"), {"risk": "disability"}))
    assert detail_url(monitored) in page and detail_url(reported) not in page
    page = text(client.get(reverse("monitoring:case-list"), {"village": w.village_a1.pk}))
    assert detail_url(monitored) in page and detail_url(reported) in page
    page = text(client.get(reverse("monitoring:case-list"), {"town": w.town_b.pk}))
    assert detail_url(monitored) not in page and detail_url(reported) not in page


def test_case_list_overdue_filter_offers_all_instead_of_unknown(login, world):
    page = text(login(world.county_officer).get(reverse("monitoring:case-list"), {"overdue": "unknown"}))
    overdue_select = page[page.index('name="overdue"') :].split("</select>")[0]
    assert ">全部</option>" in overdue_select and "未知" not in overdue_select
    # "全部" is no filter: the page does not claim that nothing matches the conditions.
    assert "没有符合条件的监测对象" not in page and "您的工作范围内还没有监测对象" in page


def test_case_list_paginates(login, world):
    w = world
    for _ in range(21):
        report(w, household=f.make_household(w.village_a1))
    client = login(w.village_cadre)
    assert "第 1 / 2 页" in text(client.get(reverse("monitoring:case-list")))
    assert text(client.get(reverse("monitoring:case-list"), {"page": 2})).count('<td><a href="/cases/') == 1


# --- case detail ------------------------------------------------------------------------------


def test_case_detail_shows_household_with_masked_id_dates_and_timeline(login, world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    head = head_of(w.household_a1)
    with time_machine.travel(T_NOTICE, tick=False):
        page = text(login(w.town_official).get(detail_url(case)))
    assert idnumber.mask(head.id_number) in page and head.id_number not in page
    assert w.household_a1.phone not in page
    assert reverse("households:detail", args=[w.household_a1.pk]) in page
    assert "2026-03-02 至 2026-03-06" in page and "2026-03-16" in page  # notice, deadline
    for label in ("申报监测对象", "开始村级评议", "发布公示"):
        assert label in page
    assert "张三、李四" in page  # the home checkers


def test_case_detail_is_404_outside_scope(login, world):
    w = world
    case = report(w)
    assert login(w.village_cadre_b).get(detail_url(case)).status_code == 404
    add_users(w)
    assert login(w.other_county_officer).get(detail_url(case)).status_code == 404
    assert login(w.nobody).get(detail_url(case)).status_code == 404


def test_action_buttons_differ_by_role(login, world):
    w = world
    case = report(w)
    page = text(login(w.village_cadre).get(detail_url(case)))
    assert f'href="{action_url(case, "start_appraisal")}">开始村级评议</a>' in page
    assert action_url(case, "withdraw") in page and action_url(case, "reject") in page
    page = text(login(w.town_official).get(detail_url(case)))
    assert action_url(case, "start_appraisal") not in page and ">开始村级评议</a>" not in page
    assert "当前没有需要您办理的操作" in page


def test_the_way_forward_is_the_first_button_and_reject_comes_after_it(login, world):
    w = world
    case = report(w)
    page = text(login(w.village_cadre).get(detail_url(case)))
    forward = page.index(f'href="{action_url(case, "start_appraisal")}"')
    assert forward < page.index(f'href="{action_url(case, "reject")}"')
    assert forward < page.index(f'href="{action_url(case, "withdraw")}"')


def test_an_action_not_yet_possible_is_shown_greyed_with_its_reason(login, world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    with time_machine.travel(T_NOTICE, tick=False):
        page = text(login(w.village_cadre).get(detail_url(case)))
    assert "公示结束，报乡镇审核（暂不可办理）" in page and "公示期未满" in page
    assert action_url(case, "close_notice") not in page


def test_elimination_criteria_are_shown_on_a_monitored_case(login, world):
    w = world
    case = case_at(w, State.MONITORED)
    with time_machine.travel(T_REVIEW, tick=False):
        page = text(login(w.village_cadre).get(detail_url(case)))
    assert "风险消除条件" in page and "认定满 6 个月" in page and "未满足" in page
    assert "风险消除条件未全部满足" in page  # why 提出风险消除 is greyed


# --- step forms -------------------------------------------------------------------------------


def test_a_step_through_the_page_moves_the_state_and_writes_the_audit_row(login, world):
    w = world
    case = report(w)
    client = login(w.village_cadre)
    with time_machine.travel(T_REPORT, tick=False):
        form_page = client.get(action_url(case, "start_appraisal"))
        assert form_page.status_code == 200 and 'enctype="multipart/form-data"' in text(form_page)
        response = client.post(
            action_url(case, "start_appraisal"), {**HOME_CHECK, "commitment_scan": commitment_scan()}, follow=True
        )
    case.refresh_from_db()
    assert case.state == State.VILLAGE_APPRAISAL
    assert response.redirect_chain[-1][0] == detail_url(case)
    assert "已完成“开始村级评议”。" in messages_of(response)
    event = CaseEvent.objects.get(case=case, action="start_appraisal")
    assert event.actor == w.village_cadre and event.from_state == State.REPORTED
    assert event.to_state == State.VILLAGE_APPRAISAL


def test_a_double_submit_shows_the_conflict_message_and_acts_once(login, world):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    client = login(w.county_officer)
    data = {"category": "sudden", "primary_risk": "illness", "document_number": "示乡振〔2026〕9号"}
    with time_machine.travel(T_REVIEW, tick=False):
        client.post(action_url(case, "county_approve"), data)
        response = client.post(action_url(case, "county_approve"), data, follow=True)
    assert response.redirect_chain[-1][0] == detail_url(case)
    assert "当前状态为“监测帮扶中”，不能执行“县级认定”。可能已被他人处理，请刷新页面。" in messages_of(response)
    assert CaseEvent.objects.filter(case=case, action="county_approve").count() == 1


def test_an_invalid_step_form_shows_the_errors_and_keeps_the_state(login, world):
    w = world
    case = case_at(w, State.VILLAGE_APPRAISAL)
    client = login(w.village_cadre)
    with time_machine.travel(T_REPORT, tick=False):
        response = client.post(action_url(case, "publish_notice"), {"appraisal_result": "approved"})
        assert response.status_code == 200 and "该字段是必填项。" in text(response)
        response = client.post(action_url(case, "reject"), {"comment": ""})
    assert response.status_code == 200 and "请填写原因。" in text(response)
    case.refresh_from_db()
    assert case.state == State.VILLAGE_APPRAISAL


def test_a_step_form_missing_what_its_condition_needs_keeps_the_typing_and_says_what_is_missing(login, world):
    w = world
    case = report(w)
    client = login(w.village_cadre)
    partial = {**HOME_CHECK, "commitment_signed_on": "", "home_check_note": "两人入户，情况属实"}
    with time_machine.travel(T_REPORT, tick=False):
        response = client.post(action_url(case, "start_appraisal"), partial)
    page = text(response)
    assert response.status_code == 200 and "尚未记录农户签署的承诺授权书" in page
    assert 'value="张三、李四"' in page and "两人入户，情况属实" in page
    case.refresh_from_db()
    assert case.state == State.REPORTED and not CaseEvent.objects.filter(case=case, action="start_appraisal").exists()


def test_a_step_the_role_may_not_take_is_a_403_page(login, world):
    w = world
    case = report(w)
    response = login(w.town_official).get(action_url(case, "start_appraisal"))
    assert response.status_code == 403 and "您的角色不能在“已申报”阶段执行“开始村级评议”" in text(response)
    response = login(w.town_official).post(action_url(case, "start_appraisal"), HOME_CHECK)
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.state == State.REPORTED


def test_step_pages_are_404_outside_scope_or_for_an_unknown_step(login, world):
    w = world
    case = report(w)
    assert login(w.village_cadre_b).get(action_url(case, "start_appraisal")).status_code == 404
    assert login(w.village_cadre_b).post(action_url(case, "start_appraisal"), HOME_CHECK).status_code == 404
    assert login(w.village_cadre).get(action_url(case, "return_for_recheck")).status_code == 404
    assert login(w.village_cadre).get(action_url(case, "delete")).status_code == 404


def test_opening_a_step_of_another_state_redirects_with_the_reason(login, world):
    w = world
    case = report(w)
    response = login(w.village_cadre).get(action_url(case, "close_notice"), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(case)
    assert "当前状态为“已申报”，不能执行“公示结束，报乡镇审核”。可能已被他人处理，请刷新页面。" in messages_of(response)


# --- objections -------------------------------------------------------------------------------


def test_objection_recorded_during_the_notice_and_upheld_sends_the_case_back(login, world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    client = login(w.village_cadre)
    with time_machine.travel(T_NOTICE, tick=False):
        response = client.post(
            reverse("monitoring:objection-create", args=[case.pk]),
            {"raised_by": "匿名", "raised_on": "2026-03-03", "content": "该户有经营性货车"},
            follow=True,
        )
        assert "已登记异议。异议处理完毕前不能结束公示。" in messages_of(response)
        objection = Objection.objects.get(case=case)
        page = text(response)
        assert "该户有经营性货车" in page and "待处理" in page
        assert reverse("monitoring:objection-resolve", args=[case.pk, objection.pk]) in page
    with time_machine.travel(T_REVIEW, tick=False):
        page = text(client.get(detail_url(case)))
        assert "还有 1 条异议未处理" in page
        response = client.post(
            reverse("monitoring:objection-resolve", args=[case.pk, objection.pk]),
            {f"objection-{objection.pk}-upheld": "1", f"objection-{objection.pk}-resolution": "核实有货车"},
            follow=True,
        )
    assert "已处理异议：异议成立，已退回重新核实。" in messages_of(response)
    case.refresh_from_db()
    objection.refresh_from_db()
    assert case.state == State.VILLAGE_APPRAISAL and objection.status == Objection.Status.UPHELD


def test_an_invalid_objection_form_is_shown_with_errors(login, world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    with time_machine.travel(T_NOTICE, tick=False):
        response = login(w.village_cadre).post(
            reverse("monitoring:objection-create", args=[case.pk]),
            {"raised_by": "匿名", "raised_on": "2026-03-03", "content": ""},
        )
    assert response.status_code == 200 and "该字段是必填项。" in text(response)
    assert not Objection.objects.exists()


def test_objection_pages_are_404_outside_scope(login, world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    response = login(w.village_cadre_b).post(
        reverse("monitoring:objection-create", args=[case.pk]),
        {"raised_by": "匿名", "raised_on": "2026-03-03", "content": "有异议"},
    )
    assert response.status_code == 404 and not Objection.objects.exists()


# --- new case ---------------------------------------------------------------------------------


def case_post(household, **extra):
    data = {
        "household": household.pk,
        "channel": "self_declared",
        "discovered_on": "2026-03-01",
        "reason": "户主因病住院，自付医疗费用高",
        "primary_risk": "illness",
        "category": "",
        "risk_note": "",
        "contact_person": "",
    }
    data.update(extra)
    return data


def test_new_case_page_preselects_the_household_and_reports_it(login, world):
    w = world
    client = login(w.village_cadre)
    url = reverse("monitoring:case-create")
    with time_machine.travel(T_REPORT, tick=False):
        page = text(client.get(url, {"household": w.household_a1.pk}))
        assert f'<input type="hidden" name="household" value="{w.household_a1.pk}"' in page
        assert w.household_a1.number in page
        response = client.post(url, case_post(w.household_a1), follow=True)
    case = MonitoringCase.objects.get(household=w.household_a1)
    assert response.redirect_chain[-1][0] == detail_url(case)
    assert case.state == State.REPORTED and case.reported_by == w.village_cadre
    assert CaseEvent.objects.filter(case=case, to_state=State.REPORTED).exists()


def test_new_case_page_refuses_invalid_input_and_a_second_open_case(login, world):
    w = world
    report(w)
    client = login(w.village_cadre)
    with time_machine.travel(T_REPORT, tick=False):
        response = client.post(reverse("monitoring:case-create"), case_post(w.household_a1, reason=""))
        assert response.status_code == 200 and "该字段是必填项。" in text(response)
        response = client.post(reverse("monitoring:case-create"), case_post(w.household_a1))
    assert response.status_code == 200 and "该户已有进行中的监测对象记录，不能重复申报。" in text(response)
    assert MonitoringCase.objects.count() == 1


def test_new_case_page_is_404_outside_scope_and_403_for_other_roles(login, world):
    w = world
    url = reverse("monitoring:case-create")
    assert login(w.village_cadre).get(url, {"household": w.household_b1.pk}).status_code == 404
    assert login(w.town_official).get(url, {"household": w.household_a1.pk}).status_code == 403
    assert login(w.county_officer).get(url).status_code == 403


# --- visits -----------------------------------------------------------------------------------


def visit_post(**extra):
    data = {
        "visited_on": "2026-03-02",
        "visitors": "张三、李四",
        "food_secure": "on",
        "clothing_secure": "on",
        "education_secure": "on",
        "medical_secure": "on",
        "housing_secure": "on",
        "water_secure": "on",
        "findings": "",
        "income_change": "",
        "next_step": "",
        "latitude": "",
        "longitude": "",
        "client_uuid": str(uuid.uuid4()),
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_visit_form_starts_from_the_households_last_known_state(login, world):
    w = world
    w.household_a1.water_secure = False
    w.household_a1.save()
    page = text(login(w.village_cadre).get(reverse("monitoring:visit-create", args=[w.household_a1.pk])))
    assert 'name="water_secure" id="id_water_secure"' in page
    assert 'name="food_secure" id="id_food_secure" checked' in page
    assert 'name="water_secure" id="id_water_secure" checked' not in page
    assert "记录位置" in page and 'name="client_uuid"' in page and "js/visit.js" in page


def test_recording_a_visit_updates_the_household_and_a_double_submit_saves_once(login, world):
    w = world
    client = login(w.village_cadre)
    url = reverse("monitoring:visit-create", args=[w.household_a1.pk])
    data = visit_post(housing_secure=None, findings="房屋漏雨")
    with time_machine.travel(T_REPORT, tick=False):
        response = client.post(url, data, follow=True)
        assert response.redirect_chain[-1][0].startswith(
            reverse("monitoring:visit-list", args=[w.household_a1.pk]) + "?saved="
        )
        client.post(url, data)
        page = text(client.get(reverse("monitoring:visit-list", args=[w.household_a1.pk])))
    assert Visit.objects.filter(household=w.household_a1).count() == 1
    w.household_a1.refresh_from_db()
    assert w.household_a1.housing_secure is False
    assert "房屋漏雨" in page and "住房安全有问题" in page


def test_a_visit_may_open_a_case_carrying_its_findings_over(login, world):
    w = world
    client = login(w.village_cadre)
    with time_machine.travel(T_REPORT, tick=False):
        response = client.post(
            reverse("monitoring:visit-create", args=[w.household_a1.pk]),
            visit_post(findings="户主务工受伤", new_risks=["accident"], open_case="on"),
            follow=True,
        )
    case = MonitoringCase.objects.get(household=w.household_a1)
    assert response.redirect_chain[-1][0] == detail_url(case)
    assert case.channel == "cadre_visit" and case.primary_risk == "accident" and case.reason == "户主务工受伤"


def test_an_invalid_visit_is_shown_with_errors(login, world):
    w = world
    with time_machine.travel(T_REPORT, tick=False):
        response = login(w.village_cadre).post(
            reverse("monitoring:visit-create", args=[w.household_a1.pk]), visit_post(visited_on="2026-03-09")
        )
    assert response.status_code == 200 and "走访日期不能晚于今天。" in text(response)
    assert not Visit.objects.exists()


def test_visit_pages_are_404_outside_scope_and_403_for_roles_that_do_not_visit(login, world):
    w = world
    assert login(w.village_cadre).get(reverse("monitoring:visit-create", args=[w.household_b1.pk])).status_code == 404
    assert login(w.village_cadre).get(reverse("monitoring:visit-list", args=[w.household_b1.pk])).status_code == 404
    assert login(w.county_officer).get(reverse("monitoring:visit-create", args=[w.household_a1.pk])).status_code == 403


def test_household_page_lists_its_cases_and_offers_visit_and_report(login, world):
    w = world
    client = login(w.village_cadre)
    page = text(client.get(reverse("households:detail", args=[w.household_a1.pk])))
    assert reverse("monitoring:visit-create", args=[w.household_a1.pk]) in page
    assert f"{reverse('monitoring:case-create')}?household={w.household_a1.pk}" in page
    case = report(w)
    page = text(client.get(reverse("households:detail", args=[w.household_a1.pk])))
    assert detail_url(case) in page and "?household=" not in page  # one open case at a time
    page = text(login(w.town_official).get(reverse("households:detail", args=[w.household_a1.pk])))
    assert "?household=" not in page  # towns verify, villages report


# --- public notice list ----------------------------------------------------------------------


def test_notice_list_shows_the_notice_without_id_number_or_phone(login, world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    head = head_of(w.household_a1)
    head.phone = "13912345678"
    head.save()
    with time_machine.travel(T_NOTICE, tick=False):
        response = login(w.village_cadre).get(reverse("monitoring:notice-list", args=[w.village_a1.pk]))
    page = text(response)
    assert head.name in page and "东山村" in page and "2026年3月2日 至 2026年3月6日" in page
    assert "异议受理渠道" in page and "公示期内如有异议" in page
    assert "突发严重困难户" in page and "因病" in page  # category and reason settled at the appraisal
    w.household_a1.bank_account = "6228480012345678901"
    w.household_a1.save()
    for secret in (
        w.household_a1.bank_account,
        head.id_number,
        idnumber.mask(head.id_number),
        head.id_number[-4:],
        w.household_a1.phone,
        head.phone,
        w.household_a1.number,
    ):
        assert secret not in page
    assert case.reason not in page  # the free-text reason may hold health details
    assert "@media print" in pathlib.Path("static/css/monitoring.css").read_text(encoding="utf-8")


def test_elimination_notice_list_lists_only_cases_on_elimination_notice(login, world):
    w = world
    case_at(w, State.PUBLIC_NOTICE)
    with time_machine.travel(T_NOTICE, tick=False):
        page = text(
            login(w.village_cadre).get(reverse("monitoring:notice-list", args=[w.village_a1.pk]), {"elimination": "1"})
        )
    assert "风险消除公示" in page and "本村当前没有处于公示期的风险消除" in page


def test_notice_list_is_404_for_a_village_outside_scope(login, world):
    w = world
    assert login(w.village_cadre).get(reverse("monitoring:notice-list", args=[w.village_b1.pk])).status_code == 404
    assert login(w.town_official).get(reverse("monitoring:notice-list", args=[w.village_b1.pk])).status_code == 404


# --- constant queries ---------------------------------------------------------------------------


def _fill(w, n):
    """n reported cases in the cadre's village, one monitored without a visit, and a case whose
    timeline holds n visits."""
    for _ in range(n):
        report(w, household=f.make_household(w.village_a1, members=2))
    monitored = case_at(w, State.MONITORED, household=f.make_household(w.village_a1))
    with time_machine.travel(T_REVIEW, tick=False):
        for i in range(n):
            services.visit_create(
                user=w.village_cadre,
                household=monitored.household,
                visited_on=datetime.date(2026, 3, 9),
                visitors=f"走访{i}",
            )
    return monitored


@pytest.mark.parametrize("page", ["inbox", "case-list", "case-detail"])
def test_pages_keep_a_constant_number_of_queries(login, world, django_assert_max_num_queries, page):
    w = world
    client = login(w.village_cadre)

    def url(case):
        return detail_url(case) if page == "case-detail" else reverse(f"monitoring:{page}")

    small = _fill(w, 3)
    with time_machine.travel(datetime.datetime(2026, 5, 1, 10, tzinfo=CST), tick=False):
        with CaptureQueriesContext(connection) as baseline:
            assert client.get(url(small)).status_code == 200
        large = _fill_more(w, 27, small)
        with django_assert_max_num_queries(len(baseline)):
            response = client.get(url(large))
    assert response.status_code == 200


def _fill_more(w, n, monitored):
    for _ in range(n):
        report(w, household=f.make_household(w.village_a1, members=2))
    with time_machine.travel(T_REVIEW, tick=False):
        for i in range(n):
            services.visit_create(
                user=w.village_cadre,
                household=monitored.household,
                visited_on=datetime.date(2026, 3, 9),
                visitors=f"再访{i}",
            )
    return monitored


def test_step_attachments_are_served_only_inside_scope(login, world, settings, tmp_path):

    settings.MEDIA_ROOT = tmp_path
    w = world
    case = report(w)
    client = login(w.village_cadre)
    scan, minutes = f.pdf_upload("承诺书.pdf"), f.pdf_upload("核实记录.pdf")
    scan_bytes, minutes_bytes = scan.read(), minutes.read()
    scan.seek(0), minutes.seek(0)
    with time_machine.travel(T_REPORT, tick=False):
        client.post(
            action_url(case, "start_appraisal"),
            {
                **HOME_CHECK,
                "commitment_scan": scan,
                "attachment": minutes,
            },
        )
    event = CaseEvent.objects.get(case=case, action="start_appraisal")
    page = text(client.get(detail_url(case)))
    scan_url = reverse("monitoring:commitment-scan", args=[case.pk])
    minutes_url = reverse("monitoring:event-attachment", args=[case.pk, event.pk])
    assert scan_url in page and minutes_url in page
    assert b"".join(client.get(scan_url).streaming_content) == scan_bytes
    assert b"".join(client.get(minutes_url).streaming_content) == minutes_bytes
    other = login(w.village_cadre_b)
    assert other.get(scan_url).status_code == 404 and other.get(minutes_url).status_code == 404
