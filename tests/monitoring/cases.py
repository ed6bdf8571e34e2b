"""Builders for monitoring-case tests: cases driven to any state through the services (never
by setting `state`), on a fixed calendar so notice periods and the six-month rule hold."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from assistance.models import Measure
from households.models import Role
from monitoring import services
from monitoring.models import MonitoringLine, State
from tests import factories as f

CST = ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE: dates in the workflow are local dates

# A Monday in March 2026: report, home check, appraisal, notice 2 Mar - 6 Mar.
T_REPORT = datetime.datetime(2026, 3, 2, 10, tzinfo=CST)
# After the notice: town and county review; determination on 9 Mar.
T_REVIEW = datetime.datetime(2026, 3, 9, 10, tzinfo=CST)
# Seven months later: proposal, elimination notice 12 Oct - 16 Oct.
T_ELIM = datetime.datetime(2026, 10, 12, 10, tzinfo=CST)
T_ELIM_REVIEW = datetime.datetime(2026, 10, 19, 10, tzinfo=CST)
# Later than every step: any condition about time holds.
T_LATE = datetime.datetime(2026, 10, 26, 10, tzinfo=CST)

DISCOVERED = datetime.date(2026, 3, 1)

HOME_CHECK = {
    "home_check_on": "2026-03-02",
    "home_checkers": "张三、李四",
    "home_check_note": "情况属实",
    "commitment_signed_on": "2026-03-02",
}
APPRAISAL = {
    "appraisal_on": "2026-03-02",
    "appraisal_attendance": 15,
    "appraisal_result": "approved",
    "appraisal_minutes": "参会群众一致同意纳入",
    "notice_start": "2026-03-02",
    "category": "sudden",
    "primary_risk": "illness",
}
COUNTY_APPROVAL = {
    "category": "sudden",
    "primary_risk": "illness",
    "secondary_risks": ["disability"],
    "document_number": "示乡振〔2026〕3号",
}
REASON = {"comment": "经核实情况不符"}

# Who normally takes each step, the data it needs, and when (see the times above).
STEP_DATA = {
    "start_appraisal": HOME_CHECK,
    "publish_notice": APPRAISAL,
    "close_notice": {},
    "town_approve": {"comment": "经乡镇核查属实"},
    "county_approve": COUNTY_APPROVAL,
    "propose_elimination": {},
    "publish_elimination_notice": {},
    "close_elimination_notice": {},
    "town_accept_elimination": {"comment": "验收合格"},
    "county_approve_elimination": {"reason": "stable"},
    "town_return": REASON,
    "county_return": REASON,
    "elimination_return": REASON,
    "reject": REASON,
    "withdraw": REASON,
    "close": {"comment": "户内人员均已迁出"},
}

PATH = [  # (state reached, step taken to reach it, actor, time)
    (State.VILLAGE_APPRAISAL, "start_appraisal", "village_cadre", T_REPORT),
    (State.PUBLIC_NOTICE, "publish_notice", "village_cadre", T_REPORT),
    (State.TOWN_REVIEW, "close_notice", "village_cadre", T_REVIEW),
    (State.COUNTY_REVIEW, "town_approve", "town_official", T_REVIEW),
    (State.MONITORED, "county_approve", "county_officer", T_REVIEW),
    (State.ELIMINATION_APPRAISAL, "propose_elimination", "village_cadre", T_ELIM),
    (State.ELIMINATION_NOTICE, "publish_elimination_notice", "village_cadre", T_ELIM),
    (State.ELIMINATION_TOWN_REVIEW, "close_elimination_notice", "village_cadre", T_ELIM_REVIEW),
    (State.ELIMINATION_COUNTY_REVIEW, "town_accept_elimination", "town_official", T_ELIM_REVIEW),
    (State.ELIMINATED, "county_approve_elimination", "county_officer", T_ELIM_REVIEW),
]
ORDER = [State.REPORTED] + [state for state, *_ in PATH]
# The timeline of a case taken along PATH by `advance`: each step, and the county's asset
# comparison (信息比对) recorded once the case is at county review.
PATH_EVENTS = ["report"] + [
    action for _, name, _, _ in PATH for action in ([name, "asset_comparison"] if name == "town_approve" else [name])
]


def add_users(w):
    """Users the shared world lacks: an official of the other town, an officer of the
    neighbouring county and a contact person (帮扶联系人) with no area role."""
    w.town_official_b = f.user_with_role("town_b", Role.TOWN_OFFICIAL, area=w.town_b)
    w.other_county_officer = f.user_with_role("other_county", Role.COUNTY_OFFICER, area=w.other_county)
    w.contact = f.UserFactory(username="contact")
    return w


def make_eligible(w, case, income=60000):
    """What the elimination criteria need (DOMAIN.md §5): monitoring lines, an income well
    above them this year and the year before, and a measure carried out."""
    MonitoringLine.objects.get_or_create(county=w.county, year=2025, defaults={"amount": Decimal("7800")})
    MonitoringLine.objects.get_or_create(county=w.county, year=2026, defaults={"amount": Decimal("8000")})
    # Stable: this year and the year before above their lines (issue 7 point 5).
    f.make_income(case.household, year=2025, wage_income=income)
    f.make_income(case.household, year=2026, wage_income=income)
    Measure.objects.create(case=case, measure_type_id="medical_aid", status=Measure.Status.DONE)


def dissolve(household):
    """Registry facts that dissolve a household (every member moved out): what 自然减少 needs."""
    from households.models import Member

    household.members.update(status=Member.Status.MOVED_OUT)


def report(w, household=None, contact_person=None, discovered_on=DISCOVERED):
    # Reported on the day of the calendar above, or on the discovery day if that is later:
    # a report is never dated in the future (issue 7 point 2).
    when = max(T_REPORT, datetime.datetime.combine(discovered_on, datetime.time(10), CST))
    with time_machine.travel(when, tick=False):
        return services.case_create(
            user=w.village_cadre,
            household=household or w.household_a1,
            channel="cadre_visit",
            discovered_on=discovered_on,
            reason="户主突发大病，医疗支出大",
            contact_person=contact_person,
        )


def commitment_scan():
    """A fresh upload of the signed commitment's scan (a file can be read once)."""
    # A real PDF: uploads are checked by content (households/uploads.py).
    return f.pdf_upload("承诺授权书.pdf")


