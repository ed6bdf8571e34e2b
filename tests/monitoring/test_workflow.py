"""The monitoring workflow through the service layer (issue 3 items 1-3; DOMAIN.md §3)."""

import datetime
import pathlib
import re

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from monitoring import services
from monitoring.models import CaseEvent, MonitoringCase, State
from tests import factories as f
from tests.monitoring.cases import (
    APPRAISAL,
    COUNTY_APPROVAL,
    CST,
    HOME_CHECK,
    PATH,
    PATH_EVENTS,
    REASON,
    T_ELIM,
    T_ELIM_REVIEW,
    T_LATE,
    T_REPORT,
    T_REVIEW,
    case_at,
    commitment_scan,
    dissolve,
    make_eligible,
    record_comparison,
    report,
)

pytestmark = pytest.mark.django_db


def step(user, case, name, data=None, files=None):
    return services.case_transition(user=user, case_id=case.pk, name=name, data=data or {}, files=files)


def test_whole_path_from_report_to_elimination_by_the_role_acting_at_each_step(world):
    w = world
    case = report(w)
    assert case.state == State.REPORTED and case.reported_by == w.village_cadre

    with time_machine.travel(T_REPORT, tick=False):
        case = step(w.village_cadre, case, "start_appraisal", HOME_CHECK, files={"commitment_scan": commitment_scan()})
        assert case.state == State.VILLAGE_APPRAISAL
        assert case.home_checkers == "张三、李四" and case.commitment_signed_on == datetime.date(2026, 3, 2)
        case = step(
            w.village_cadre,
            case,
            "publish_notice",
            {
                "appraisal_on": "2026-03-02",
                "appraisal_attendance": 15,
                "appraisal_result": "approved",
                "appraisal_minutes": "一致同意",
                "notice_start": "2026-03-02",
                "category": "sudden",
                "primary_risk": "illness",
            },
        )
        assert case.state == State.PUBLIC_NOTICE
        # Default five calendar days, the first day included.
        assert (case.notice_start, case.notice_end) == (datetime.date(2026, 3, 2), datetime.date(2026, 3, 6))

    with (
        time_machine.travel(datetime.datetime(2026, 3, 6, 18, tzinfo=CST), tick=False),
        pytest.raises(services.Conflict),
    ):
        step(w.village_cadre, case, "close_notice")

    with time_machine.travel(T_REVIEW, tick=False):
        case = step(w.village_cadre, case, "close_notice")
        assert case.state == State.TOWN_REVIEW
        case = step(w.town_official, case, "town_approve", {"comment": "经乡镇核查属实"})
        assert case.state == State.COUNTY_REVIEW
        assert case.town_reviewed_on == datetime.date(2026, 3, 9) and case.town_review_note == "经乡镇核查属实"
        record_comparison(w, case)
        case = step(
            w.county_officer,
            case,
            "county_approve",
            {**COUNTY_APPROVAL, "secondary_risks": ["disability", "illness"], "determined_on": "2026-03-09"},
        )
        assert case.state == State.MONITORED
        assert case.category == "sudden" and case.primary_risk == "illness"
        assert case.secondary_risks == ["disability"]  # the primary risk is not repeated
        assert case.determined_on == datetime.date(2026, 3, 9)  # not before the town review (issue 7 point 2)
        assert case.document_number == "示乡振〔2026〕3号"
        assert case.risk_types() == ["因病", "因残"]

    make_eligible(w, case)
    with time_machine.travel(T_ELIM, tick=False):
        case = step(w.village_cadre, case, "propose_elimination")
        assert case.state == State.ELIMINATION_APPRAISAL
        assert case.elimination_appraisal_on == datetime.date(2026, 10, 12)
        case = step(w.village_cadre, case, "publish_elimination_notice")
        assert case.state == State.ELIMINATION_NOTICE
        assert case.elimination_notice_end == datetime.date(2026, 10, 16)
        with pytest.raises(services.Conflict):
            step(w.village_cadre, case, "close_elimination_notice")

    with time_machine.travel(T_ELIM_REVIEW, tick=False):
        case = step(w.village_cadre, case, "close_elimination_notice")
        assert case.state == State.ELIMINATION_TOWN_REVIEW
        case = step(w.town_official, case, "town_accept_elimination", {"comment": "验收合格"})
        assert case.state == State.ELIMINATION_COUNTY_REVIEW
        assert case.elimination_accepted_on == datetime.date(2026, 10, 19)
        case = step(w.county_officer, case, "county_approve_elimination", {"reason": "stable"})

    case = MonitoringCase.objects.get(pk=case.pk)
    assert case.state == State.ELIMINATED and not case.is_open
    assert case.eliminated_on == datetime.date(2026, 10, 19) and case.elimination_reason == "stable"


