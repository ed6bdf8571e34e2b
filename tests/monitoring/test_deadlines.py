"""Deadlines and notice periods (issue 3 items 4-5; DOMAIN.md §3): discovery → county
determination within a per-county limit (default 15 days, or working days by the Chinese
calendar), days left on every open case, the overdue list, and notices of N (working) days."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households.models import Role
from monitoring import selectors, services, workdays
from monitoring.models import CaseEvent, CountySettings, MonitoringCase, State
from tests import factories as f
from tests.monitoring.cases import APPRAISAL, CST, case_at, commitment_scan, report

pytestmark = pytest.mark.django_db

D = datetime.date


def at(day, hour=10):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=CST), tick=False)


# --- days left -------------------------------------------------------------------------------------


def test_open_case_shows_days_left_to_the_fifteen_day_determination(world):
    case = report(world)  # discovered 1 Mar 2026
    d = selectors.deadline(case, today=D(2026, 3, 10))
    assert (d.date, d.days_left, d.overdue, d.note) == (D(2026, 3, 16), 6, False, "")
    assert selectors.deadline(case, today=D(2026, 3, 16)).days_left == 0
    late = selectors.deadline(case, today=D(2026, 3, 18))
    assert (late.days_left, late.overdue) == (-2, True)
    with at(D(2026, 3, 10)):
        assert selectors.deadline(case).days_left == 6  # today by default


def test_determined_or_ended_cases_have_no_deadline(world):
    monitored = case_at(world, State.MONITORED)
    assert selectors.deadline(monitored) is None
    rejected = report(world, household=f.make_household(world.village_a1))
    with at(D(2026, 3, 3)):
        services.case_transition(
            user=world.village_cadre, case_id=rejected.pk, name="reject", data={"comment": "不符合"}
        )
    assert selectors.deadline(MonitoringCase.objects.get(pk=rejected.pk)) is None


def test_determination_limit_is_a_per_county_setting(world):
    w = world
    CountySettings.objects.create(county=w.county, determination_days=20)
    case = report(w)
    assert selectors.deadline(case, today=D(2026, 3, 10)).date == D(2026, 3, 21)
    other_cadre = f.user_with_role("other_village", Role.VILLAGE_CADRE, area=w.other_village)
    other = services.case_create(
        user=other_cadre,
        household=w.household_other,
        channel="self_declared",
        discovered_on=D(2026, 3, 1),
        reason="申请",
    )
    assert selectors.deadline(other, today=D(2026, 3, 10)).date == D(2026, 3, 16)  # the default elsewhere


def test_determination_in_working_days_skips_weekends_and_public_holidays(world):
    CountySettings.objects.create(county=world.county, determination_days=15, determination_in_working_days=True)
    # Thu 24 Sep 2026; Mid-autumn 25-27 Sep, National Day 1-7 Oct, Sat 10 Oct a make-up working day.
    case = report(world, discovered_on=D(2026, 9, 24))
    d = selectors.deadline(case, today=D(2026, 10, 12))
    assert (d.date, d.days_left, d.note) == (D(2026, 10, 22), 8, "")


def test_a_weekend_past_a_working_day_deadline_is_already_overdue(world):
    CountySettings.objects.create(county=world.county, determination_days=15, determination_in_working_days=True)
    case = report(world, discovered_on=D(2026, 9, 28))  # due Fri 23 Oct
    assert selectors.deadline(case, today=D(2026, 10, 23)).days_left == 0
    saturday = selectors.deadline(case, today=D(2026, 10, 24))  # no working day has passed yet
    assert saturday.date == D(2026, 10, 23) and saturday.overdue and saturday.days_left == -1
    assert selectors.deadline(case, today=D(2026, 10, 26)).days_left == -1
    assert selectors.deadline(case, today=D(2026, 10, 27)).days_left == -2
    assert list(MonitoringCase.objects.filter(selectors.overdue_q(D(2026, 10, 24)))) == [case]
    assert not MonitoringCase.objects.filter(selectors.overdue_q(D(2026, 10, 23))).exists()


def test_beyond_the_holiday_data_working_days_fall_back_to_weekdays_with_a_note(world):
    CountySettings.objects.create(county=world.county, determination_days=15, determination_in_working_days=True)
    case = report(world, discovered_on=D(2026, 12, 24))
    d = selectors.deadline(case, today=D(2026, 12, 28))
    # Fri 1 Jan 2027 counts as a weekday: the 2027 holidays are not in the data yet.
    assert d.date == D(2027, 1, 14)
    assert d.note == "2027年节假日安排尚未收录，按周一至周五计算工作日，请人工核对。"
    assert selectors.deadline(case, today=D(2027, 1, 20)).overdue


# --- overdue list ------------------------------------------------------------------------------------


def _report_many(w, county, discoveries):
    """One case per discovery date, each in a fresh household of the county's first village."""
    if county == w.county:
        village, cadre = w.village_a1, w.village_cadre
    else:
        village = w.other_village
        cadre = f.UserFactory(username="other_village")
        if not cadre.roles.exists():
            f.RoleAssignment.objects.create(user=cadre, role=Role.VILLAGE_CADRE, area=village)
    return [
        services.case_create(
            user=cadre, household=f.make_household(village), channel="cadre_visit", discovered_on=day, reason="风险"
        )
        for day in discoveries
    ]


