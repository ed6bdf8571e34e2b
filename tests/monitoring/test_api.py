"""The monitoring REST API: cases, transitions, objections, visits, inbox (issue 3 item 8)."""

import datetime
import uuid

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assistance.models import Measure
from monitoring import services
from monitoring.models import CaseEvent, MonitoringCase, MonitoringLine, Objection, State, Visit
from tests import factories as f

MAR_2 = datetime.datetime(2026, 3, 2, 10)
MAR_7 = datetime.datetime(2026, 3, 7, 10)


def client_for(user):
    client = APIClient()
    # A fresh user object each time: role lookups are cached per user object, as per request.
    client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    return client


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def step(user, case, name, data=None, fmt="json"):
    return client_for(user).post(f"/api/cases/{case.pk}/transitions/{name}/", data or {}, format=fmt)


def report(world, household=None, **extra):
    return services.case_create(
        user=world.village_cadre,
        household=household or world.household_a1,
        channel="cadre_visit",
        discovered_on=datetime.date(2026, 3, 1),
        reason="户主突发大病",
        **extra,
    )


HOME_CHECK = {"home_check_on": "2026-03-02", "home_checkers": "张三、李四", "commitment_signed_on": "2026-03-02"}


def scan():
    """The signed commitment's scan the start of the appraisal needs (issue 7 point 6)."""
    return {"commitment_scan": f.pdf_upload("承诺书.pdf")}  # a real PDF: uploads are checked by content


APPRAISAL = {
    "appraisal_on": "2026-03-02",
    "appraisal_attendance": 12,
    "appraisal_result": "approved",
    "appraisal_minutes": "一致同意",
    "notice_start": "2026-03-02",
    "category": "sudden",
    "primary_risk": "illness",
}
COUNTY = {
    "category": "sudden",
    "primary_risk": "illness",
    "secondary_risks": ["disability"],
    "document_number": "清乡振〔2026〕3号",
}


def on_notice(world, case):
    """Move a reported case to its public notice (2 March - 6 March 2026) through the services."""
    services.case_transition(
        user=world.village_cadre, case_id=case.pk, name="start_appraisal", data=HOME_CHECK, files=scan()
    )
    return services.case_transition(user=world.village_cadre, case_id=case.pk, name="publish_notice", data=APPRAISAL)


def at_town_review(world):
    with time_machine.travel(MAR_2, tick=False):
        case = on_notice(world, report(world))
    with time_machine.travel(MAR_7, tick=False):
        return services.case_transition(user=world.village_cadre, case_id=case.pk, name="close_notice", data={})


# --- the whole path ------------------------------------------------------------------------