def test_audit_trail_has_one_event_per_action_with_actor_states_comment_and_payload(world):
    w = world
    case = case_at(w, State.ELIMINATED)
    events = list(CaseEvent.objects.filter(case=case).order_by("at", "id"))

    assert [e.action for e in events] == PATH_EVENTS
    assert events[0].actor == w.village_cadre and events[0].to_state == State.REPORTED
    assert events[0].comment == "户主突发大病，医疗支出大"
    previous = State.REPORTED
    steps = [e for e in events[1:] if e.action != "asset_comparison"]
    comparison = next(e for e in events if e.action == "asset_comparison")
    assert comparison.actor == w.county_officer and comparison.label == "信息比对：未发现财产信息"
    assert (comparison.from_state, comparison.to_state) == (State.COUNTY_REVIEW, State.COUNTY_REVIEW)
    for event, (reached, name, actor, _) in zip(steps, PATH, strict=True):
        assert event.actor == getattr(w, actor), name
        assert (event.from_state, event.to_state) == (previous, reached), name
        assert event.label and event.is_transition
        previous = reached
    by_action = {e.action: e for e in events}
    assert by_action["town_approve"].comment == "经乡镇核查属实"
    assert by_action["county_approve"].payload["document_number"] == "示乡振〔2026〕3号"
    assert by_action["county_approve"].payload["secondary_risks"] == ["disability"]
    assert by_action["publish_notice"].payload["notice_end"] == "2026-03-06"
    assert by_action["start_appraisal"].payload["home_checkers"] == "张三、李四"
    assert by_action["county_approve_elimination"].payload["reason"] == "stable"


