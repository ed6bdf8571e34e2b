"""The asset cross-check 信息比对 at identification (issue 10 point 9): the county's lists of
vehicles, property, business registrations, public payroll and housing-fund contributions come
through the department intake, are matched to the members of households with a case under
identification, shown on the case as findings with their evidence, and the county officer
records the comparison's result before the county determination."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from households.models import Department, Role
from monitoring import services as monitoring_services
from monitoring.models import CaseEvent, State
from screening import asset_services
from screening.asset_selectors import case_findings, determination_problems
from screening.layouts import ASSET_KINDS
from screening.models import AssetComparison, RiskWarning
from tests import factories as f
from tests.monitoring.cases import COUNTY_APPROVAL, T_REVIEW, case_at, record_comparison

from .warning_helpers import head, upload

pytestmark = pytest.mark.django_db

VEHICLE = {"plate": "粤A12345", "vehicle_type": "小型轿车", "brand": "大众朗逸", "registered_on": "2024-05-18"}
PAYROLL = {"employer": "示例县第一中学", "post": "教师", "payroll_type": "在职", "monthly_pay": "6200"}


def api(user):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    return client


def approve(w, case):
    with time_machine.travel(T_REVIEW, tick=False):
        return api(w.county_officer).post(
            f"/api/cases/{case.pk}/transitions/county_approve/", COUNTY_APPROVAL, format="json"
        )


def record(user, case, result, note=""):
    return api(user).post(f"/api/cases/{case.pk}/asset-comparison/", {"result": result, "note": note}, format="json")


@pytest.fixture
def reviewing(world):
    """A case at county review whose comparison is not recorded yet."""
    return case_at(world, State.COUNTY_REVIEW, compare=False)


def test_the_five_asset_lists_are_department_kinds_with_a_layout_each():
    assert set(ASSET_KINDS) <= set(Department.Kind.values)
    labels = {k: str(Department.Kind(k).label) for k in ASSET_KINDS}
    assert labels == {
        "vehicles": "公安车管",
        "property": "不动产登记",
        "business": "市场监管",
        "payroll": "财政供养",
        "housing_fund": "公积金",
    }


def test_a_vehicle_of_a_member_under_review_is_a_finding_on_the_case_with_its_evidence(world, reviewing, client):
    w = world
    member = head(w.household_a1)
    other = head(w.household_b1)  # no case: the row is kept, but is no finding on any case
    done = upload(w, "vehicles", [{"member": member, **VEHICLE}, {"member": other, **VEHICLE, "plate": "粤B1"}])
    done.refresh_from_db()
    assert done.status == "done" and done.rows_matched == 2

    body = api(w.county_officer).get(f"/api/cases/{reviewing.pk}/asset-findings/").json()
    assert [x["figure"] for x in body["findings"]] == ["名下登记车辆 粤A12345（小型轿车，大众朗逸，2024-05-18 登记）"]
    finding = body["findings"][0]
    assert (
        finding["name"] == member.name and finding["department_label"] == "公安车管" and finding["period"] == "2026-01"
    )
    assert finding["row"] == 2 and finding["cells"]["plate"] == "粤A12345"
    assert body["lists"] == [
        {"department": "vehicles", "department_label": "公安车管", "period": "2026-01", "upload": done.pk}
    ]
    assert body["comparison"] is None and "尚未记录信息比对结果" in body["problems"][0]

    client.force_login(w.county_officer)
    page = client.get(f"/cases/{reviewing.pk}/").content.decode()
    assert "信息比对（比对到 1 条）" in page and "名下登记车辆 粤A12345" in page and "记录比对结果" in page
    # No warning, no rejection: the finding waits for people to judge it.
    assert not RiskWarning.objects.exists()
    reviewing.refresh_from_db()
    assert reviewing.state == State.COUNTY_REVIEW


def test_county_approve_is_refused_until_the_comparison_is_recorded_then_the_timeline_keeps_it(world, reviewing):
    w = world
    upload(w, "payroll", [{"member": head(w.household_a1), **PAYROLL}])

    refused = approve(w, reviewing)
    assert refused.status_code == 409
    assert any("尚未记录信息比对结果" in r for r in refused.json()["reasons"])

    # A finding recorded as "none found" needs the note that says why.
    missing_note = record(w.county_officer, reviewing, "none_found")
    assert missing_note.status_code == 400 and "note" in missing_note.json()
    recorded = record(
        w.county_officer, reviewing, "found", "该成员为县一中在编教师，已于 2026 年 2 月分户另居，不影响认定。"
    )
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["result_label"] == "发现财产信息" and len(recorded.json()["findings"]) == 1

    approved = approve(w, reviewing)
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "monitored"  # "found" informs the decision, never makes it
    event = CaseEvent.objects.get(case=reviewing, action="asset_comparison")
    assert event.label == "信息比对：发现财产信息" and event.actor == w.county_officer
    assert "财政供养人员：示例县第一中学教师" in event.comment and "不影响认定" in event.comment
    assert event.payload["findings"][0]["department"] == "payroll"


def test_a_case_that_arrived_before_any_list_records_no_lists_received_with_a_note(world, reviewing):
    w = world
    assert record(w.county_officer, reviewing, "no_lists").status_code == 400  # a note is required
    response = record(
        w.county_officer, reviewing, "no_lists", "各部门比对数据尚未报送，已函询公安、不动产部门，未发现。"
    )
    assert response.status_code == 201 and response.json()["lists"] == []
    assert approve(w, reviewing).status_code == 200


def test_a_list_arriving_after_no_lists_was_recorded_asks_for_the_comparison_again(world, reviewing):
    w = world
    record_comparison(w, reviewing, "no_lists", "尚未收到比对数据。")
    upload(w, "housing_fund", [{"member": head(w.household_b1), "employer": "某公司", "monthly_deposit": "800"}])

    refused = approve(w, reviewing)
    assert refused.status_code == 409
    assert "记录“未收到比对数据”后已收到公积金的数据" in " ".join(refused.json()["reasons"])
    assert record(w.county_officer, reviewing, "none_found").status_code == 201  # nothing of this household
    assert approve(w, reviewing).status_code == 200


def test_a_finding_that_arrives_after_the_comparison_asks_for_it_again(world, reviewing):
    w = world
    record_comparison(w, reviewing)
    upload(w, "business", [{"member": head(w.household_a1), "credit_code": "92440000MA1", "business_name": "东山农家乐",
                            "entity_type": "个体户", "position": "经营者", "capital": "50000"}])  # fmt: skip

    problems = determination_problems(reviewing)
    assert problems == ["记录比对结果后又收到 1 条新的比对信息（市场监管），请核实后重新记录比对结果。"]
    assert case_findings(reviewing)[0].figure == "经营者：市场主体“东山农家乐”（个体工商户，注册资本 50,000 元）"
    assert approve(w, reviewing).status_code == 409
    assert record(w.county_officer, reviewing, "found", "农家乐已停业，年收入不足一万元。").status_code == 201
    assert approve(w, reviewing).status_code == 200
    assert AssetComparison.objects.filter(case=reviewing).count() == 2  # the history stays


def test_the_same_list_uploaded_again_is_the_same_finding(world, reviewing):
    w = world
    rows = [{"member": head(w.household_a1), "certificate": "粤(2025)不动产权第1号", "location": "城关镇8号",
             "use": "住宅", "floor_area": "96.5"}]  # fmt: skip
    upload(w, "property", rows)
    record_comparison(w, reviewing, "found", "城关镇住宅一套，已出租。")
    upload(w, "property", rows)  # the same month again: replaces the rows, same records
    assert determination_problems(reviewing) == []
    assert (
        case_findings(reviewing)[0].figure
        == "名下不动产 粤(2025)不动产权第1号（城关镇8号，住宅，建筑面积 96.50 平方米）"
    )


def test_only_the_latest_list_of_each_department_counts(world, reviewing):
    w = world
    upload(w, "vehicles", [{"member": head(w.household_a1), **VEHICLE}], period="2026-01")
    upload(w, "vehicles", [{"member": head(w.household_b1), **VEHICLE}], period="2026-02")  # sold since
    assert case_findings(reviewing) == []


def test_only_the_county_officer_records_and_outsiders_learn_nothing(world, reviewing):
    w = world
    other_officer = f.user_with_role("other_county", Role.COUNTY_OFFICER, area=w.other_county)
    assert record(w.town_official, reviewing, "none_found").status_code == 403
    assert record(w.village_cadre, reviewing, "none_found").status_code == 403
    for outsider in (other_officer, w.department_staff, w.village_cadre_b):
        assert record(outsider, reviewing, "none_found").status_code == 404
        assert record(outsider, reviewing, "bogus").status_code == 404  # scope before the body
        assert api(outsider).get(f"/api/cases/{reviewing.pk}/asset-findings/").status_code == 404
    assert api(w.town_official).get(f"/api/cases/{reviewing.pk}/asset-findings/").status_code == 200
    assert record(w.county_officer, reviewing, "bogus").status_code == 400
    assert not AssetComparison.objects.exists()


def test_a_double_submit_is_409_and_a_case_out_of_identification_is_409(world, reviewing):
    w = world
    assert record(w.county_officer, reviewing, "none_found").status_code == 201
    again = record(w.county_officer, reviewing, "none_found")
    assert again.status_code == 409 and again.json()["reasons"] == ["已记录相同的比对结果。"]
    assert approve(w, reviewing).status_code == 200
    late = record(w.county_officer, reviewing, "found", "补记")
    assert late.status_code == 409 and "认定阶段" in late.json()["detail"]
    assert CaseEvent.objects.filter(case=reviewing, action="asset_comparison").count() == 1


def test_the_comparison_may_be_recorded_in_parallel_with_the_village_steps(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    comparison = asset_services.asset_comparison_record(user=w.county_officer, case_id=case.pk, result="none_found")
    assert comparison.case_id == case.pk and comparison.lists == []


def test_the_case_page_shows_the_recorded_comparison_after_the_determination(world, reviewing, client):
    w = world
    upload(w, "vehicles", [{"member": head(w.household_a1), **VEHICLE}])
    record_comparison(w, reviewing, "found", "车辆已于 2025 年报废，未注销登记。")
    assert approve(w, reviewing).status_code == 200
    reviewing.refresh_from_db()
    client.force_login(w.village_cadre)
    page = client.get(f"/cases/{reviewing.pk}/").content.decode()
    assert "发现财产信息" in page and "车辆已于 2025 年报废" in page
    assert "记录比对结果" not in page  # neither the village nor a determined case records one
    assert case_findings(reviewing) == []  # what was judged stays in the comparison


def test_the_county_officers_inbox_lists_cases_at_county_review_awaiting_the_comparison(world, reviewing, client):
    w = world
    client.force_login(w.county_officer)
    assert "待记录信息比对结果（1）" in client.get("/inbox/").content.decode()
    client.post(f"/screening/cases/{reviewing.pk}/asset-comparison/", {"result": "none_found"})
    assert AssetComparison.objects.filter(case=reviewing).exists()
    assert "待记录信息比对结果" not in client.get("/inbox/").content.decode()
    client.force_login(w.town_official)
    assert "待记录信息比对结果" not in client.get("/inbox/").content.decode()


def test_the_page_form_says_what_is_missing(world, reviewing, client):
    w = world
    client.force_login(w.county_officer)
    response = client.post(f"/screening/cases/{reviewing.pk}/asset-comparison/", {"result": "found"}, follow=True)
    assert "请说明发现的财产信息" in response.content.decode()
    assert not AssetComparison.objects.exists()


def test_without_the_setting_monitoring_has_no_determination_check(world, reviewing, settings):
    settings.FANPIN_DETERMINATION_CHECKS = []
    with time_machine.travel(T_REVIEW, tick=False):
        case = monitoring_services.case_transition(
            user=world.county_officer, case_id=reviewing.pk, name="county_approve", data=dict(COUNTY_APPROVAL)
        )
    assert case.state == State.MONITORED and case.determined_on == datetime.date(2026, 3, 9)


def test_asset_lists_raise_no_warnings_and_no_registration_leads(world):
    from tests.screening.helpers import person_id

    upload(world, "vehicles", [{"id_number": person_id(5), "name": "外来人", **VEHICLE}])
    assert not RiskWarning.objects.exists()