def step_files(name):
    """The files a step needs: the start of the appraisal takes the commitment's scan."""
    return {"commitment_scan": commitment_scan()} if name == "start_appraisal" else {}


def record_comparison(w, case, result="none_found", note=""):
    """The county's asset cross-check (信息比对) result, which the county determination needs
    (issue 10 point 9): recorded as the county officer would, once the case is at county review."""
    from screening import asset_services

    with time_machine.travel(T_REVIEW, tick=False):
        return asset_services.asset_comparison_record(user=w.county_officer, case_id=case.pk, result=result, note=note)


def advance(w, case, state, compare=True):
    """Take the normal steps from the case's state up to `state`, each by its usual actor. A case
    reaching county review gets its asset comparison recorded too (unless `compare=False`)."""
    start = ORDER.index(case.state)
    for reached, name, actor, when in PATH[start : ORDER.index(state)]:
        if name == "propose_elimination" and not case.measures.exists():
            make_eligible(w, case)
        with time_machine.travel(when, tick=False):
            case = services.case_transition(
                user=getattr(w, actor), case_id=case.pk, name=name, data=dict(STEP_DATA[name]), files=step_files(name)
            )
        assert case.state == reached
        if reached == State.COUNTY_REVIEW and compare:
            record_comparison(w, case)
    return case


def case_at(w, state, household=None, contact_person=None, compare=True):
    return advance(w, report(w, household, contact_person), state, compare=compare)
