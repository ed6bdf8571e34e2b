"""Reads on plans and measures, scoped through monitoring's rule: a user sees a measure when
they may see its case, or when they carry it themselves (帮扶责任人)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from households import selectors as household_selectors
from households.models import Department
from monitoring import selectors as monitoring_selectors
from monitoring.away import household_lives_away
from monitoring.county_settings import read_once
from monitoring.models import ELIMINATION_STATES, MonitoringCase, State

from . import rules
from .models import Measure, MeasureProgress, MeasureType
from .suggestions import Suggestion, suggestions

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

# A plan is made, and measures added, while the case is monitored or on its way out of it.
PLAN_STATES = [State.MONITORED, *ELIMINATION_STATES]
# Existing measures may still be updated after elimination: some continue (micro-credit to the
# contract's end, a public job to the agreement's end, education aid to the end of the stage).
MEASURE_UPDATE_STATES = [*PLAN_STATES, State.ELIMINATED]
DUE_SOON_DAYS = 30

MEASURE_RELATED = ("measure_type", "department", "contact_person")


def measure_types(active_only: bool = False) -> QuerySet[MeasureType]:
    found = MeasureType.objects.all()
    return found.filter(active=True) if active_only else found


def measures_visible_to(user: Any) -> QuerySet[Measure]:
    if not getattr(user, "is_authenticated", False):
        return Measure.objects.none()
    return Measure.objects.filter(
        Q(case__in=monitoring_selectors.cases_visible_to(user).values("pk")) | Q(contact_person=user)
    )


def with_progress(measures: QuerySet[Measure]) -> QuerySet[Measure]:
    return measures.select_related(*MEASURE_RELATED).prefetch_related(
        Prefetch("progress", MeasureProgress.objects.select_related("author"))
    )


def case_measures(case: MonitoringCase) -> list[Measure]:
    """The case's measures with their type, department and contact person (and their progress
    when the plan page read them first): once per read-only request, for the case page's plan
    section, what continues after elimination and the elimination criterion."""
    return list(
        read_once(
            ("case_measures", case.pk), lambda: list(Measure.objects.filter(case=case).select_related(*MEASURE_RELATED))
        )
    )


def measure_for(user: Any, pk: Any) -> Measure:
    return household_selectors.get_or_404(
        with_progress(measures_visible_to(user)).select_related("case__household__village"), pk=pk
    )


def plan_due_days(case: MonitoringCase, cache: monitoring_selectors.SettingsCache | None = None) -> int:
    """Days from determination to the plan: the county setting in force on the determination
    date (default 15), so a later change does not move the deadline of a case already running."""
    day = case.determined_on or timezone.localdate()
    return int(monitoring_selectors.case_settings(case, day, cache).plan_due_days)


def county_departments(case: MonitoringCase) -> dict[str, Department]:
    county = case.household.village.county
    return {d.kind: d for d in Department.objects.filter(county=county)}


@dataclass
class Plan:
    case: MonitoringCase
    facts: rules.PlanFacts
    warnings: list[rules.RuleWarning]
    suggestions: list[Suggestion]
    checklist: list[Any]
    continuing: list[Measure] = field(default_factory=list)

    @property
    def measures(self) -> list[Measure]:
        return self.facts.measures

    @property
    def due_on(self) -> datetime.date | None:
        return rules.plan_due_on(self.facts)

    @property
    def open_for_measures(self) -> bool:
        return self.case.state in PLAN_STATES


def plan_for(case: MonitoringCase, today: datetime.date | None = None) -> Plan:
    """The plan (一户一策) of a case: its measures with their history, the rule warnings, the
    suggestions and the elimination checklist."""
    today = today or timezone.localdate()
    household = case.household
    measures = list(
        read_once(("case_measures", case.pk), lambda: list(with_progress(Measure.objects.filter(case=case))))
    )
    facts = rules.PlanFacts(
        case=case,
        household=household,
        measures=measures,
        has_labour=rules.household_has_labour(household),
        today=today,
        plan_due_days=plan_due_days(case),
        risks=rules.risk_codes(case),
    )
    in_plan_states = case.state in PLAN_STATES
    found_suggestions = (
        suggestions(facts, list(measure_types(active_only=True)), county_departments(case)) if in_plan_states else []
    )
    warnings = rules.plan_warnings(facts) if in_plan_states else []
    checklist = case.elimination_criteria(today) if case.state in (State.MONITORED, *ELIMINATION_STATES) else []
    after = case.eliminated_on or today
    continuing = [m for m in measures if m.continues_after(after)] if case.state == State.ELIMINATED else []
    return Plan(case, facts, warnings, found_suggestions, checklist, continuing)


def continuing_measures(case: MonitoringCase) -> list[Measure]:
    """Measures that run on after the case's elimination (the case page says so)."""
    if case.state != State.ELIMINATED:
        return []
    after = case.eliminated_on or timezone.localdate()
    running = (Measure.Status.PLANNED, Measure.Status.IN_PROGRESS)
    return [m for m in case_measures(case) if m.status in running and m.continues_after(after)]


# --- overdue plans ----------------------------------------------------------------------------


