"""Plans (一户一策) for the demo county's monitored cases, and the demo contact persons
(called by fanpin/demo.py between monitoring's two phases: after the cases are determined,
before the elimination steps, which need a measure carried out).

Every measure is written through the plan's services, as a contact person would enter it, so
each carries its progress notes and timeline events; afterwards those rows are dated to the
day the story says (never later than the seeding began, so monitoring's own re-dating of the
elimination steps leaves them alone). The plans tell the usual stories: measures answering each
risk, a developmental one where the household can work, social security where it cannot; the
cases going on to elimination have theirs carried out, some continuing after it (a micro-credit
to the contract's end, a public job to the agreement's end); the others are in every stage —
under way, only planned, one with a measure stopped for a reason, one missing the
developmental measure the household needs.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from households.models import Department, Household
from monitoring import services as monitoring_services
from monitoring.models import CaseEvent, MonitoringCase, State, purging_demo_records

from . import rules, services
from .catalogue import install_default_catalogue
from .forms import MeasureCreateForm
from .models import Measure, MeasureProgress, MeasureType

SEED = 20240716

# The measure answering each risk in the demo: (type code, funding source, amount range in yuan).
FOR_RISK = {
    "illness": ("medical_aid", "医疗救助资金", (3000, 20000)),
    "disability": ("disability_subsidy", "残疾人两项补贴资金", (1200, 3600)),
    "education": ("education_aid", "教育资助资金", (1500, 6000)),
    "disaster": ("temporary_relief", "临时救助资金", (2000, 8000)),
    "accident": ("temporary_relief", "临时救助资金", (2000, 8000)),
    "employment": ("employment", "就业补助资金", (1000, 3000)),
    "industry": ("micro_credit", "扶贫小额信贷", (20000, 50000)),
    "housing": ("housing", "农村危房改造补助", (15000, 40000)),
    "water": ("water", "农村饮水安全巩固提升资金", (800, 3000)),
    "labour": ("dibao", "城乡低保资金", (3000, 6000)),
    "loan": ("micro_credit", "扶贫小额信贷", (20000, 50000)),
}
# A developmental measure for a household that can work, when its risks brought none.
DEVELOPMENTAL = [
    ("public_job", "衔接推进乡村振兴补助资金", (6000, 9600)),
    ("employment", "就业补助资金", (1000, 3000)),
    ("industry", "衔接推进乡村振兴补助资金", (2000, 6000)),
    ("training", "职业技能提升资金", (800, 2000)),
]
OUTCOMES = {
    "medical_aid": "住院费用经基本医保、大病保险和医疗救助报销后，自付部分明显下降。",
    "disability_subsidy": "困难残疾人生活补贴和重度残疾人护理补贴按月发放。",
    "education_aid": "子女享受雨露计划和国家助学金，教育支出负担减轻。",
    "temporary_relief": "临时救助金已发放，基本生活得到保障。",
    "employment": "经劳务协作推荐到县工业园区务工，月收入约 3500 元。",
    "micro_credit": "获得 5 万元以内扶贫小额信贷，按期付息，生产经营恢复。",
    "housing": "危房改造已竣工验收，住房安全有保障。",
    "water": "已接通集中供水管网，饮水安全有保障。",
    "dibao": "已纳入农村低保，按月领取低保金。",
    "public_job": "安排村级保洁公益岗位，每月补贴 800 元。",
    "industry": "发展林下养殖，合作社保底回收。",
    "training": "参加县人社局组织的电工技能培训并取得证书。",
}
PROGRESS = {
    "start": "已与农户签订帮扶协议，措施开始实施。",
    "middle": "入户了解落实情况，资金已按期到位。",
    "done": "措施已落实到位，经回访农户满意。",
}

HELPERS = [
    # username, name, how many of the first village's cases they follow
    ("helper", "周春燕", 3),
    ("helper_b", "吴志明", 2),
]
HELPER_USERNAMES = [username for username, _, _ in HELPERS]


@dataclass
class Helper:
    username: str
    name: str
    user: Any


def demo_helpers(*, password: str) -> list[Helper]:
    """The demo contact persons (帮扶联系人): people with no area role, whose only access is the
    cases assigned to them (DOMAIN.md §1). Brought up to date on every run, like the logins."""
    User = get_user_model()
    found = []
    for username, name, _ in HELPERS:
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.first_name, user.last_name, user.is_active = name, "", True
        user.save()
        found.append(Helper(username, name, user))
    return found


def helper_logins(helpers: list[Helper], login_class: Any, password: str) -> list[Any]:
    """Rows for the printed table of demo logins."""
    return [
        login_class(
            h.username,
            "帮扶联系人",
            f"{MonitoringCase.objects.filter(contact_person=h.user).count()} 户监测对象及其帮扶措施",
            password,
        )
        for h in helpers
    ]


def assign_helpers(
    *, county: Any, helpers: list[Helper], cases: Any, eliminating: Any = (), today: datetime.date | None = None
) -> None:
    """The first village's monitored cases are followed by the demo contact persons (those
    staying under monitoring first, then those going on to elimination): the village cadre
    assigns them through monitoring's service (audited on each timeline)."""
    eliminating = set(eliminating)
    monitored = sorted(
        MonitoringCase.objects.filter(pk__in=list(cases), state=State.MONITORED).select_related(
            "household__village", "contact_person"
        ),
        key=lambda c: (c.household.village.code, c.pk in eliminating, c.pk),
    )
    if not monitored:
        return
    first_village = monitored[0].household.village
    mine = [c for c in monitored if c.household.village_id == first_village.pk]
    position = 0
    for (_, _, count), helper in zip(HELPERS, helpers, strict=True):
        for case in mine[position : position + count]:
            began = timezone.now()
            monitoring_services.case_contact_person_set(
                user=case.contact_person, case_id=case.pk, contact_person=helper.user
            )
            determined = case.determined_on or timezone.localdate()
            _date_events(case, determined + datetime.timedelta(days=1), began, today or timezone.localdate())
        position += count