def test_whole_path_from_report_to_elimination_through_the_api(world):
    w = world
    with time_machine.travel(MAR_2, tick=False):
        created = client_for(w.village_cadre).post(
            "/api/cases/",
            {
                "household": w.household_a1.pk,
                "channel": "cadre_visit",
                "discovered_on": "2026-03-01",
                "reason": "户主突发大病",
                "primary_risk": "illness",
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        body = created.json()
        assert body["state"] == "reported" and body["state_label"] == "已申报"
        assert body["deadline"] == "2026-03-16" and body["days_left"] == 14 and body["overdue"] is False
        case = MonitoringCase.objects.get(pk=body["id"])

        response = step(w.village_cadre, case, "start_appraisal", {**HOME_CHECK, **scan()}, fmt="multipart")
        assert response.status_code == 200, response.content
        assert response.json()["state"] == "village_appraisal"
        response = step(w.village_cadre, case, "publish_notice", APPRAISAL)
        assert response.status_code == 200, response.content
        assert response.json()["notice_end"] == "2026-03-06"
        early = step(w.village_cadre, case, "close_notice")
        assert early.status_code == 409
        assert "公示期未满" in early.json()["reasons"][0] and early.json()["state"] == "public_notice"

    with time_machine.travel(MAR_7, tick=False):
        assert step(w.village_cadre, case, "close_notice").json()["state"] == "town_review"
        response = token_client(w.town_official).post(
            f"/api/cases/{case.pk}/transitions/town_approve/", {"comment": "情况属实"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["state"] == "county_review"
        # The county determination waits for the asset comparison's result (信息比对).
        refused = step(w.county_officer, case, "county_approve", COUNTY)
        assert refused.status_code == 409 and "尚未记录信息比对结果" in refused.json()["reasons"][0]
        recorded = token_client(w.county_officer).post(
            f"/api/cases/{case.pk}/asset-comparison/", {"result": "none_found"}, format="json"
        )
        assert recorded.status_code == 201, recorded.content
        response = step(w.county_officer, case, "county_approve", COUNTY)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["state"] == "monitored" and body["state_label"] == "监测帮扶中"
        assert body["risk_labels"] == ["因病", "因残"] and body["determined_on"] == "2026-03-07"
        assert body["days_left"] is None and body["deadline"] is None

    MonitoringLine.objects.create(county=w.county, year=2025, amount=7800)
    MonitoringLine.objects.create(county=w.county, year=2026, amount=8000)
    f.make_income(w.household_a1, year=2025, wage_income=45000)  # stable: the year before too
    f.make_income(w.household_a1, year=2026, wage_income=60000)
    Measure.objects.create(case=case, measure_type_id="medical_aid", status="done")
    with time_machine.travel(datetime.datetime(2026, 10, 7, 10), tick=False):
        detail = client_for(w.village_cadre).get(f"/api/cases/{case.pk}/").json()
        assert all(c["met"] for c in detail["elimination_criteria"])
        assert detail["available_transitions"] == ["propose_elimination"]
        assert step(w.village_cadre, case, "propose_elimination").json()["state"] == "elimination_appraisal"
        assert step(w.village_cadre, case, "publish_elimination_notice").json()["state"] == "elimination_notice"
        assert step(w.village_cadre, case, "close_elimination_notice").status_code == 409
    with time_machine.travel(datetime.datetime(2026, 10, 12, 10), tick=False):
        assert step(w.village_cadre, case, "close_elimination_notice").json()["state"] == "elimination_town_review"
        response = step(w.town_official, case, "town_accept_elimination", {"comment": "验收合格"})
        assert response.json()["state"] == "elimination_county_review"
        response = step(w.county_officer, case, "county_approve_elimination", {"reason": "stable"})
        assert response.status_code == 200, response.content
        body = response.json()
    assert body["state"] == "eliminated" and body["elimination_reason_label"] == "帮扶后稳定消除"
    assert body["available_transitions"] == []
    moves = [(e["action"], e["from_state"], e["to_state"]) for e in body["timeline"] if e["kind"] == "event"]
    assert moves == [
        ("report", "", "reported"),
        ("start_appraisal", "reported", "village_appraisal"),
        ("publish_notice", "village_appraisal", "public_notice"),
        ("close_notice", "public_notice", "town_review"),
        ("town_approve", "town_review", "county_review"),
        ("asset_comparison", "county_review", "county_review"),
        ("county_approve", "county_review", "monitored"),
        ("propose_elimination", "monitored", "elimination_appraisal"),
        ("publish_elimination_notice", "elimination_appraisal", "elimination_notice"),
        ("close_elimination_notice", "elimination_notice", "elimination_town_review"),
        ("town_accept_elimination", "elimination_town_review", "elimination_county_review"),
        ("county_approve_elimination", "elimination_county_review", "eliminated"),
    ]
    town_step = next(e for e in body["timeline"] if e["action"] == "town_approve")
    assert town_step["actor"]["username"] == "town" and town_step["comment"] == "情况属实"


# --- reporting ----------------------------------------------------------------------------


def test_second_open_case_for_a_household_is_refused_with_a_field_error(world):
    report(world)
    response = client_for(world.village_cadre).post(
        "/api/cases/",
        {
            "household": world.household_a1.pk,
            "channel": "self_declared",
            "discovered_on": "2026-03-01",
            "reason": "再次申报",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "已有进行中的监测对象" in str(response.json())
    assert MonitoringCase.objects.count() == 1


def test_report_with_missing_fields_answers_chinese_field_errors(world):
    response = client_for(world.village_cadre).post("/api/cases/", {"household": world.household_a1.pk}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert {"channel", "discovered_on", "reason"} <= set(body)
    assert "必填" in body["reason"][0]


def test_report_dated_in_the_future_is_refused(world):
    with time_machine.travel(MAR_2, tick=False):
        response = client_for(world.village_cadre).post(
            "/api/cases/",
            {
                "household": world.household_a1.pk,
                "channel": "cadre_visit",
                "discovered_on": "2026-03-09",
                "reason": "x",
            },
            format="json",
        )
    assert response.status_code == 400
    assert response.json()["discovered_on"] == ["发现日期不能晚于今天。"]


def test_report_naming_a_household_outside_the_scope_is_404(world):
    for household in (world.household_b1, world.household_other):
        response = client_for(world.village_cadre).post(
            "/api/cases/",
            {"household": household.pk, "channel": "cadre_visit", "discovered_on": "2026-03-01", "reason": "x"},
            format="json",
        )
        assert response.status_code == 404
    assert not MonitoringCase.objects.exists()


def test_town_official_may_not_report_a_case(world):
    response = client_for(world.town_official).post(
        "/api/cases/",
        {"household": world.household_a1.pk, "channel": "cadre_visit", "discovered_on": "2026-03-01", "reason": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert not MonitoringCase.objects.exists()


def test_cases_cannot_be_edited_or_deleted(world):
    case = report(world)
    client = client_for(world.county_officer)
    assert client.put(f"/api/cases/{case.pk}/", {"state": "monitored"}, format="json").status_code == 405
    assert client.patch(f"/api/cases/{case.pk}/", {"state": "monitored"}, format="json").status_code == 405
    assert client.delete(f"/api/cases/{case.pk}/").status_code == 405
    case.refresh_from_db()
    assert case.state == State.REPORTED


# --- detail and scope -----------------------------------------------------------------------


def test_case_outside_the_scope_is_404_everywhere(world):
    case = report(world)
    other = client_for(world.village_cadre_b)
    assert other.get(f"/api/cases/{case.pk}/").status_code == 404
    assert other.post(f"/api/cases/{case.pk}/transitions/withdraw/", {"comment": "x"}, format="json").status_code == 404
    assert other.get(f"/api/cases/{case.pk}/objections/").status_code == 404
    assert other.get("/api/cases/").json()["results"] == []
    assert client_for(world.department_staff).get(f"/api/cases/{case.pk}/").status_code == 404
    assert APIClient().get(f"/api/cases/{case.pk}/").status_code == 401
    case.refresh_from_db()
    assert case.state == State.REPORTED


def test_detail_shows_the_household_with_a_masked_head_id_only(world):
    case = report(world)
    head = world.household_a1.members.get(relation="head")
    response = client_for(world.county_officer).get(f"/api/cases/{case.pk}/")
    assert response.status_code == 200
    household = response.json()["household"]
    assert household["number"] == world.household_a1.number
    assert household["village_name"] == "东山村" and household["town_name"] == "东山镇"
    assert household["head_name"] == head.name and household["head_masked_id"] == head.masked_id
    assert head.id_number not in response.content.decode()


def test_actions_explain_why_a_step_is_not_possible_yet(world):
    with time_machine.travel(MAR_2, tick=False):
        case = on_notice(world, report(world))
        body = client_for(world.village_cadre).get(f"/api/cases/{case.pk}/").json()
    close = next(a for a in body["actions"] if a["name"] == "close_notice")
    assert close["enabled"] is False and any("公示期未满" in r for r in close["reasons"])
    assert "close_notice" not in body["available_transitions"]
    assert "withdraw" in body["available_transitions"]


def test_available_transitions_differ_per_role(world):
    case = at_town_review(world)

    def available(user):
        return set(client_for(user).get(f"/api/cases/{case.pk}/").json()["available_transitions"])

    assert available(world.town_official) == {"town_approve", "town_return", "reject"}
    assert available(world.village_cadre) == {"withdraw"}
    assert available(world.county_officer) == set()
    assert available(world.admin) == set()


# --- transition status codes --------------------------------------------------------------


def test_reject_without_a_reason_is_400_and_reason_is_accepted_as_an_alias_of_comment(world):
    case = at_town_review(world)
    missing = step(world.town_official, case, "reject", {})
    assert missing.status_code == 400
    assert missing.json()["comment"] == ["请填写原因。"]
    case.refresh_from_db()
    assert case.state == State.TOWN_REVIEW

    response = step(world.town_official, case, "reject", {"reason": "家庭收入高于监测范围"})
    assert response.status_code == 200
    assert response.json()["state"] == "rejected" and response.json()["end_reason"] == "家庭收入高于监测范围"


def test_county_approval_without_category_is_400(world):
    case = at_town_review(world)
    services.case_transition(user=world.town_official, case_id=case.pk, name="town_approve", data={"comment": "属实"})
    response = step(world.county_officer, case, "county_approve", {"primary_risk": "illness"})
    assert response.status_code == 400
    assert {"category", "document_number"} <= set(response.json())


def test_role_that_may_not_act_at_the_step_gets_403(world):
    case = at_town_review(world)
    response = step(world.county_officer, case, "town_approve", {"comment": "越级审核"})
    assert response.status_code == 403
    assert "乡镇审核" in response.json()["detail"]
    response = step(world.village_cadre, case, "town_approve", {"comment": "x"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.state == State.TOWN_REVIEW


def test_unknown_or_internal_transition_name_is_404(world):
    case = report(world)
    assert step(world.village_cadre, case, "approve_everything").status_code == 404
    assert step(world.village_cadre, case, "return_for_recheck", {"comment": "x"}).status_code == 404


def test_transition_from_the_wrong_state_is_409_with_the_current_state(world):
    case = report(world)
    response = step(world.county_officer, case, "county_approve", COUNTY)
    assert response.status_code == 409
    body = response.json()
    assert body["state"] == "reported" and body["state_label"] == "已申报"
    assert "不能执行" in body["detail"]


def test_unmet_condition_is_409_with_its_reasons(world):
    case = report(world)
    response = step(
        world.village_cadre, case, "start_appraisal", {"home_check_on": "2026-03-02", "home_checkers": "张三"}
    )
    assert response.status_code == 409
    reasons = response.json()["reasons"]
    assert any("至少两名" in r for r in reasons) and any("承诺授权书" in r for r in reasons)
    assert not CaseEvent.objects.filter(action="start_appraisal").exists()


def test_double_submit_succeeds_once_then_409(world):
    case = at_town_review(world)
    first = step(world.town_official, case, "town_approve", {"comment": "属实"})
    second = step(world.town_official, case, "town_approve", {"comment": "属实"})
    assert first.status_code == 200 and second.status_code == 409
    assert second.json()["state"] == "county_review"
    assert CaseEvent.objects.filter(case=case, action="town_approve").count() == 1


def test_transition_accepts_multipart_with_an_attachment(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = report(world)
    scan = f.pdf_upload("commitment.pdf")
    response = step(
        world.village_cadre,
        case,
        "start_appraisal",
        {**HOME_CHECK, "commitment_scan": scan, "comment": "已入户"},
        fmt="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "village_appraisal" and body["commitment_scan"].endswith(f"/cases/{case.pk}/commitment/")
    event = next(e for e in body["timeline"] if e["action"] == "start_appraisal")
    assert event["comment"] == "已入户" and event["payload"]["home_checkers"] == "张三、李四"


# --- objections -----------------------------------------------------------------------------


def test_upheld_objection_during_the_notice_sends_the_case_back_to_village_appraisal(world):
    with time_machine.travel(MAR_2, tick=False):
        case = on_notice(world, report(world))
        client = client_for(world.village_cadre)
        response = client.post(
            f"/api/cases/{case.pk}/objections/",
            {"raised_by": "匿名", "raised_on": "2026-03-02", "content": "该户有小汽车"},
            format="json",
        )
        assert response.status_code == 201, response.content
        objection = response.json()
        assert objection["status"] == "open" and objection["notice"] == "public_notice"
        assert [o["id"] for o in client.get(f"/api/cases/{case.pk}/objections/").json()] == [objection["id"]]
    with time_machine.travel(MAR_7, tick=False):
        blocked = step(world.village_cadre, case, "close_notice")
        assert blocked.status_code == 409 and "异议未处理" in blocked.json()["reasons"][0]
        response = client_for(world.town_official).post(
            f"/api/objections/{objection['id']}/resolve/",
            {"upheld": True, "resolution": "核实该户有营运车辆"},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "upheld" and response.json()["case_state"] == "village_appraisal"
        again = client_for(world.town_official).post(
            f"/api/objections/{objection['id']}/resolve/", {"upheld": False, "resolution": "x"}, format="json"
        )
        assert again.status_code == 409
    case.refresh_from_db()
    assert case.state == State.VILLAGE_APPRAISAL and case.notice_end is None


def test_dismissed_objection_lets_the_notice_close(world):
    with time_machine.travel(MAR_2, tick=False):
        case = on_notice(world, report(world))
        objection = services.objection_record(
            user=world.village_cadre,
            case_id=case.pk,
            raised_by="邻居",
            raised_on=datetime.date(2026, 3, 2),
            content="收入不低",
        )
    with time_machine.travel(MAR_7, tick=False):
        response = client_for(world.village_cadre).post(
            f"/api/objections/{objection.pk}/resolve/",
            {"upheld": False, "resolution": "经核实收入确在监测范围内"},
            format="json",
        )
        assert response.json()["status"] == "dismissed" and response.json()["case_state"] == "public_notice"
        assert step(world.village_cadre, case, "close_notice").json()["state"] == "town_review"


def test_objection_outside_a_notice_is_409_and_without_content_400(world):
    case = report(world)
    client = client_for(world.village_cadre)
    response = client.post(f"/api/cases/{case.pk}/objections/", {"raised_by": "匿名", "content": "x"}, format="json")
    assert response.status_code == 409 and response.json()["state"] == "reported"
    response = client.post(f"/api/cases/{case.pk}/objections/", {"raised_by": "匿名"}, format="json")
    assert response.status_code == 400 and "content" in response.json()
    assert not Objection.objects.exists()


def test_objection_of_another_village_is_404(world):
    with time_machine.travel(MAR_2, tick=False):
        case = on_notice(world, report(world))
        objection = services.objection_record(
            user=world.village_cadre,
            case_id=case.pk,
            raised_by="匿名",
            raised_on=datetime.date(2026, 3, 2),
            content="x",
        )
    client = client_for(world.village_cadre_b)
    assert client.get(f"/api/objections/{objection.pk}/").status_code == 404
    response = client.post(
        f"/api/objections/{objection.pk}/resolve/", {"upheld": True, "resolution": "x"}, format="json"
    )
    assert response.status_code == 404


# --- visits ---------------------------------------------------------------------------------


def test_visit_is_recorded_once_even_when_synced_twice(world):
    client = client_for(world.village_cadre)
    payload = {
        "household": world.household_a1.pk,
        "visited_on": "2026-03-02",
        "visitors": "张三",
        "housing_secure": False,
        "findings": "房屋漏雨",
        "client_uuid": str(uuid.uuid4()),
    }
    with time_machine.travel(MAR_2, tick=False):
        first = client.post("/api/visits/", payload, format="json")
        second = client.post("/api/visits/", payload, format="json")
    assert first.status_code == 201, first.content
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert Visit.objects.count() == 1
    world.household_a1.refresh_from_db()
    # Items left out keep the household's last known state; only the change was sent.
    assert world.household_a1.housing_secure is False and world.household_a1.food_secure is True
    assert first.json()["problems"] == ["住房安全"]
    assert client.get(f"/api/visits/{first.json()['id']}/").status_code == 200


def test_visit_from_a_phone_form_may_carry_photos(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photos = [f.jpeg_upload(f"p{i}.jpg") for i in range(2)]
    with time_machine.travel(MAR_2, tick=False):
        response = client_for(world.village_cadre).post(
            "/api/visits/",
            {"household": world.household_a1.pk, "visitors": "张三", "water_secure": "false", "photos": photos},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["photos"]) == 2 and body["problems"] == ["饮水安全"] and body["visited_on"] == "2026-03-02"


def test_visit_can_open_a_case_with_its_risks(world):
    with time_machine.travel(MAR_2, tick=False):
        response = client_for(world.village_cadre).post(
            "/api/visits/",
            {
                "household": world.household_a1.pk,
                "visitors": "张三、李四",
                "new_risks": ["illness", "education"],
                "open_case": True,
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    case = MonitoringCase.objects.get(household=world.household_a1)
    assert response.json()["case"] == case.pk
    assert case.channel == "cadre_visit" and case.primary_risk == "illness" and case.secondary_risks == ["education"]


def test_visit_opening_a_case_without_risks_or_findings_is_400(world):
    response = client_for(world.village_cadre).post(
        "/api/visits/", {"household": world.household_a1.pk, "visitors": "张三", "open_case": True}, format="json"
    )
    assert response.status_code == 400 and "new_risks" in response.json()
    assert not Visit.objects.exists()


def test_visits_are_scoped(world):
    with time_machine.travel(MAR_2, tick=False):
        visit = services.visit_create(
            user=world.village_cadre,
            household=world.household_a1,
            visited_on=datetime.date(2026, 3, 2),
            visitors="张三",
        )
    other = client_for(world.village_cadre_b)
    assert other.get(f"/api/visits/{visit.pk}/").status_code == 404
    assert other.get("/api/visits/").json()["results"] == []
    assert (
        other.post("/api/visits/", {"household": world.household_a1.pk, "visitors": "x"}, format="json").status_code
        == 404
    )
    mine = client_for(world.town_official).get(f"/api/visits/?household={world.household_a1.pk}").json()
    assert [v["id"] for v in mine["results"]] == [visit.pk]
    assert (
        client_for(world.town_official).get(f"/api/visits/?household={world.household_b1.pk}").json()["results"] == []
    )


# --- lists, filters, inbox ------------------------------------------------------------------


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_case_list_filters(world):
    a1 = report(world, primary_risk="illness", secondary_risks=["education"])
    a2 = services.case_create(
        user=f.user_with_role("village_a2", "village_cadre", area=world.village_a2),
        household=world.household_a2,
        channel="self_declared",
        discovered_on=datetime.date(2026, 3, 20),
        reason="因学",
        primary_risk="education",
    )
    b1 = services.case_create(
        user=world.village_cadre_b,
        household=world.household_b1,
        channel="cadre_visit",
        discovered_on=datetime.date(2026, 3, 20),
        reason="因灾",
        primary_risk="disaster",
    )
    client = client_for(world.county_officer)
    with time_machine.travel(datetime.datetime(2026, 3, 21, 10), tick=False):
        assert ids(client.get("/api/cases/")) == {a1.pk, a2.pk, b1.pk}
        assert ids(client.get("/api/cases/?risk=education")) == {a1.pk, a2.pk}
        assert ids(client.get("/api/cases/?risk=disaster")) == {b1.pk}
        assert ids(client.get(f"/api/cases/?town={world.town_a.pk}")) == {a1.pk, a2.pk}
        assert ids(client.get(f"/api/cases/?village={world.village_b1.pk}")) == {b1.pk}
        assert ids(client.get("/api/cases/?channel=self_declared")) == {a2.pk}
        assert ids(client.get("/api/cases/?overdue=true")) == {a1.pk}
        assert ids(client.get("/api/cases/?overdue=false")) == {a2.pk, b1.pk}
        assert ids(client.get("/api/cases/overdue/")) == {a1.pk}
        head = world.household_b1.members.get(relation="head")
        assert ids(client.get("/api/cases/", {"q": head.name})) == {b1.pk}
        assert ids(client.get("/api/cases/", {"q": world.household_a2.number})) == {a2.pk}
        assert ids(client.get("/api/cases/?state=reported&stage=identification")) == {a1.pk, a2.pk, b1.pk}
        assert ids(client.get("/api/cases/?stage=monitored")) == set()
        overdue = client.get(f"/api/cases/{a1.pk}/").json()
        assert overdue["overdue"] is True and overdue["days_left"] == -5
    # A town outside the caller's scope is not a valid choice: the filter cannot widen the scope.
    assert client_for(world.town_official).get(f"/api/cases/?town={world.town_b.pk}").status_code == 400


def test_inbox_lists_the_cases_waiting_for_the_caller(world):
    reported = report(world)
    waiting_for_town = at_town_review_of(world, world.household_a2)
    with time_machine.travel(MAR_7, tick=False):
        town = client_for(world.town_official).get("/api/inbox/").json()["results"]
        village = client_for(world.village_cadre).get("/api/inbox/").json()["results"]
    assert [c["id"] for c in town] == [waiting_for_town.pk]
    assert town[0]["days_left"] == 9
    assert [c["id"] for c in village] == [reported.pk]
    assert client_for(world.county_officer).get("/api/inbox/").json()["results"] == []


def at_town_review_of(world, household):
    cadre = f.user_with_role("village_a2", "village_cadre", area=household.village)
    with time_machine.travel(MAR_2, tick=False):
        case = services.case_create(
            user=cadre,
            household=household,
            channel="cadre_visit",
            discovered_on=datetime.date(2026, 3, 1),
            reason="因病",
        )
        services.case_transition(user=cadre, case_id=case.pk, name="start_appraisal", data=HOME_CHECK, files=scan())
        services.case_transition(user=cadre, case_id=case.pk, name="publish_notice", data=APPRAISAL)
    with time_machine.travel(MAR_7, tick=False):
        return services.case_transition(user=cadre, case_id=case.pk, name="close_notice", data={})


def _add_cases(world, count):
    for i in range(count):
        village = (world.village_a1, world.village_a2, world.village_b1)[i % 3]
        household = f.make_household(village, members=2)
        MonitoringCase.objects.create(
            household=household,
            channel="cadre_visit",
            reason="x",
            discovered_on=datetime.date(2026, 2, 1) + datetime.timedelta(days=i),
            primary_risk="illness",
            secondary_risks=["education"],
        )


@pytest.mark.parametrize(
    "url", ["/api/cases/", "/api/cases/?risk=education&overdue=true&q=HH", "/api/inbox/", "/api/cases/overdue/"]
)
def test_case_lists_keep_a_constant_number_of_queries(world, url, django_assert_max_num_queries):
    _add_cases(world, 3)
    with time_machine.travel(MAR_7, tick=False):
        with CaptureQueriesContext(connection) as small:
            assert len(client_for(world.county_officer).get(url).json()["results"]) == 3 or "inbox" in url
            assert len(client_for(world.village_cadre).get(url).json()["results"]) >= 1 or "overdue" in url
        _add_cases(world, 27)
        with django_assert_max_num_queries(len(small)):
            assert client_for(world.county_officer).get(url).status_code == 200
            assert client_for(world.village_cadre).get(url).status_code == 200


def test_visit_list_keeps_a_constant_number_of_queries(world, django_assert_max_num_queries):
    def add(n):
        for _ in range(n):
            services.visit_create(
                user=world.village_cadre,
                household=world.household_a1,
                visited_on=datetime.date(2026, 3, 2),
                visitors="张三",
            )

    with time_machine.travel(MAR_7, tick=False):
        add(3)
        with CaptureQueriesContext(connection) as small:
            assert len(client_for(world.village_cadre).get("/api/visits/").json()["results"]) == 3
        add(27)
        with django_assert_max_num_queries(len(small)):
            assert len(client_for(world.village_cadre).get("/api/visits/").json()["results"]) == 30


def test_case_detail_keeps_a_constant_number_of_queries_whatever_the_visits(world, django_assert_max_num_queries):
    case = report(world)

    def add(n):
        for _ in range(n):
            services.visit_create(
                user=world.village_cadre,
                household=world.household_a1,
                visited_on=datetime.date(2026, 3, 2),
                visitors="张三",
            )

    with time_machine.travel(MAR_7, tick=False):
        add(3)
        with CaptureQueriesContext(connection) as small:
            assert len(client_for(world.village_cadre).get(f"/api/cases/{case.pk}/").json()["timeline"]) >= 4
        add(27)
        with django_assert_max_num_queries(len(small)):
            assert len(client_for(world.village_cadre).get(f"/api/cases/{case.pk}/").json()["timeline"]) >= 31


# --- schema ---------------------------------------------------------------------------------


def test_schema_documents_the_monitoring_endpoints(world):
    response = client_for(world.village_cadre).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/cases/",
        "/api/cases/{id}/",
        "/api/cases/{id}/transitions/{name}/",
        "/api/cases/{id}/objections/",
        "/api/cases/overdue/",
        "/api/objections/{id}/resolve/",
        "/api/visits/",
        "/api/visits/{id}/",
        "/api/inbox/",
    ]:
        assert path in paths, path
    assert set(paths["/api/cases/{id}/"]) == {"get"}
    transition = paths["/api/cases/{id}/transitions/{name}/"]["post"]
    name = next(p for p in transition["parameters"] if p["name"] == "name")
    assert "county_approve" in name["schema"]["enum"] and "return_for_recheck" not in name["schema"]["enum"]
    assert {"200", "400", "403", "404", "409"} <= set(transition["responses"])