@pytest.mark.parametrize("working_days", [False, True], ids=["calendar", "working-days"])
@pytest.mark.parametrize("today", [D(2026, 3, 20), D(2026, 10, 12), D(2026, 10, 24), D(2027, 1, 18)])
def test_overdue_list_agrees_with_the_days_left_of_every_case(world, today, working_days):
    w = world
    CountySettings.objects.create(county=w.county, determination_days=15, determination_in_working_days=working_days)
    CountySettings.objects.create(county=w.other_county, determination_days=20)
    days = [today - datetime.timedelta(days=n) for n in range(0, 40, 2)]
    with at(today):  # reported on `today`: no report is dated in the future
        cases = _report_many(w, w.county, days) + _report_many(w, w.other_county, days)

    overdue = set(MonitoringCase.objects.filter(selectors.overdue_q(today)).values_list("pk", flat=True))
    cache = selectors.SettingsCache()
    expected = {c.pk for c in cases if selectors.deadline(c, cache, today).overdue}
    assert overdue == expected
    assert 0 < len(expected) < len(cases)


def test_overdue_list_leaves_out_determined_and_ended_cases(world):
    w = world
    monitored = case_at(w, State.MONITORED)  # discovered 1 Mar
    late_report = report(w, household=f.make_household(w.village_a1))
    overdue = MonitoringCase.objects.filter(selectors.overdue_q(D(2026, 6, 1)))
    assert list(overdue) == [late_report]
    assert monitored not in overdue


def test_overdue_list_is_scoped_by_the_user(world):
    w = world
    case = report(w)
    other_cadre = f.user_with_role("other_village", Role.VILLAGE_CADRE, area=w.other_village)
    services.case_create(
        user=other_cadre,
        household=w.household_other,
        channel="self_declared",
        discovered_on=D(2026, 3, 1),
        reason="申请",
    )
    q = selectors.overdue_q(D(2026, 4, 1))
    assert list(selectors.cases_visible_to(w.county_officer).filter(q)) == [case]
    assert selectors.cases_visible_to(w.admin).filter(q).count() == 2
    assert not selectors.cases_visible_to(w.village_cadre_b).filter(q).exists()


# --- notice periods -----------------------------------------------------------------------------------


def _publish(w, case, start):
    with at(start):
        return services.case_transition(
            user=w.village_cadre,
            case_id=case.pk,
            name="publish_notice",
            data={
                **APPRAISAL,
                "appraisal_on": max(start, case.home_check_on).isoformat(),
                "notice_start": start.isoformat(),
            },
        )


def test_notice_lasts_the_county_setting_in_calendar_days(world):
    w = world
    CountySettings.objects.create(county=w.county, notice_days=7)
    case = _publish(w, case_at(w, State.VILLAGE_APPRAISAL), D(2026, 3, 2))
    assert (case.notice_start, case.notice_end) == (D(2026, 3, 2), D(2026, 3, 8))


@pytest.mark.parametrize(
    "start, end",
    [
        (D(2026, 9, 28), D(2026, 10, 9)),  # Mon: 28, 29, 30 Sep, then 8, 9 Oct after National Day
        (D(2026, 9, 26), D(2026, 10, 9)),  # put up on a holiday: it starts counting on Monday
        (D(2026, 10, 9), D(2026, 10, 14)),  # Fri 9, Sat 10 (make-up working day), 12, 13, 14 Oct
    ],
)
def test_notice_in_working_days_follows_the_chinese_calendar(world, start, end):
    w = world
    CountySettings.objects.create(county=w.county, notice_in_working_days=True)
    case = report(w)
    with at(D(2026, 3, 2)):
        case = services.case_transition(
            user=w.village_cadre,
            case_id=case.pk,
            name="start_appraisal",
            data={"home_check_on": "2026-03-02", "home_checkers": "张三、李四", "commitment_signed_on": "2026-03-02"},
            files={"commitment_scan": commitment_scan()},
        )
    case = _publish(w, case, start)
    assert case.notice_end == end
    event = CaseEvent.objects.get(case=case, action="publish_notice")
    assert event.payload["notice_end"] == end.isoformat() and "notice_note" not in event.payload


