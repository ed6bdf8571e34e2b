"""The plan API (issue 8 item 7): exact paths, fields and status codes; scoped like cases."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from assistance.models import Measure
from monitoring.models import CaseEvent, MonitoringLine, State
from tests import factories as f
from tests.assistance.conftest import CST
from tests.monitoring.cases import T_ELIM, case_at

pytestmark = pytest.mark.usefixtures("on_plan_day")

MEASURE_FIELDS = {
    "id",
    "measure_type",
    "department",
    "contact_person",
    "starts_on",
    "ends_on",
    "amount",
    "funding_source",
    "status",
    "outcome",
    "progress",
}


def api(user):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    return client


def add(w, user=None, **data):
    body = {"measure_type": "public_job", "amount": "6000", "funding_source": "衔接资金", **data}
    return api(user or w.contact).post(f"/api/cases/{w.case.pk}/measures/", body, format="json")


def test_measure_types_list_the_catalogue(w):
    rows = api(w.contact).get("/api/measure-types/").json()
    by_code = {r["code"]: r for r in rows}
    assert by_code["public_job"]["kind"] == "developmental"
    assert by_code["dibao"]["kind"] == "social_security"
    assert by_code["education_aid"]["kind"] == "other"
    assert by_code["medical_aid"]["risk_types"] == ["illness", "accident"]
    assert by_code["micro_credit"]["label"] == "小额信贷"


def test_contact_person_adds_a_measure_and_reads_it_back(w):
    response = add(w, department=w.department.pk)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= MEASURE_FIELDS
    assert body["measure_type"] == "public_job"
    assert body["status"] == "planned"
    assert body["amount"] == "6000.00"
    assert body["department"] == w.department.pk
    assert body["starts_on"] == "2026-03-11"
    assert [p["to_status"] for p in body["progress"]] == ["planned"]
    listed = api(w.village_cadre).get(f"/api/cases/{w.case.pk}/measures/").json()
    assert [m["id"] for m in listed] == [body["id"]]
    assert api(w.county_officer).get(f"/api/measures/{body['id']}/").json()["funding_source"] == "衔接资金"


def test_bad_input_is_a_400_in_chinese_and_saves_nothing(w):
    response = add(w, measure_type="no_such", ends_on="2026-01-01", starts_on="2026-03-01")
    assert response.status_code == 400
    assert response.json()["measure_type"] == ["没有这个措施类型（或已停用），请从措施目录中选择。"]
    response = add(w, starts_on="2026-03-10", ends_on="2026-03-01")
    assert response.json() == {"ends_on": ["结束日期不能早于开始日期。"]}
    assert not Measure.objects.exists()


def test_a_measure_on_a_case_not_monitored_is_409_with_the_reason(w):
    other = case_at(w, State.TOWN_REVIEW, household=f.make_household(w.village_a1))
    response = api(w.village_cadre).post(f"/api/cases/{other.pk}/measures/", {"measure_type": "dibao"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["reasons"] == [
        "监测对象当前状态为“乡镇审核”：只有监测帮扶中（或风险消除办理中）的对象才能添加帮扶措施。"
    ]
    assert body["state"] == "town_review"


def test_double_submit_is_409(w):
    assert add(w).status_code == 201
    second = add(w)
    assert second.status_code == 409
    assert "重复提交" in second.json()["detail"]


def test_out_of_scope_is_404_everywhere(w):
    measure_id = add(w).json()["id"]
    outsider = w.village_cadre_b
    assert api(outsider).get(f"/api/cases/{w.case.pk}/plan/").status_code == 404
    assert api(outsider).get(f"/api/cases/{w.case.pk}/measures/").status_code == 404
    assert add(w, user=outsider).status_code == 404
    assert api(outsider).get(f"/api/measures/{measure_id}/").status_code == 404
    assert api(outsider).patch(f"/api/measures/{measure_id}/", {"amount": "1"}, format="json").status_code == 404
    assert api(outsider).post(f"/api/measures/{measure_id}/progress/", {"note": "x"}, format="json").status_code == 404
    assert api(w.other_county_officer).get(f"/api/measures/{measure_id}/").status_code == 404


def test_no_delete_and_no_put(w):
    measure_id = add(w).json()["id"]
    assert api(w.contact).delete(f"/api/measures/{measure_id}/").status_code == 405
    assert api(w.contact).put(f"/api/measures/{measure_id}/", {"amount": "1"}, format="json").status_code == 405
    assert Measure.objects.filter(pk=measure_id).exists()


def test_patch_changes_only_what_is_sent_and_stopping_needs_a_reason(w):
    measure_id = add(w, ends_on="2026-12-31").json()["id"]
    response = api(w.contact).patch(f"/api/measures/{measure_id}/", {"amount": "7200"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["amount"], body["ends_on"], body["funding_source"]) == ("7200.00", "2026-12-31", "衔接资金")
    assert body["progress"][-1]["changes"] == {"amount": ["6000.00", "7200.00"]}
    refused = api(w.contact).patch(f"/api/measures/{measure_id}/", {"status": "stopped"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"note": ["终止措施请填写原因。"]}
    stopped = api(w.contact).patch(
        f"/api/measures/{measure_id}/", {"status": "stopped", "note": "该户已外出务工，岗位另行安排"}, format="json"
    )
    assert stopped.json()["status"] == "stopped"
    assert stopped.json()["stop_reason"] == "该户已外出务工，岗位另行安排"
    again = api(w.contact).patch(f"/api/measures/{measure_id}/", {"amount": "1"}, format="json")
    assert again.status_code == 409
    type_change = api(w.contact).patch(f"/api/measures/{measure_id}/", {"measure_type": "dibao"}, format="json")
    assert type_change.status_code == 400


def test_progress_takes_a_note_and_optionally_a_status(w):
    measure_id = add(w).json()["id"]
    missing = api(w.contact).post(f"/api/measures/{measure_id}/progress/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json() == {"note": ["请填写进展情况。"]}
    started = api(w.contact).post(
        f"/api/measures/{measure_id}/progress/", {"note": "已签订公益岗位协议", "status": "in_progress"}, format="json"
    )
    assert started.status_code == 201
    assert (started.json()["from_status"], started.json()["to_status"]) == ("planned", "in_progress")
    note_only = api(w.contact).post(f"/api/measures/{measure_id}/progress/", {"note": "按月到岗"}, format="json")
    assert note_only.status_code == 201
    done = api(w.contact).post(
        f"/api/measures/{measure_id}/progress/", {"note": "协议期满", "status": "done"}, format="json"
    )
    assert done.status_code == 201
    back = api(w.contact).post(
        f"/api/measures/{measure_id}/progress/", {"note": "重新上岗", "status": "in_progress"}, format="json"
    )
    assert back.status_code == 409
    progress = api(w.contact).get(f"/api/measures/{measure_id}/").json()["progress"]
    assert [p["note"] for p in progress][1:] == ["已签订公益岗位协议", "按月到岗", "协议期满"]
    assert all(p["author"] == w.contact.pk and p["at"] for p in progress)
    labels = CaseEvent.objects.filter(case=w.case, action__startswith="measure").values_list("label", flat=True)
    assert list(labels) == [
        "添加帮扶措施：公益岗位",
        "帮扶措施实施中：公益岗位",
        "帮扶措施进展：公益岗位",
        "帮扶措施已完成：公益岗位",
    ]


def test_plan_has_measures_warnings_suggestions_and_checklist(w):
    response = api(w.contact).get(f"/api/cases/{w.case.pk}/plan/")
    assert response.status_code == 200
    body = response.json()
    assert {"measures", "rule_warnings", "suggestions", "elimination_checklist"} <= set(body)
    codes = [x["code"] for x in body["rule_warnings"]]
    assert codes == ["plan_due", "developmental_missing", "risk_unanswered", "risk_unanswered"]
    assert all(x["message"] for x in body["rule_warnings"])
    assert body["suggestions"][0]["measure_type"] == "public_job"
    measure_criterion = next(c for c in body["elimination_checklist"] if c["code"] == "measures")
    assert set(measure_criterion) == {"code", "label", "met", "figure"}
    assert measure_criterion["met"] is False

    prefill = body["suggestions"][0]["prefill"]
    created = api(w.contact).post(f"/api/cases/{w.case.pk}/measures/", prefill, format="json").json()
    planned = api(w.contact).get(f"/api/cases/{w.case.pk}/plan/").json()
    assert [x["code"] for x in planned["rule_warnings"]] == []
    assert next(c for c in planned["elimination_checklist"] if c["code"] == "measures")["met"] is False
    api(w.contact).post(
        f"/api/measures/{created['id']}/progress/", {"note": "已上岗", "status": "in_progress"}, format="json"
    )
    carried = api(w.contact).get(f"/api/cases/{w.case.pk}/plan/").json()
    assert next(c for c in carried["elimination_checklist"] if c["code"] == "measures")["met"] is True


def test_overdue_plans_in_the_api(w):
    with time_machine.travel(datetime.datetime(2026, 3, 30, 10, tzinfo=CST), tick=False):
        rows = api(w.county_officer).get("/api/plans/overdue/").json()["results"]
        assert [r["id"] for r in rows] == [w.case.pk]
        assert api(w.village_cadre_b).get("/api/plans/overdue/").json()["results"] == []


def test_propose_elimination_stays_refused_while_no_measure_is_carried_out(w):
    MonitoringLine.objects.get_or_create(county=w.county, year=2026, defaults={"amount": Decimal("8000")})
    f.make_income(w.case.household, year=2025, wage_income=60000)
    f.make_income(w.case.household, year=2026, wage_income=60000)
    measure_id = add(w).json()["id"]  # planned only
    with time_machine.travel(T_ELIM, tick=False):
        refused = api(w.village_cadre).post(
            f"/api/cases/{w.case.pk}/transitions/propose_elimination/", {}, format="json"
        )
        assert refused.status_code == 409
        assert any("至少落实一项帮扶措施" in r for r in refused.json()["reasons"])
        api(w.contact).post(
            f"/api/measures/{measure_id}/progress/", {"note": "已上岗", "status": "in_progress"}, format="json"
        )
        plan = api(w.contact).get(f"/api/cases/{w.case.pk}/plan/").json()
        assert next(c for c in plan["elimination_checklist"] if c["code"] == "measures")["met"] is True