def overdue_plans_q(today: datetime.date | None = None) -> Q:
    """Monitored cases past the plan's due date without any measure in the plan, each judged by
    its county's plan_due_days in force on its determination date."""
    today = today or timezone.localdate()
    due = Q(pk__in=[])
    for where, version, start, until in monitoring_selectors.county_windows():  # newest first
        cutoff = today - datetime.timedelta(days=version.plan_due_days)
        window = Q(determined_on__gte=start, determined_on__lt=cutoff)
        if until is not None:
            window &= Q(determined_on__lt=until)
        due |= where & window
    active = Measure.objects.filter(case=OuterRef("pk")).exclude(status=Measure.Status.STOPPED)
    return Q(state=State.MONITORED) & due & ~Q(Exists(active))


def overdue_plans(user: Any, today: datetime.date | None = None) -> QuerySet[MonitoringCase]:
    return (
        monitoring_selectors.cases_visible_to(user)
        .filter(overdue_plans_q(today))
        .select_related(*monitoring_selectors.LIST_RELATED)
        .order_by("determined_on", "id")
    )


# --- 我的帮扶 ---------------------------------------------------------------------------------


@dataclass
class MeasureDue:
    measure: Measure
    status: str  # "overdue" | "due" | "soon" | ""
    note: str


def measure_due(measure: Measure, today: datetime.date) -> MeasureDue:
    """Is the measure due for action? Planned and past its start: start it; in progress and
    past its end: finish or extend it; ending within a month: soon."""
    if measure.status == Measure.Status.PLANNED and measure.starts_on <= today:
        late = (today - measure.starts_on).days
        if late > 0:
            return MeasureDue(measure, "overdue", f"计划 {measure.starts_on:%Y-%m-%d} 开始，已过 {late} 天仍未实施")
        return MeasureDue(measure, "due", "今天应开始实施")
    if measure.status == Measure.Status.IN_PROGRESS and measure.ends_on:
        left = (measure.ends_on - today).days
        if left < 0:
            return MeasureDue(measure, "overdue", f"应于 {measure.ends_on:%Y-%m-%d} 结束，已过 {-left} 天，请记录结果")
        if left <= DUE_SOON_DAYS:
            return MeasureDue(measure, "soon", f"{measure.ends_on:%Y-%m-%d} 到期（还剩 {left} 天）")
    return MeasureDue(measure, "", "")


@dataclass
class MyCase:
    case: MonitoringCase
    head_name: str | None
    measures: list[MeasureDue]
    next_visit_on: datetime.date | None
    visit_overdue: bool
    plan_overdue: bool
    lives_away: bool = False
    # False for someone who only carries a measure of the case (e.g. department staff): they
    # reach the measure, not the case and its plan.
    case_visible: bool = True

    @property
    def attention(self) -> bool:
        return self.visit_overdue or self.plan_overdue or any(m.status in ("overdue", "due") for m in self.measures)


def my_assistance(user: Any, today: datetime.date | None = None) -> list[MyCase]:
    """A contact person's work list (我的帮扶): the cases they follow and the cases of the
    measures they carry, each with its measures due or overdue and the next visit due. Cases
    needing something first, then by the next visit."""
    today = today or timezone.localdate()
    if not getattr(user, "is_authenticated", False):
        return []
    mine = Q(contact_person=user, state__in=MEASURE_UPDATE_STATES) | Q(
        pk__in=Measure.objects.filter(contact_person=user).exclude(status__in=Measure.FINAL).values("case")
    )
    overdue_plan_ids = set(
        MonitoringCase.objects.filter(mine).filter(overdue_plans_q(today)).values_list("pk", flat=True)
    )
    cases = list(
        monitoring_selectors.with_last_visit(MonitoringCase.objects.filter(mine))
        .exclude(Q(state=State.ELIMINATED) & ~Q(pk__in=Measure.objects.filter(contact_person=user).values("case")))
        .select_related(*monitoring_selectors.LIST_RELATED)
        .annotate(head_name=_head_name())
        .prefetch_related(
            "household__members",
            Prefetch(
                "measures",
                Measure.objects.exclude(status=Measure.Status.STOPPED).select_related(*MEASURE_RELATED),
            ),
        )
    )
    cache = monitoring_selectors.SettingsCache()
    visible = set(
        monitoring_selectors.cases_visible_to(user).filter(pk__in=[c.pk for c in cases]).values_list("pk", flat=True)
    )
    found = []
    for case in cases:
        measures = [
            measure_due(m, today)
            for m in case.measures.all()
            if m.status not in Measure.FINAL and (case.contact_person_id == user.pk or m.contact_person_id == user.pk)
        ]
        next_visit, away = None, False
        if case.state == State.MONITORED and case.determined_on:
            since = max(d for d in (getattr(case, "last_visit_on", None), case.determined_on) if d)
            settings = cache.on_for(case, since)
            # Households living away (外出务工 most of the year) are visited quarterly.
            away = household_lives_away(case.household)
            interval = settings.away_visit_interval_days if away else settings.visit_interval_days
            next_visit = since + datetime.timedelta(days=interval)
        found.append(
            MyCase(
                case=case,
                head_name=case.head_name,
                measures=measures,
                next_visit_on=next_visit,
                visit_overdue=bool(next_visit and next_visit < today),
                plan_overdue=case.pk in overdue_plan_ids,
                lives_away=away,
                case_visible=case.pk in visible,
            )
        )
    found.sort(key=lambda c: (not c.attention, c.next_visit_on or datetime.date.max, c.case.pk))
    return found


def _head_name() -> Any:
    from django.db.models import Subquery

    from households.models import Member

    head = Member.objects.filter(
        household=OuterRef("household"), relation=Member.Relation.HEAD, status=Member.Status.ACTIVE
    )
    return Subquery(head.values("name")[:1])