def test_notice_beyond_the_holiday_data_records_the_fallback_note(world):
    w = world
    CountySettings.objects.create(county=w.county, notice_in_working_days=True)
    case = report(w)
    with at(D(2027, 2, 5)):
        case = services.case_transition(
            user=w.village_cadre,
            case_id=case.pk,
            name="start_appraisal",
            data={"home_check_on": "2027-02-05", "home_checkers": "张三、李四", "commitment_signed_on": "2027-02-05"},
            files={"commitment_scan": commitment_scan()},
        )
    case = _publish(w, case, D(2027, 2, 5))  # a Friday
    assert case.notice_end == D(2027, 2, 11)  # Fri 5, Mon 8 ... Thu 11, weekdays only
    event = CaseEvent.objects.get(case=case, action="publish_notice")
    assert event.payload["notice_note"] == "2027年节假日安排尚未收录，按周一至周五计算工作日，请人工核对。"


def test_elimination_notice_has_its_own_length(world):
    w = world
    CountySettings.objects.create(county=w.county, elimination_notice_days=7)
    case = case_at(w, State.ELIMINATION_NOTICE)  # published 12 Oct 2026
    assert (case.elimination_notice_start, case.elimination_notice_end) == (D(2026, 10, 12), D(2026, 10, 18))


def test_period_end_counts_the_first_day_and_refuses_empty_periods():
    assert workdays.period_end(D(2026, 3, 2), 1).date == D(2026, 3, 2)
    assert workdays.period_end(D(2026, 10, 8), 1, working_days=True).date == D(2026, 10, 8)
    with pytest.raises(ValueError):
        workdays.period_end(D(2026, 3, 2), 0)


# --- inbox and constant queries ---------------------------------------------------------------------------


def test_inbox_lists_the_cases_waiting_for_each_role(world):
    w = world
    reported = report(w)
    in_town = case_at(w, State.TOWN_REVIEW, household=f.make_household(w.village_a1))
    with at(D(2026, 3, 2)):
        withdrawn = services.case_create(
            user=w.village_cadre_b,
            household=w.household_b1,
            channel="petition",
            discovered_on=D(2026, 3, 1),
            reason="信访反映",
        )
        services.case_transition(
            user=w.village_cadre_b, case_id=withdrawn.pk, name="withdraw", data={"comment": "核实后农户撤回"}
        )
    assert list(selectors.inbox(w.village_cadre)) == [reported]  # town review waits for the town
    assert list(selectors.inbox(w.town_official)) == [in_town]
    assert list(selectors.inbox(w.county_officer)) == []
    assert list(selectors.inbox(w.village_cadre_b)) == []  # withdrawn: nothing waits
    assert list(selectors.inbox(w.admin)) == []  # separation of duties


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def _inbox_with_deadlines(user):
    cache = selectors.SettingsCache()
    return [(c.household.village.county.name, selectors.deadline(c, cache)) for c in selectors.inbox(user)]


def _overdue_with_deadlines(user):
    cache = selectors.SettingsCache()
    rows = selectors.cases_visible_to(user).filter(selectors.overdue_q()).select_related(*selectors.LIST_RELATED)
    return [(c.household.number, selectors.deadline(c, cache)) for c in rows]


@pytest.mark.parametrize("listing", [_inbox_with_deadlines, _overdue_with_deadlines], ids=["inbox", "overdue"])
def test_inbox_and_overdue_list_keep_a_constant_number_of_queries(world, listing, django_assert_max_num_queries):
    w = world
    CountySettings.objects.create(county=w.county, determination_in_working_days=True)
    _report_many(w, w.county, [D(2026, 3, 1)] * 3)
    user = w.village_cadre

    with at(D(2026, 4, 1)):
        user._fanpin_roles = None
        few = _queries(lambda: listing(user))
        assert len(listing(user)) == 3
        _report_many(w, w.county, [D(2026, 3, 1)] * 27)
        user._fanpin_roles = None
        with django_assert_max_num_queries(few):
            rows = listing(user)
        assert len(rows) == 30 and all(d.overdue for _, d in rows)
