"""The plan's policy rules (seed 004 §五, seed 003 篇四): each rule unmet and met, with the
exact message the plan page and the API show."""

import datetime

import pytest
import time_machine

from assistance import selectors
from assistance.criteria import measure_carried_out
from assistance.models import Measure
from households.models import Member
from monitoring.models import MonitoringCase
from tests.assistance.conftest import CST

DEVELOPMENTAL_MISSING = (
    "该户有劳动能力：应至少安排一项开发式帮扶措施（产业帮扶、就业帮扶、公益岗位、技能培训、小额信贷、以工代赈等），"
    "促进稳定增收。"
)
SOCIAL_SECURITY_MISSING = "该户无劳动能力：应落实低保、特困供养、临时救助、医疗救助等社会保障措施，做好兜底保障。"
NO_LABOUR_TRACKING = "该户无劳动能力：落实社会保障措施后不标注风险消除，继续跟踪监测。"


def measure(w, code, status="in_progress", **fields):
    return Measure.objects.create(
        case=w.case, measure_type_id=code, status=status, starts_on=datetime.date(2026, 3, 10), **fields
    )


def warnings(w, day=datetime.date(2026, 3, 11)):
    case = MonitoringCase.objects.get(pk=w.case.pk)
    return {x.code: x.message for x in selectors.plan_for(case, today=day).warnings}


def no_labour(w):
    Member.objects.filter(household=w.case.household).update(labour_capacity=Member.Labour.LOST)


def single_risk(w):
    MonitoringCase.objects.filter(pk=w.case.pk).update(secondary_risks=[])


def test_labour_capable_household_is_told_to_get_a_developmental_measure(w):
    measure(w, "medical_aid")
    assert warnings(w)["developmental_missing"] == DEVELOPMENTAL_MISSING


def test_a_developmental_measure_answers_the_labour_rule(w):
    measure(w, "public_job")
    assert "developmental_missing" not in warnings(w)


def test_household_without_labour_is_told_social_security_and_tracking(w):
    no_labour(w)
    found = warnings(w)
    assert found["social_security_missing"] == SOCIAL_SECURITY_MISSING
    assert found["no_labour_tracking"] == NO_LABOUR_TRACKING
    assert "developmental_missing" not in found


def test_social_security_answers_the_rule_but_the_household_stays_under_tracking(w):
    no_labour(w)
    measure(w, "dibao")
    found = warnings(w)
    assert "social_security_missing" not in found
    assert found["no_labour_tracking"] == NO_LABOUR_TRACKING


def test_every_risk_type_needs_a_measure_that_answers_it(w):
    measure(w, "medical_aid")  # answers 因病, not 因残
    assert warnings(w)["risk_unanswered"] == "风险类型“因残”还没有针对性的帮扶措施。"
    measure(w, "disability_subsidy")
    assert "risk_unanswered" not in warnings(w)


def test_a_stopped_measure_answers_nothing(w):
    measure(w, "public_job", status="stopped", stop_reason="录入错误")
    found = warnings(w)
    assert found["developmental_missing"] == DEVELOPMENTAL_MISSING
    assert found["plan_due"].startswith("帮扶计划应在认定后 15 天内制定")


def test_a_single_risk_gets_a_single_measure_unless_a_reason_is_recorded(w):
    single_risk(w)
    measure(w, "public_job")
    assert "single_risk_stacked" not in warnings(w)
    second = measure(w, "medical_aid")
    assert warnings(w)["single_risk_stacked"] == (
        "该户风险单一（因病），已安排 2 项措施：风险单一的实施单项措施，不硬性叠加，防止陷入福利陷阱；"
        "确需多项措施的，请在措施中填写叠加理由。"
    )
    Measure.objects.filter(pk=second.pk).update(combination_reason="自付医疗费用仍超过家庭年收入")
    assert "single_risk_stacked" not in warnings(w)


def test_complex_risks_may_combine_measures_without_a_reason(w):
    measure(w, "public_job")
    measure(w, "medical_aid")
    assert "single_risk_stacked" not in warnings(w)


def test_the_plan_is_due_within_fifteen_days_of_determination(w):
    assert warnings(w)["plan_due"] == "帮扶计划应在认定后 15 天内制定：请在 2026-03-24 前添加帮扶措施（还剩 13 天）。"
    assert warnings(w, datetime.date(2026, 3, 30))["plan_overdue"] == (
        "帮扶计划应在认定后 15 天内制定（2026-03-24 前），已超期 6 天。"
    )
    measure(w, "public_job", status="planned")
    assert not {"plan_due", "plan_overdue"} & set(warnings(w, datetime.date(2026, 3, 30)))


def test_overdue_plans_are_listed_for_the_place_and_not_outside_it(w):
    late = datetime.date(2026, 3, 30)
    assert list(selectors.overdue_plans(w.county_officer, late)) == [w.case]
    assert list(selectors.overdue_plans(w.village_cadre, late)) == [w.case]
    assert list(selectors.overdue_plans(w.village_cadre_b, late)) == []
    assert list(selectors.overdue_plans(w.county_officer, datetime.date(2026, 3, 24))) == []
    measure(w, "public_job", status="planned")
    assert list(selectors.overdue_plans(w.county_officer, late)) == []


@pytest.mark.parametrize("labour", [True, False])
def test_suggestions_follow_risks_and_labour_capacity(w, labour):
    if not labour:
        no_labour(w)
    case = MonitoringCase.objects.get(pk=w.case.pk)
    with time_machine.travel(datetime.datetime(2026, 3, 11, 10, tzinfo=CST), tick=False):
        found = selectors.plan_for(case).suggestions
    codes = [s.measure_type.code for s in found]
    if labour:
        # Developmental first for a household that can work; 医疗救助 is for illness, 低保 for lack of labour.
        assert codes[:3] == ["public_job", "medical_aid", "insurance"]
        assert codes.index("medical_aid") < codes.index("dibao")
    else:
        assert codes[:2] == ["medical_aid", "insurance"]
        assert not any(s.measure_type.kind == "developmental" for s in found)
    first = found[0]
    assert first.prefill["contact_person"] == w.contact.pk
    assert first.prefill["starts_on"] == "2026-03-11"


def test_suggestions_leave_out_what_is_already_planned_and_answer_open_risks_first(w):
    measure(w, "public_job")
    case = MonitoringCase.objects.get(pk=w.case.pk)
    codes = [s.measure_type.code for s in selectors.plan_for(case, today=datetime.date(2026, 3, 11)).suggestions]
    assert "public_job" not in codes
    # Both risks answered by the public job now: nothing is open, so the order is by purpose.
    assert codes[0] == "medical_aid"


def test_the_measure_criterion_counts_measures_carried_out_only(w):
    day = datetime.date(2026, 3, 11)
    unmet = measure_carried_out(w.case, day)
    assert (unmet.code, unmet.label, unmet.met, unmet.figure) == (
        "measures",
        "至少落实一项帮扶措施",
        False,
        "已落实 0 项",
    )
    measure(w, "public_job", status="planned")
    measure(w, "dibao", status="stopped", stop_reason="不符合条件")
    assert measure_carried_out(w.case, day).met is False
    measure(w, "medical_aid", status="in_progress")
    measure(w, "disability_subsidy", status="done")
    met = measure_carried_out(w.case, day)
    assert (met.met, met.figure) == (True, "已落实 2 项")