def seed_measures(*, county: Any, cases: Any, eliminating: Any = (), today: datetime.date | None = None) -> int:
    """A plan for every monitored case (ids in `cases`); carried out for the cases going on to
    elimination (`eliminating`). Return how many measures were created."""
    today = today or timezone.localdate()
    install_default_catalogue()
    planner = _Planner(county, today, set(eliminating))
    with transaction.atomic():
        for case in (
            MonitoringCase.objects.filter(pk__in=list(cases))
            .select_related("household__village__parent__parent", "contact_person")
            .prefetch_related("household__members")
            .order_by("pk")
        ):
            planner.plan(case)
    return planner.created


def wipe_measures(county: Any) -> None:
    """Remove the demo county's measures and their notes (`seed_demo --reset`), before its cases."""
    under = county.path
    with purging_demo_records():  # a case's record is otherwise never deleted
        MeasureProgress.objects.filter(measure__case__household__village__path__startswith=under).delete()
        Measure.objects.filter(case__household__village__path__startswith=under).delete()


def _past(day: datetime.date, today: datetime.date, hour: int, tick: int = 0) -> datetime.datetime:
    """A moment on `day`, but before today: monitoring's seeding re-dates every event of a case
    written since it began (the elimination steps), and must leave these alone."""
    day = min(day, today - datetime.timedelta(days=1))
    return datetime.datetime.combine(day, datetime.time(hour), timezone.get_current_timezone()) + datetime.timedelta(
        seconds=tick
    )


def _date_events(case: MonitoringCase, day: datetime.date, since: datetime.datetime, today: datetime.date) -> None:
    """Date the timeline events written for the case since `since` to `day`."""
    CaseEvent.objects.filter(case=case, at__gte=since).update(at=_past(day, today, 15))