def test_an_attachment_on_a_step_is_stored_with_its_event(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    w = world
    case = case_at(w, State.TOWN_REVIEW)
    scan = f.pdf_upload("核查记录.pdf")
    sent = scan.read()
    scan.seek(0)
    with time_machine.travel(T_REVIEW, tick=False):
        step(w.town_official, case, "town_approve", {"comment": "属实"}, files={"attachment": scan})
    event = CaseEvent.objects.get(case=case, action="town_approve")
    assert event.attachment.name.startswith("case-events/")
    with event.attachment.open("rb") as stored:
        assert stored.read() == sent
    assert "attachment" not in event.payload


def test_commitment_scan_is_stored_on_the_case(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    w = world
    case = report(w)
    scan = f.jpeg_upload("承诺书.jpg")
    with time_machine.travel(T_REPORT, tick=False):
        case = step(w.village_cadre, case, "start_appraisal", HOME_CHECK, files={"commitment_scan": scan})
    assert MonitoringCase.objects.get(pk=case.pk).commitment_scan.read().startswith(b"\xff\xd8\xff")  # re-encoded JPEG


# --- returns -----------------------------------------------------------------------------------


def test_town_return_sends_the_case_back_to_the_village_appraisal_with_a_reason(world):
    w = world
    case = case_at(w, State.TOWN_REVIEW)
    with time_machine.travel(T_REVIEW, tick=False):
        with pytest.raises(ValidationError) as exc:
            step(w.town_official, case, "town_return", {"comment": "  "})
        assert exc.value.message_dict == {"comment": ["请填写原因。"]}
        case = step(w.town_official, case, "town_return", {"comment": "核实人员不足"})
    assert case.state == State.VILLAGE_APPRAISAL
    # The appraisal must be held again, and a new notice published.
    assert case.notice_end is None and case.appraisal_result == ""
    event = case.events.get(action="town_return")
    assert (event.from_state, event.to_state, event.comment) == (
        State.TOWN_REVIEW,
        State.VILLAGE_APPRAISAL,
        "核实人员不足",
    )


def test_county_return_sends_the_case_back_to_the_town(world):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    with time_machine.travel(T_REVIEW, tick=False):
        with pytest.raises(ValidationError):
            step(w.county_officer, case, "county_return", {})
        case = step(w.county_officer, case, "county_return", {"comment": "收入核算有误"})
    assert case.state == State.TOWN_REVIEW
    assert case.events.get(action="county_return").actor == w.county_officer


@pytest.mark.parametrize(
    "state, actor",
    [
        (State.ELIMINATION_APPRAISAL, "village_cadre"),
        (State.ELIMINATION_NOTICE, "village_cadre"),
        (State.ELIMINATION_TOWN_REVIEW, "town_official"),
        (State.ELIMINATION_COUNTY_REVIEW, "county_officer"),
    ],
)
def test_elimination_return_from_each_elimination_step_goes_back_to_monitoring(world, state, actor):
    w = world
    case = case_at(w, state)
    with time_machine.travel(T_LATE, tick=False):
        with pytest.raises(ValidationError):
            step(getattr(w, actor), case, "elimination_return", {})
        case = step(getattr(w, actor), case, "elimination_return", {"comment": "收入尚不稳定"})
    assert case.state == State.MONITORED
    assert case.elimination_notice_end is None and case.elimination_accepted_on is None
    assert case.determined_on == datetime.date(2026, 3, 9)  # the determination stands
    event = case.events.get(action="elimination_return")
    assert (event.from_state, event.actor, event.comment) == (state, getattr(w, actor), "收入尚不稳定")


# --- endings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state, actor",
    [
        (State.REPORTED, "village_cadre"),
        (State.VILLAGE_APPRAISAL, "village_cadre"),
        (State.PUBLIC_NOTICE, "village_cadre"),
        (State.TOWN_REVIEW, "town_official"),
        (State.COUNTY_REVIEW, "county_officer"),
    ],
)
def test_reject_from_each_identification_step_by_the_role_acting_there_needs_a_reason(world, state, actor):
    w = world
    case = case_at(w, state)
    user = getattr(w, actor)
    with time_machine.travel(T_LATE, tick=False):
        with pytest.raises(ValidationError) as exc:
            step(user, case, "reject", {})
        assert "comment" in exc.value.message_dict
        assert MonitoringCase.objects.get(pk=case.pk).state == state
        case = step(user, case, "reject", {"comment": "家庭收入高于监测线"})
    assert case.state == State.REJECTED and not case.is_open
    assert case.end_reason == "家庭收入高于监测线" and case.ended_on == T_LATE.date()
    assert case.events.get(action="reject").actor == user


@pytest.mark.parametrize(
    "state", [State.REPORTED, State.VILLAGE_APPRAISAL, State.PUBLIC_NOTICE, State.TOWN_REVIEW, State.COUNTY_REVIEW]
)
def test_village_cadre_withdraws_a_report_before_monitoring_with_a_reason(world, state):
    w = world
    case = case_at(w, state)
    with time_machine.travel(T_LATE, tick=False):
        with pytest.raises(ValidationError):
            step(w.village_cadre, case, "withdraw", {})
        case = step(w.village_cadre, case, "withdraw", {"comment": "农户主动撤回申请"})
    assert case.state == State.WITHDRAWN and case.end_reason == "农户主动撤回申请"


def test_withdraw_is_not_possible_once_monitored(world):
    w = world
    case = case_at(w, State.MONITORED)
    with pytest.raises(services.Conflict) as exc:
        step(w.village_cadre, case, "withdraw", REASON)
    assert "监测帮扶中" in exc.value.message


def test_county_officer_closes_a_monitored_case_with_a_reason(world):
    w = world
    case = case_at(w, State.MONITORED)
    with time_machine.travel(T_LATE, tick=False):
        with pytest.raises(ValidationError):
            step(w.county_officer, case, "close", {})
        dissolve(case.household)
        case = step(w.county_officer, case, "close", {"comment": "户内人员均已迁出"})
    assert case.state == State.CLOSED and case.get_state_display() == "自然减少"
    assert case.end_reason == "户内人员均已迁出" and case.ended_on == T_LATE.date()


def test_ended_cases_take_no_more_steps(world):
    w = world
    case = case_at(w, State.ELIMINATED)
    for name in ("close", "propose_elimination", "elimination_return", "reject"):
        with pytest.raises(services.Conflict):
            step(w.county_officer, case, name, REASON)
    assert case.events.count() == len(PATH_EVENTS)


# --- invariants ----------------------------------------------------------------------------------


def test_state_cannot_be_assigned_directly(world):
    case = report(world)
    with pytest.raises(AttributeError):
        case.state = State.MONITORED
    case = MonitoringCase.objects.get(pk=case.pk)
    with pytest.raises(AttributeError):
        case.state = State.MONITORED
    assert MonitoringCase.objects.get(pk=case.pk).state == State.REPORTED


def test_no_code_moves_state_behind_the_transitions():
    """A case never changes state except through a transition: no queryset update, bulk
    update or attribute assignment of `state` anywhere in the application code."""
    root = pathlib.Path(django_settings.BASE_DIR)
    offenders = []
    patterns = [
        re.compile(r"\.update\([^)]*\bstate\s*="),
        re.compile(r"bulk_update\([^)]*[\"']state[\"']"),
        re.compile(r"\bcase\w*\.state\s*=(?!=)"),
        # A save naming `state` in its fields, on a case (other records, such as declarations,
        # have plain states of their own, changed in their services).
        re.compile(r"\bcase\w*\.save\(update_fields=\[[^\]]*[\"']state[\"']"),
    ]
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if parts[0] in (".venv", "tests", "node_modules") or "migrations" in parts:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            offenders += [f"{path.relative_to(root)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert offenders == []


def test_one_open_case_per_household(world):
    w = world
    case = report(w)
    with pytest.raises(ValidationError) as exc:
        report(w)
    assert exc.value.message_dict["household"] == ["该户已有进行中的监测对象记录，不能重复申报。"]
    # The database itself refuses a second open case, whatever the code path.
    with pytest.raises(IntegrityError), transaction.atomic():
        MonitoringCase.objects.create(
            household=w.household_a1, channel="cadre_visit", discovered_on=datetime.date(2026, 3, 1), reason="重复"
        )
    with time_machine.travel(T_REPORT, tick=False):
        step(w.village_cadre, case, "reject", {"comment": "不符合条件"})
    # An ended case does not block a new one: the full procedure runs again.
    again = report(w)
    assert again.state == State.REPORTED and w.household_a1.cases.count() == 2


def test_a_household_is_reported_again_after_its_risk_was_eliminated(world):
    w = world
    case_at(w, State.ELIMINATED)
    new = report(w, discovered_on=datetime.date(2026, 10, 20))
    assert new.state == State.REPORTED
    assert list(w.household_a1.cases.order_by("id").values_list("state", flat=True)) == [
        State.ELIMINATED,
        State.REPORTED,
    ]


def test_only_the_village_cadre_of_the_village_reports_a_case(world):
    w = world
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    for user in (w.town_official, w.county_officer, w.admin):
        with pytest.raises(PermissionDenied):
            services.case_create(
                user=user,
                household=w.household_a1,
                channel="self_declared",
                discovered_on=datetime.date(2026, 3, 1),
                reason="申请",
            )
    for user in (w.village_cadre_b, w.department_staff, w.nobody):
        with pytest.raises(Http404):
            services.case_create(
                user=user,
                household=w.household_a1,
                channel="self_declared",
                discovered_on=datetime.date(2026, 3, 1),
                reason="申请",
            )
    assert not MonitoringCase.objects.exists()


def test_a_step_from_the_wrong_state_is_a_conflict_that_records_nothing(world):
    w = world
    case = report(w)
    with pytest.raises(services.Conflict) as exc:
        step(w.county_officer, case, "county_approve", COUNTY_APPROVAL)
    assert exc.value.message.startswith("当前状态为“已申报”，不能执行“县级认定”")
    assert case.events.count() == 1


def test_an_unknown_or_internal_step_name_is_refused(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    for name in ("approve_everything", "return_for_recheck", "save"):
        with pytest.raises(ValidationError) as exc:
            step(w.village_cadre, case, name, REASON)
        assert "transition" in exc.value.message_dict
    assert MonitoringCase.objects.get(pk=case.pk).state == State.PUBLIC_NOTICE


def test_county_approval_needs_its_data(world):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    with time_machine.travel(T_REVIEW, tick=False):
        with pytest.raises(ValidationError) as exc:
            step(w.county_officer, case, "county_approve", {})
        assert set(exc.value.message_dict) == {"category", "primary_risk", "document_number"}
        with pytest.raises(ValidationError) as exc:
            step(w.county_officer, case, "county_approve", {**COUNTY_APPROVAL, "determined_on": "2026-02-27"})
        assert exc.value.message_dict == {"determined_on": ["认定日期不能早于发现日期（2026-03-01）。"]}
        with pytest.raises(ValidationError) as exc:
            step(w.county_officer, case, "county_approve", {**COUNTY_APPROVAL, "secondary_risks": ["other"]})
        assert exc.value.message_dict == {"risk_note": ["风险类型选择了“其他”，请说明具体风险。"]}
        case = step(
            w.county_officer,
            case,
            "county_approve",
            {**COUNTY_APPROVAL, "secondary_risks": ["other"], "risk_note": "子女务工受伤"},
        )
    assert case.state == State.MONITORED and case.risk_note == "子女务工受伤"
    assert case.risk_types() == ["因病", "其他"]


def test_negative_appraisal_ends_the_case_as_rejected_in_the_same_step(world):
    """Issue 7 point 7 (the rule was: refused, then a separate reject)."""
    w = world
    case = case_at(w, State.VILLAGE_APPRAISAL)
    with time_machine.travel(T_REPORT, tick=False):
        case = step(
            w.village_cadre,
            case,
            "publish_notice",
            {
                "appraisal_on": "2026-03-02",
                "appraisal_attendance": 15,
                "appraisal_result": "rejected",
                "appraisal_minutes": "多数不同意",
                "comment": "民主评议未通过",
            },
        )
    assert case.state == State.REJECTED
    assert case.end_reason == "民主评议未通过" and case.appraisal_minutes == "多数不同意"


def test_contact_person_may_propose_elimination(world):
    w = world
    contact = f.UserFactory(username="contact")
    case = case_at(w, State.MONITORED, contact_person=contact)
    make_eligible(w, case)
    with time_machine.travel(T_ELIM, tick=False):
        case = step(contact, case, "propose_elimination")
    assert case.state == State.ELIMINATION_APPRAISAL
    assert case.events.get(action="propose_elimination").actor == contact


def test_a_case_can_go_round_the_returns_and_still_reach_monitoring(world):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    with time_machine.travel(T_REVIEW, tick=False):
        case = step(w.county_officer, case, "county_return", {"comment": "补充材料"})
        case = step(w.town_official, case, "town_return", {"comment": "重新评议"})
        assert case.state == State.VILLAGE_APPRAISAL
        case = step(w.village_cadre, case, "publish_notice", {**APPRAISAL, "notice_start": "2026-03-09"})
        assert case.notice_end == datetime.date(2026, 3, 13)
    with time_machine.travel(datetime.datetime(2026, 3, 16, 9, tzinfo=CST), tick=False):
        case = step(w.village_cadre, case, "close_notice")
        case = step(w.town_official, case, "town_approve", {"comment": "属实"})
        case = step(w.county_officer, case, "county_approve", COUNTY_APPROVAL)
    assert case.state == State.MONITORED and case.determined_on == datetime.date(2026, 3, 16)
    actions = list(case.events.order_by("id").values_list("action", flat=True))
    assert actions == [
        "report",
        "start_appraisal",
        "publish_notice",
        "close_notice",
        "town_approve",
        "asset_comparison",  # recorded at the first county review, still valid after the returns
        "county_return",
        "town_return",
        "publish_notice",
        "close_notice",
        "town_approve",
        "county_approve",
    ]
