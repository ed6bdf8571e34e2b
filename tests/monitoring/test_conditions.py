"""Each condition refuses its step with a clear Chinese message (issue 3; DOMAIN.md §3, §5),
through the service, so the page and the API show exactly that message; nothing changes."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from assistance.models import Measure
from households.models import IncomeRecord, Member
from monitoring import services
from monitoring.conditions import appraisal_recorded
from monitoring.models import CaseEvent, MonitoringCase, MonitoringLine, State
from tests import factories as f
from tests.monitoring.cases import (
    APPRAISAL,
    CST,
    HOME_CHECK,
    T_ELIM,
    T_REPORT,
    T_REVIEW,
    case_at,
    commitment_scan,
    report,
)

pytestmark = pytest.mark.django_db


def refused(user, case, name, data=None, when=T_ELIM, files=None):
    """Take the step, expect a Conflict, check nothing was recorded, return its reasons."""
    events = CaseEvent.objects.filter(case=case).count()
    with time_machine.travel(when, tick=False), pytest.raises(services.Conflict) as exc:
        services.case_transition(user=user, case_id=case.pk, name=name, data=data or {}, files=files)
    assert MonitoringCase.objects.get(pk=case.pk).state == case.state
    assert CaseEvent.objects.filter(case=case).count() == events
    assert exc.value.message.startswith("暂不能执行")
    return exc.value.reasons


# --- identification ----------------------------------------------------------------------------


def test_notice_not_over_refuses_closing_the_notice(world):
    case = case_at(world, State.PUBLIC_NOTICE)  # notice 2 Mar - 6 Mar
    reasons = refused(world.village_cadre, case, "close_notice", when=datetime.datetime(2026, 3, 6, 23, 59, tzinfo=CST))
    assert reasons == ["公示期未满：公示至 2026-03-06，期满后才能进入下一步。"]


def test_open_objection_refuses_closing_the_notice(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    with time_machine.travel(T_REPORT, tick=False):
        services.objection_record(
            user=w.village_cadre,
            case_id=case.pk,
            raised_by="村民王五",
            raised_on=datetime.date(2026, 3, 2),
            content="该户家中有车",
        )
    assert refused(w.village_cadre, case, "close_notice", when=T_REVIEW) == [
        "还有 1 条异议未处理，处理完毕后才能结束公示。"
    ]


def test_no_commitment_refuses_starting_the_appraisal(world):
    case = report(world)
    data = {k: v for k, v in HOME_CHECK.items() if k != "commitment_signed_on"}
    assert refused(world.village_cadre, case, "start_appraisal", data, when=T_REPORT) == [
        "尚未记录农户签署的承诺授权书（签署日期）。"
    ]


@pytest.mark.parametrize("checkers", ["张三", "", "张三、 "])
def test_home_check_by_fewer_than_two_checkers_refuses_starting_the_appraisal(world, checkers):
    case = report(world)
    data = {**HOME_CHECK, "home_checkers": checkers}
    scan = {"commitment_scan": commitment_scan()}
    assert refused(world.village_cadre, case, "start_appraisal", data, when=T_REPORT, files=scan) == [
        "尚未记录入户核实情况（核实日期和至少两名核实人员）。"
    ]


def test_no_home_check_at_all_gives_both_reasons(world):
    case = report(world)
    assert refused(world.village_cadre, case, "start_appraisal", {}, when=T_REPORT) == [
        "尚未记录入户核实情况（核实日期和至少两名核实人员）。",
        "尚未记录农户签署的承诺授权书（签署日期）。",
    ]


def test_two_checkers_separated_by_any_usual_mark_are_enough(world):
    case = report(world)
    with time_machine.travel(T_REPORT, tick=False):
        case = services.case_transition(
            user=world.village_cadre,
            case_id=case.pk,
            name="start_appraisal",
            data={**HOME_CHECK, "home_checkers": "张三，李四"},
            files={"commitment_scan": commitment_scan()},
        )
    assert case.state == State.VILLAGE_APPRAISAL


def test_a_negative_appraisal_ends_the_case_as_rejected_keeping_its_facts(world):
    """Issue 7 point 7 (was: refused, waiting for a separate reject that dropped the minutes)."""
    case = case_at(world, State.VILLAGE_APPRAISAL)
    with time_machine.travel(T_REPORT, tick=False):
        case = services.case_transition(
            user=world.village_cadre,
            case_id=case.pk,
            name="publish_notice",
            data={**APPRAISAL, "appraisal_result": "rejected", "appraisal_minutes": "多数代表认为该户收入稳定"},
        )
    case = MonitoringCase.objects.get(pk=case.pk)
    assert case.state == State.REJECTED
    assert (case.appraisal_on, case.appraisal_attendance, case.appraisal_result) == (
        datetime.date(2026, 3, 2),
        15,
        "rejected",
    )
    assert case.appraisal_minutes == "多数代表认为该户收入稳定" and case.end_reason == "多数代表认为该户收入稳定"
    assert case.notice_start is None and case.ended_on == datetime.date(2026, 3, 2)
    event = CaseEvent.objects.get(case=case, action="publish_notice")
    assert (event.from_state, event.to_state, event.label) == (
        State.VILLAGE_APPRAISAL,
        State.REJECTED,
        "民主评议不同意纳入，不予纳入",
    )
    assert event.payload["appraisal_attendance"] == 15 and "notice_start" not in event.payload
    # The model's own guard, whatever calls it: an appraisal must be on record.
    blank = MonitoringCase(appraisal_result="")
    assert not appraisal_recorded(blank)
    assert appraisal_recorded.explain(blank) == "尚未记录民主评议（日期、参会人数、结果）。"


def test_missing_appraisal_minutes_are_field_errors(world):
    case = case_at(world, State.VILLAGE_APPRAISAL)
    with time_machine.travel(T_REPORT, tick=False), pytest.raises(ValidationError) as exc:
        services.case_transition(user=world.village_cadre, case_id=case.pk, name="publish_notice", data={})
    assert {"appraisal_on", "appraisal_attendance", "appraisal_result", "appraisal_minutes"} <= set(
        exc.value.message_dict
    )


# --- elimination (DOMAIN.md §5) ------------------------------------------------------------------


@pytest.fixture
def monitored(world):
    """A monitored case (determined 9 Mar 2026) meeting every elimination criterion."""
    w = world
    case = case_at(w, State.MONITORED)
    MonitoringLine.objects.create(county=w.county, year=2025, amount=Decimal("7800"))
    MonitoringLine.objects.create(county=w.county, year=2026, amount=Decimal("8000"))
    w.income_before = f.make_income(w.household_a1, year=2025, wage_income=45000)  # 15,000 per person
    w.income = f.make_income(w.household_a1, year=2026, wage_income=60000)  # 20,000 per person
    w.measure = Measure.objects.create(case=case, measure_type_id="medical_aid", status=Measure.Status.DONE)
    return case


def propose_refused(w, case, when=T_ELIM):
    reasons = refused(w.village_cadre, case, "propose_elimination", when=when)
    assert len(reasons) == 1
    return reasons[0]


def test_all_criteria_met_allows_proposing_elimination(world, monitored):
    with time_machine.travel(T_ELIM, tick=False):
        criteria = monitored.elimination_criteria()
        assert [(c.code, c.met) for c in criteria] == [
            ("months", True),
            ("measures", True),
            ("income", True),
            ("rigid", True),
            ("security", True),
        ]
        case = services.case_transition(
            user=world.village_cadre, case_id=monitored.pk, name="propose_elimination", data={}
        )
    assert case.state == State.ELIMINATION_APPRAISAL


def test_under_six_months_refuses_elimination(world, monitored):
    message = propose_refused(world, monitored, when=datetime.datetime(2026, 9, 8, 10, tzinfo=CST))
    assert message == "风险消除条件未全部满足：认定满 6 个月（2026-03-09 认定，已 5 个月）。"


def test_no_measure_carried_out_refuses_elimination(world, monitored):
    world.measure.status = Measure.Status.PLANNED
    world.measure.save()
    assert propose_refused(world, monitored) == "风险消除条件未全部满足：至少落实一项帮扶措施（已落实 0 项）。"


def test_income_below_the_monitoring_line_refuses_elimination(world, monitored):
    IncomeRecord.objects.filter(pk=world.income.pk).update(per_capita_net_income=Decimal("7000.00"))
    assert propose_refused(world, monitored) == (
        "风险消除条件未全部满足：人均纯收入稳定高于监测线（2026 年人均 7000.00 元，监测线 8000.00 元；"
        "2025 年人均 15000.00 元，监测线 7800.00 元）。"
    )


def _month(household, month, per_capita):
    return IncomeRecord.objects.create(
        household=household,
        year=2026,
        month=month,
        wage_income=per_capita * 3,
        total_net_income=per_capita * 3,
        household_size=3,
        per_capita_net_income=per_capita,
    )


def test_one_good_year_after_a_poor_one_is_not_stable_without_six_good_months(world, monitored):
    """Issue 7 point 5: the year before was 3,813 per person against a 7,800 line."""
    IncomeRecord.objects.filter(pk=world.income_before.pk).update(per_capita_net_income=Decimal("3813.00"))
    assert propose_refused(world, monitored) == (
        "风险消除条件未全部满足：人均纯收入稳定高于监测线（2026 年人均 20000.00 元，监测线 8000.00 元；"
        "2025 年人均 3813.00 元，监测线 7800.00 元；近 6 个月中6 个月无月度收入记录）。"
    )
    for month in range(4, 10):  # April to September, before the October proposal
        _month(world.household_a1, month, Decimal("700.00"))
    low = IncomeRecord.objects.get(household=world.household_a1, month=8)
    low.per_capita_net_income = Decimal("100.00")
    low.save()
    assert propose_refused(world, monitored).endswith("近 6 个月中1 个月低于监测线月均值 666.67 元）。")
    low.per_capita_net_income = Decimal("700.00")
    low.save()
    with time_machine.travel(T_ELIM, tick=False):
        case = services.case_transition(
            user=world.village_cadre, case_id=monitored.pk, name="propose_elimination", data={}
        )
    assert case.state == State.ELIMINATION_APPRAISAL
    income = next(c for c in case.elimination_criteria(datetime.date(2026, 10, 12)) if c.code == "income")
    assert income.figure.endswith("近 6 个月月人均收入均高于监测线月均值 666.67 元")


def test_no_monitoring_line_for_the_year_refuses_elimination(world, monitored):
    MonitoringLine.objects.all().delete()
    assert propose_refused(world, monitored) == (
        "风险消除条件未全部满足：人均纯收入稳定高于监测线（2026 年监测线未设置）；"
        "大额刚性支出已解决（2026 年家庭纯收入 60000.00 元，刚性支出 0.00 元，扣除后人均 20000.00 元，"
        "2026 年监测线未设置）。"
    )


def test_rigid_expenditure_above_income_refuses_elimination(world, monitored):
    IncomeRecord.objects.filter(pk=world.income.pk).update(medical_expense=Decimal("80000"))
    assert propose_refused(world, monitored) == (
        "风险消除条件未全部满足：大额刚性支出已解决（2026 年家庭纯收入 60000.00 元，刚性支出 80000.00 元，"
        "扣除后人均 -6666.67 元，监测线 8000.00 元）。"
    )


def test_rigid_spending_just_under_income_is_not_resolved(world, monitored):
    """Issue 7 point 5: 29,500 元 of rigid spending against 30,000 元 income counted as resolved."""
    IncomeRecord.objects.filter(pk=world.income.pk).update(
        total_net_income=Decimal("30000"), per_capita_net_income=Decimal("10000"), medical_expense=Decimal("29500")
    )
    assert propose_refused(world, monitored) == (
        "风险消除条件未全部满足：大额刚性支出已解决（2026 年家庭纯收入 30000.00 元，刚性支出 29500.00 元，"
        "扣除后人均 166.67 元，监测线 8000.00 元）。"
    )


def test_a_two_worries_three_guarantees_problem_refuses_elimination(world, monitored):
    household = world.household_a1
    household.housing_secure = False
    household.water_secure = False
    household.save()
    assert propose_refused(world, monitored) == (
        "风险消除条件未全部满足：“两不愁三保障”及饮水安全有保障（未保障：住房安全、饮水安全）。"
    )


def test_several_unmet_criteria_are_all_listed(world, monitored):
    Measure.objects.filter(pk=world.measure.pk).update(status=Measure.Status.STOPPED)  # never deleted
    world.household_a1.medical_secure = False
    world.household_a1.save()
    message = propose_refused(world, monitored)
    assert "至少落实一项帮扶措施（已落实 0 项）" in message and "基本医疗" in message


def test_no_labour_capacity_refuses_elimination_and_keeps_tracking(world, monitored):
    world.household_a1.members.update(labour_capacity=Member.Labour.LOST)
    reasons = refused(world.village_cadre, monitored, "propose_elimination")
    assert reasons == ["该户没有劳动能力成员：落实兜底保障措施后不标注风险消除，继续跟踪监测。"]


def test_labour_capacity_counts_only_members_still_living_there(world, monitored):
    members = list(world.household_a1.members.order_by("id"))
    Member.objects.filter(pk__in=[m.pk for m in members[1:]]).update(labour_capacity=Member.Labour.NONE)
    Member.objects.filter(pk=members[0].pk).update(status=Member.Status.DECEASED)
    assert refused(world.village_cadre, monitored, "propose_elimination")[0].startswith("该户没有劳动能力成员")
    Member.objects.filter(pk=members[1].pk).update(labour_capacity=Member.Labour.WEAK)
    with time_machine.travel(T_ELIM, tick=False):
        case = services.case_transition(
            user=world.village_cadre, case_id=monitored.pk, name="propose_elimination", data={}
        )
    assert case.state == State.ELIMINATION_APPRAISAL


def test_unmet_criteria_disable_the_offered_action_with_the_reason(world, monitored):
    Measure.objects.filter(pk=world.measure.pk).update(status=Measure.Status.STOPPED)  # never deleted
    with time_machine.travel(T_ELIM, tick=False):
        actions = {a.name: a for a in services.actions_for(monitored, world.village_cadre)}
    assert not actions["propose_elimination"].enabled
    assert actions["propose_elimination"].reasons == ["风险消除条件未全部满足：至少落实一项帮扶措施（已落实 0 项）。"]
    assert "propose_elimination" not in services.available_transitions(monitored, world.village_cadre)


def test_the_notice_cannot_go_out_without_a_category_and_a_reason(world):
    case = case_at(world, State.VILLAGE_APPRAISAL)
    data = {k: v for k, v in APPRAISAL.items() if k not in ("category", "primary_risk")}
    with time_machine.travel(T_REPORT, tick=False), pytest.raises(ValidationError) as exc:
        services.case_transition(user=world.village_cadre, case_id=case.pk, name="publish_notice", data=data)
    assert exc.value.message_dict["category"] == ["请选择拟纳入类别（公示名单要列出）。"]
    assert exc.value.message_dict["primary_risk"] == ["请选择主要风险类型（公示名单中的纳入原因）。"]
    assert MonitoringCase.objects.get(pk=case.pk).state == State.VILLAGE_APPRAISAL


def test_a_category_and_risk_given_at_the_report_need_not_be_repeated_for_the_notice(world):
    case = case_at(world, State.VILLAGE_APPRAISAL)
    MonitoringCase.objects.filter(pk=case.pk).update(category="edge", primary_risk="education")
    data = {k: v for k, v in APPRAISAL.items() if k not in ("category", "primary_risk")}
    with time_machine.travel(T_REPORT, tick=False):
        case = services.case_transition(user=world.village_cadre, case_id=case.pk, name="publish_notice", data=data)
    assert (case.state, case.category, case.primary_risk) == (State.PUBLIC_NOTICE, "edge", "education")