class _Planner:
    def __init__(self, county: Any, today: datetime.date, eliminating: set[int]) -> None:
        self.county, self.today, self.eliminating = county, today, eliminating
        self.rng = random.Random(SEED)
        self.departments = {d.kind: d for d in Department.objects.filter(county=county)}
        self.types = {t.code: t for t in MeasureType.objects.all()}
        self.created = 0
        self.story = 0

    def _day(self, day: datetime.date) -> datetime.date:
        return min(day, self.today - datetime.timedelta(days=1))

    def _measures_for(self, case: MonitoringCase, household: Household) -> list[tuple[str, str, tuple[int, int]]]:
        risks = rules.risk_codes(case)
        chosen: list[tuple[str, str, tuple[int, int]]] = []
        for risk in risks:
            entry = FOR_RISK.get(risk, ("social_aid", "社会帮扶资金", (1000, 5000)))
            if entry[0] not in [c[0] for c in chosen]:
                chosen.append(entry)
        has_labour = rules.household_has_labour(household)
        kinds = {self.types[c[0]].kind for c in chosen}
        if has_labour and MeasureType.Kind.DEVELOPMENTAL not in kinds:
            chosen.append(self.rng.choice(DEVELOPMENTAL))
        if not has_labour and MeasureType.Kind.SOCIAL_SECURITY not in kinds:
            chosen.append(FOR_RISK["labour"])
        return chosen

    def plan(self, case: MonitoringCase) -> None:
        household = case.household
        chosen = self._measures_for(case, household)
        eliminating = case.pk in self.eliminating
        self.story += 1
        # The stories of the cases staying under monitoring, in turn.
        story = (
            "carried_out"
            if eliminating
            else ["under_way", "planned", "stopped", "missing_developmental"][self.story % 4]
        )
        if story == "missing_developmental" and len(chosen) > 1:
            chosen = [c for c in chosen if self.types[c[0]].kind != MeasureType.Kind.DEVELOPMENTAL] or chosen
        planner = case.contact_person
        determined = case.determined_on or self.today
        starts = self._day(determined + datetime.timedelta(days=self.rng.randint(3, 10)))
        for index, (code, funding, (low, high)) in enumerate(chosen):
            kind = self.types[code]
            department = self.departments.get(kind.department_kind)
            continuing = kind.continues_after_elimination
            ends = starts + datetime.timedelta(days=730 if continuing else self.rng.randint(60, 150))
            if index and len(rules.risk_codes(case)) == 1:
                reason = "单一风险但家庭有劳动力，另行安排开发式帮扶，促进稳定增收"
            else:
                reason = ""
            form = MeasureCreateForm(
                {
                    "measure_type": code,
                    "department": department.pk if department else "",
                    "contact_person": planner.pk if planner else "",
                    "starts_on": starts.isoformat(),
                    "ends_on": ends.isoformat(),
                    "amount": str(Decimal(self.rng.randrange(low, high + 1, 100))),
                    "funding_source": funding,
                    "combination_reason": reason,
                },
                case=case,
            )
            if not form.is_valid():
                continue
            began = timezone.now()
            measure = services.measure_create(user=planner, case_id=case.pk, data=form.cleaned_data)
            self.created += 1
            self._date(measure, case, self._day(starts - datetime.timedelta(days=2)), began)
            self._carry(measure, case, story, index, starts, ends, eliminating)

    def _carry(
        self,
        measure: Measure,
        case: MonitoringCase,
        story: str,
        index: int,
        starts: datetime.date,
        ends: datetime.date,
        eliminating: bool,
    ) -> None:
        user = case.contact_person
        if story == "planned":
            return
        if story == "stopped" and index == 0:
            self._note(
                measure,
                case,
                user,
                starts + datetime.timedelta(days=5),
                "经核实，该户已享受同类政策，重复安排，终止本措施。",
                "stopped",
            )
            return
        self._note(measure, case, user, starts, PROGRESS["start"], "in_progress")
        middle = starts + datetime.timedelta(days=30)
        if middle < self.today:
            self._note(measure, case, user, middle, PROGRESS["middle"])
        finished = ends <= self.today or (eliminating and not measure.measure_type.continues_after_elimination)
        if finished:
            day = self._day(ends)
            began = timezone.now()
            services.measure_update(
                user=user,
                measure_id=measure.pk,
                changes={"outcome": OUTCOMES.get(measure.measure_type_id, "措施已落实。")},
            )
            self._date(measure, case, day, began)
            self._note(measure, case, user, day, PROGRESS["done"], "done")

    def _note(
        self, measure: Measure, case: MonitoringCase, user: Any, day: datetime.date, note: str, status: str = ""
    ) -> None:
        day = self._day(day)
        began = timezone.now()
        services.measure_progress(user=user, measure_id=measure.pk, note=note, status=status)
        self._date(measure, case, day, began)

    def _date(self, measure: Measure, case: MonitoringCase, day: datetime.date, began: datetime.datetime) -> None:
        """Date the progress rows and events written since `began` to `day`, in the order written."""
        self._tick = getattr(self, "_tick", 0) + 1
        when = _past(day, self.today, 10, self._tick)
        MeasureProgress.objects.filter(measure=measure, at__gte=began).update(at=when)
        CaseEvent.objects.filter(case=case, at__gte=began, action__startswith="measure").update(at=when)
