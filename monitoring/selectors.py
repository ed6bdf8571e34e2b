"""Reads on monitoring cases, scoped through the registry's one rule: a user sees a case
exactly when they may see its household (DOMAIN.md §1)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import BooleanField, Count, Expression, F, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce, Greatest, RowNumber
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string

from households import selectors as household_selectors
from households.models import Area, Household, IncomeRecord, Member, Role
from households.selectors import AnyUser

from . import workdays
from .away import lives_away_q
from .county_settings import ALWAYS, CountySettings, SettingsHistory, counties, monitoring_lines, read_once
from .county_settings import county_settings_on as county_settings_on
from .models import (
    IDENTIFICATION_STATES,
    OPEN_STATES,
    CaseEvent,
    MonitoringCase,
    State,
    Visit,
    VisitPhoto,
)

LIST_RELATED = ("household__village__parent__parent", "contact_person")


def cases_visible_to(user: AnyUser) -> QuerySet[MonitoringCase]:
    """Cases in the user's area scope, plus the cases they are the contact person (帮扶联系人)
    for: DOMAIN.md §1 scopes that role to "cases assigned to them", wherever they work."""
    if not user.is_authenticated:
        return MonitoringCase.objects.none()
    if household_selectors.is_admin(user):
        # Not folded into the Q below: an empty Q() OR-ed with another Q is just the other one.
        return MonitoringCase.objects.all()
    # The case's own village (kept on the case) among the scope's areas: the (village, state)
    # index, no join to the households (bench/README.md).
    return MonitoringCase.objects.filter(_in_scope_areas(user) | Q(contact_person=user))


class _InArray(Expression):
    """`field = ANY(ARRAY(subquery))` on PostgreSQL: the subquery runs once (an InitPlan) and
    its ids are an index condition on the field, also under an OR (`field IN (subquery)` would
    become a semi-join, or under an OR a hashed filter of every row). `IN (subquery)` elsewhere."""

    def __init__(self, field: F, subquery: Subquery) -> None:
        super().__init__(output_field=BooleanField())
        self.column, self.ids = field, subquery

    def get_source_expressions(self) -> list[Any]:
        return [self.column, self.ids]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.column, self.ids = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        field_sql, field_params = compiler.compile(self.column)
        sub_sql, sub_params = compiler.compile(self.ids)  # already in parentheses
        if connection.vendor == "postgresql":
            return f"{field_sql} = ANY(ARRAY{sub_sql})", (*field_params, *sub_params)
        return f"{field_sql} IN {sub_sql}", (*field_params, *sub_params)


def _in_scope_areas(user: AnyUser) -> Q:
    """Cases whose village lies under one of the user's areas, without a query of its own: a
    village cadre's villages by id, larger areas by their path inside the case query."""
    return _under_areas(household_selectors.scope_areas(user))


def _under_areas(areas: list[Area]) -> Q:
    if all(area.level == Area.Level.VILLAGE for area in areas):
        return Q(village_id__in=[area.pk for area in areas])
    paths = Q(pk__in=[])
    for area in areas:
        paths |= Q(path__startswith=area.path)
    return Q(_InArray(F("village_id"), Subquery(Area.objects.filter(paths).order_by().values("pk"))))


def case_for(user: AnyUser, pk: object) -> MonitoringCase:
    """One case, 404 outside cases_visible_to. The scope is the case's village under one of the
    user's areas (a join to that one row's area): no query for the scope's area ids."""
    if not user.is_authenticated:
        raise Http404("未找到该记录，或您无权查看。")
    cases = MonitoringCase.objects.all()
    if not household_selectors.is_admin(user):  # an empty Q() OR-ed with another Q is just the other one
        cases = cases.filter(household_selectors.area_scope_q(user, field="village") | Q(contact_person=user))
    return household_selectors.get_or_404(cases.select_related(*LIST_RELATED), pk=pk)


def case_for_update(user: AnyUser, pk: object) -> MonitoringCase:
    """The case locked for the rest of the transaction (404 outside the user's scope)."""
    visible = household_selectors.get_or_404(cases_visible_to(user).values("pk"), pk=pk)
    return (
        MonitoringCase.objects.select_for_update(of=("self",))
        .select_related("household__village__parent__parent")
        .get(pk=visible["pk"])
    )


# --- deadlines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    date: datetime.date
    days_left: int
    note: str = ""

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


class SettingsCache(SettingsHistory):
    """County settings read once per request (every version of every county in one query),
    whatever the number of cases; `on_for(case, day)` gives the version in force on `day`."""

    def on_for(self, case: MonitoringCase, day: datetime.date) -> CountySettings:
        return self.on(case.household.village.county, day)


def case_settings(case: MonitoringCase, day: datetime.date, cache: SettingsCache | None = None) -> CountySettings:
    """The case's county settings in force on `day` (see monitoring.county_settings for which
    day each rule reads)."""
    if cache is not None:
        return cache.on_for(case, day)
    return county_settings_on(case.household.village.county, day)


def notice_period(case: MonitoringCase, start: datetime.date, elimination: bool) -> workdays.DayCount:
    """The notice's last day (DayCount: date and, past the holiday data, a note to check it by
    hand). Length per county, as in force on the notice's start date (default 5 days; 5 or 7
    for elimination), in calendar or Chinese working days; a notice of N days starting on
    `start` ends on its N-th day."""
    settings = case_settings(case, start)
    days = settings.elimination_notice_days if elimination else settings.notice_days
    return workdays.period_end(start, days, settings.notice_in_working_days)


def deadline(
    case: MonitoringCase, cache: SettingsCache | None = None, today: datetime.date | None = None
) -> Deadline | None:
    """From discovery of the lead to county determination: 15 days in principle, the notice
    included (中农组发〔2021〕7号; a per-county setting, as in force on the discovery date).
    None once determined or ended."""
    if case.state not in IDENTIFICATION_STATES:
        return None
    settings = case_settings(case, case.discovered_on, cache)
    today = today or timezone.localdate()
    due = workdays.add_days(case.discovered_on, settings.determination_days, settings.determination_in_working_days)
    left = workdays.days_between(today, due.date, settings.determination_in_working_days)
    if due.date < today:
        # Past the due date is overdue even when only a weekend or holiday has gone by since
        # (0 working days): the same rule overdue_q applies in SQL.
        left = min(left, -1)
    return Deadline(due.date, left, due.note)


def county_windows() -> Iterator[tuple[Q, CountySettings, datetime.date, datetime.date | None]]:
    """Every settings version with the cases it rules: (a condition on the cases' county, the
    version, its first day, the day after its last), newest first. Counties whose histories are
    the same share their entries, and when every county has the same (the usual case: one set
    of settings for all, or none saved) the condition is empty: a rule in SQL then needs no
    county condition at all (it joined the areas for their paths: bench/README.md)."""
    history = SettingsHistory()
    groups: dict[tuple[tuple[Any, ...], ...], list[Area]] = {}
    for county in counties():
        groups.setdefault(tuple(_rules_of(v) for v in history.versions(county)), []).append(county)
    for members in groups.values():
        where = Q() if len(groups) == 1 else _under_areas(members)
        until: datetime.date | None = None
        for version in history.versions(members[0]):  # newest first
            yield where, version, version.effective_from, until
            until = version.effective_from


_NOT_RULES = {"id", "county", "created_at", "created_by"}


def _rules_of(version: CountySettings) -> tuple[Any, ...]:
    return tuple(getattr(version, f.attname) for f in CountySettings._meta.concrete_fields if f.name not in _NOT_RULES)


def _in_range(field: str, start: datetime.date, until: datetime.date | None) -> Q:
    # The version in force since ALWAYS needs no lower bound: every date passes it (and on the
    # inbox the bound cost one more evaluation of the last-visit subquery per monitored case).
    q = Q() if start <= ALWAYS else Q(**{f"{field}__gte": start})
    return q & Q(**{f"{field}__lt": until}) if until else q


def overdue_q(today: datetime.date | None = None) -> Q:
    """SQL condition for identification cases past their county's deadline, each judged by
    the settings in force on its discovery date."""
    today = today or timezone.localdate()
    q = Q(pk__in=[])
    for where, settings, start, until in county_windows():
        # deadline(d) is monotonic in d: walk back from today to the latest overdue discovery date.
        day = today - datetime.timedelta(days=settings.determination_days)
        while workdays.add_days(day, settings.determination_days, settings.determination_in_working_days).date >= today:
            day -= datetime.timedelta(days=1)
        q |= where & Q(discovered_on__lte=day) & _in_range("discovered_on", start, until)
    return Q(state__in=IDENTIFICATION_STATES) & q


def with_last_visit(queryset: QuerySet[MonitoringCase]) -> QuerySet[MonitoringCase]:
    """Annotate `visit_since`: the later of the household's last visit (`last_visit_on`, kept
    on the case) and the determination, from which the next visit is due."""
    return queryset.annotate(visit_since=_visit_since())


def _visit_since() -> Greatest:
    return Greatest(Coalesce("last_visit_on", "determined_on"), "determined_on")


def visit_overdue_q(today: datetime.date | None = None) -> Q:
    """Monitored cases without a visit within the county's interval (monthly by default,
    seed 003 篇三: 每月对监测对象进行一次动态监测; households living away at least quarterly,
    away_visit_interval_days), the interval in force on the day of the last
    visit (or of the determination): a visit made before the case was determined does not make
    a fresh case overdue. Needs `with_last_visit`."""
    today = today or timezone.localdate()
    away = lives_away_q()  # households living away: the quarterly interval (monitoring/away.py)
    q = Q(pk__in=[])
    for where, settings, start, until in county_windows():
        cutoff = today - datetime.timedelta(days=settings.visit_interval_days)
        away_cutoff = today - datetime.timedelta(days=settings.away_visit_interval_days)
        if away_cutoff <= cutoff:
            # The same condition with the last visit compared once for most cases: away
            # households wait longer, so whoever is late for them is late for the monthly cutoff.
            late = Q(visit_since__lt=cutoff) & (~away | Q(visit_since__lt=away_cutoff))
        else:
            late = (Q(visit_since__lt=cutoff) & ~away) | (Q(visit_since__lt=away_cutoff) & away)
        q |= where & late & _in_range("visit_since", start, until)
    return Q(state=State.MONITORED) & q


def overdue_visits(user: AnyUser, today: datetime.date | None = None) -> QuerySet[MonitoringCase]:
    return with_last_visit(cases_visible_to(user)).filter(visit_overdue_q(today)).select_related(*LIST_RELATED)


def overdue_visits_panel(limit: int, today: datetime.date | None = None) -> Panel:
    """我的待办's overdue visits: the cases unvisited longest (never visited first), then by
    household number (a subquery per overdue case: joined to the households for their rows,
    PostgreSQL hashed every household of the database before sorting, bench/README.md)."""
    number = Household.objects.filter(pk=OuterRef("household_id")).values("number")[:1]
    return Panel(
        visit_overdue_q(today),
        (F("last_visit_on").asc(nulls_first=True), Subquery(number), F("pk")),
        limit,
        annotations={"visit_since": _visit_since()},
    )


# --- inbox -------------------------------------------------------------------------------------

ROLE_STEPS: dict[str, list[State]] = {
    Role.VILLAGE_CADRE: [
        State.REPORTED,
        State.VILLAGE_APPRAISAL,
        State.PUBLIC_NOTICE,
        State.ELIMINATION_APPRAISAL,
        State.ELIMINATION_NOTICE,
    ],
    Role.TOWN_OFFICIAL: [State.TOWN_REVIEW, State.ELIMINATION_TOWN_REVIEW],
    Role.COUNTY_OFFICER: [State.COUNTY_REVIEW, State.ELIMINATION_COUNTY_REVIEW],
}


def inbox(user: AnyUser) -> QuerySet[MonitoringCase]:
    """Cases waiting at a step the user acts at (我的待办), oldest discovery first."""
    return MonitoringCase.objects.filter(inbox_q(user)).select_related(*LIST_RELATED).order_by("discovered_on", "id")


def inbox_counts(user: AnyUser) -> dict[str, int]:
    """How many cases each panel of 我的待办 lists, in one grouped COUNT over the user's cases
    (once per read-only request): the cases waiting for the user ("inbox") and each panel the
    layers above add (FANPIN_INBOX_PANELS: the rejection, asset and plan panels), by the
    panel's own condition. A COUNT per panel joined the households four times (bench/README.md)."""
    user_key = getattr(user, "pk", None)
    return dict(read_once(("inbox_counts", user_key), lambda: _count_panels(user)))


def _count_panels(user: AnyUser) -> dict[str, int]:
    conditions = {"inbox": inbox_q(user)}
    conditions.update((name, panel.condition) for name, panel in _section_panels(user).items())
    any_panel = Q(pk__in=[])
    for condition in conditions.values():
        any_panel |= condition
    counted = (
        cases_visible_to(user)
        .filter(any_panel)
        .aggregate(**{f"n_{name}": Count("pk", filter=condition) for name, condition in conditions.items()})
    )
    return {name: int(counted[f"n_{name}"] or 0) for name in conditions}


def _section_panels(user: AnyUser) -> dict[str, Panel]:
    """The panels the layers above add to 我的待办, once per read-only request: FANPIN_INBOX_PANELS
    names f(user) -> Panel, or None where the user is not shown that panel."""
    user_key = getattr(user, "pk", None)
    panels: dict[str, Panel] = read_once(("inbox_panels", user_key), lambda: _load_section_panels(user))
    return panels


def _load_section_panels(user: AnyUser) -> dict[str, Panel]:
    from django.conf import settings  # here: the module's loops name a county's settings `settings`

    panels = {}
    for name, path in getattr(settings, "FANPIN_INBOX_PANELS", {}).items():
        panel = import_string(path)(user)
        if panel is not None:
            panels[name] = panel
    return panels


@dataclass(frozen=True)
class Panel:
    """One list of 我的待办: the user's cases meeting `condition` (with `annotations` to filter
    on), in `order_by`, `limit` of them from `offset`."""

    condition: Q
    order_by: tuple[Any, ...]
    limit: int
    offset: int = 0
    annotations: dict[str, Any] | None = None


def inbox_rows(user: AnyUser, own: dict[str, Panel] | None = None) -> dict[str, list[MonitoringCase]]:
    """The rows of 我的待办's panels in two queries however many panels there are: the ids of
    every panel (one UNION ALL of each panel's ordered, sliced ids) and then the cases of those
    ids with their household, village, contact person and head's name. Once per read-only
    request: the inbox view asks first with its own panels (`own`: the page of the to-do list,
    the overdue visits), the sections of FANPIN_INBOX_SECTIONS then read theirs
    (`inbox_panel_rows`), named with their functions in FANPIN_INBOX_PANELS. A panel whose
    count (inbox_counts) is 0 is not read. A query per panel took four queries more."""
    user_key = getattr(user, "pk", None)
    return dict(read_once(("inbox_rows", user_key), lambda: _read_panels(user, own or {})))


def inbox_panel_rows(user: AnyUser, name: str) -> list[MonitoringCase]:
    """The rows of the panel named in FANPIN_INBOX_PANELS (see inbox_rows)."""
    return inbox_rows(user).get(name, [])


def _read_panels(user: AnyUser, own: dict[str, Panel]) -> dict[str, list[MonitoringCase]]:
    panels = {**own, **_section_panels(user)}
    counts = inbox_counts(user)
    names = [name for name, panel in panels.items() if panel.limit > 0 and counts.get(name, 1) > 0]
    # PostgreSQL: each part ordered and sliced (LIMIT), so it walks an index and stops. SQLite
    # allows no LIMIT inside a UNION's parts: there each part keeps the rows whose row number
    # falls in the slice (a filter on the window), the same rows in one query as well.
    sliced = connection.features.supports_slicing_ordering_in_compound
    parts: list[QuerySet[Any, tuple[int, int, int]]] = []
    for index, name in enumerate(names):
        panel = panels[name]
        part = cases_visible_to(user)
        if panel.annotations:
            part = part.annotate(**panel.annotations)
        ranked = part.filter(panel.condition).annotate(
            panel=Value(index), rank=Window(RowNumber(), order_by=list(panel.order_by))
        )
        if sliced:
            ids = ranked.order_by(*panel.order_by).values_list("pk", "panel", "rank")
            parts.append(ids[panel.offset : panel.offset + panel.limit])
        else:
            ranked = ranked.filter(rank__gt=panel.offset, rank__lte=panel.offset + panel.limit)
            parts.append(ranked.order_by().values_list("pk", "panel", "rank"))
    if not parts:
        return {}
    found = list(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else list(parts[0])
    found.sort(key=lambda row: (row[1], row[2]))
    head = Member.objects.filter(
        household=OuterRef("household"), relation=Member.Relation.HEAD, status=Member.Status.ACTIVE
    )
    cases = MonitoringCase.objects.filter(pk__in={pk for pk, _panel, _rank in found}).order_by()
    rows = {c.pk: c for c in cases.select_related(*LIST_RELATED).annotate(head_name=Subquery(head.values("name")[:1]))}
    by_panel: dict[str, list[MonitoringCase]] = {name: [] for name in names}
    for pk, index, _rank in found:
        if pk in rows:
            by_panel[names[index]].append(rows[pk])
    return by_panel


def inbox_q(user: AnyUser) -> Q:
    """The cases waiting at a step the user acts at: in the areas of each of their roles at that
    role's steps, and as contact person at the elimination appraisal."""
    q = Q(pk__in=[])
    for role in household_selectors.user_roles(user):
        states = ROLE_STEPS.get(role.role)
        if states and role.area is not None:
            q |= _under_areas([role.area]) & Q(state__in=states)
    if user.is_authenticated:
        q |= Q(contact_person=user, state=State.ELIMINATION_APPRAISAL)
    return q


# --- detail ---------------------------------------------------------------------------------


# The payload key holding the day a step took place (the 民主评议 of publish_notice, not its
# notice start), in order of preference; an event without one happened the day it was recorded.
EVENT_DATE_KEYS = (
    "home_check_on",
    "appraisal_on",
    "reviewed_on",
    "determined_on",
    "eliminated_on",
    "notice_start",
    "discovered_on",
)


def event_date(event: CaseEvent) -> datetime.date:
    """The day the event's step took place: a step may be recorded days after it happened."""
    for key in EVENT_DATE_KEYS:
        value = event.payload.get(key) if isinstance(event.payload, dict) else None
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value[:10])
            except ValueError:
                continue
    return timezone.localtime(event.at).date()


INCOME_YEARS_SHOWN = 3


@dataclass
class IncomeAgainstLine:
    """One year's per-capita net income beside that year's monitoring line (the line may be unset)."""

    year: int
    per_capita: Decimal
    line: Decimal | None

    @property
    def below(self) -> bool:
        return self.line is not None and self.per_capita < self.line

    @property
    def distance(self) -> Decimal | None:
        """How far from the line, above or below it."""
        return None if self.line is None else abs(self.per_capita - self.line)


def income_against_line(household: Household) -> list[IncomeAgainstLine]:
    """The household's latest annual per-capita incomes, newest first, each against the county's
    line for its year: what the appraisal, the town review and the county approval weigh, shown
    at every step of the case (not only once it is monitored)."""
    lines = monitoring_lines(household.village.county)
    # From `household.incomes.all()`, so that a page which prefetched the incomes (the case page,
    # for its data-quality findings too) reads them once.
    annual = sorted((r for r in household.incomes.all() if r.month is None), key=lambda r: r.year, reverse=True)
    records = annual[:INCOME_YEARS_SHOWN]
    return [IncomeAgainstLine(r.year, r.per_capita_net_income, lines.get(r.year)) for r in records]


def reportable_households(user: AnyUser) -> QuerySet[Household]:
    """Households the user may report: those of a village where they act as village cadre (the
    service checks the same; the administrator takes no part in the workflow)."""
    q = Q(pk__in=[])
    for area in household_selectors.scope_areas(user, (Role.VILLAGE_CADRE,)):
        q |= Q(village__path__startswith=area.path)
    return household_selectors.households_visible_to(user).filter(q)


PICKER_LIMIT = 20


@dataclass
class HouseholdPick:
    """Households matching a search of the report form's picker: those that may be reported,
    those left out because they already have an open case (each with `open_case_id`), and
    whether more matched than are shown."""

    choosable: list[Household]
    with_open_case: list[Household]
    more: bool


def household_pick(user: AnyUser, term: str, limit: int = PICKER_LIMIT) -> HouseholdPick:
    """The report form's household search, by name, household number or part of an ID number
    (households.selectors.household_search_q, the registry's own search and its indexes), in the
    user's reportable scope. At most `limit` rows are read, so a county of 100,000 households
    answers as fast as a village."""
    if not term.strip():
        return HouseholdPick([], [], False)
    head = Member.objects.filter(household=OuterRef("pk"), relation=Member.Relation.HEAD, status=Member.Status.ACTIVE)
    open_case = MonitoringCase.objects.filter(household=OuterRef("pk"), state__in=OPEN_STATES)
    rows = list(
        reportable_households(user)
        .filter(household_selectors.household_search_q(term))
        .select_related("village__parent")
        .annotate(head_name=Subquery(head.values("name")[:1]), open_case_id=Subquery(open_case.values("pk")[:1]))
        .order_by("number")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return HouseholdPick(
        [h for h in rows if h.open_case_id is None],
        [h for h in rows if h.open_case_id is not None],
        more,
    )


def _prefilled(instance: Any, name: str, objects: list[Any]) -> None:
    """Leave `objects` as `instance.<name>.all()` (a reverse foreign key) answers, as
    prefetch_related(name) would have."""
    manager = getattr(instance, name)
    queryset = manager.get_queryset()
    queryset._result_cache = objects
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[manager.field.remote_field.cache_name] = queryset


def read_members_and_incomes(household: Household) -> None:
    """The household's members and income records in one query, left as
    prefetch_related("members", "incomes") leaves them (its two queries): the household joined
    to both, a row per member and record (a few dozen for a household)."""
    members: dict[int, Member] = {}
    incomes: dict[int, IncomeRecord] = {}
    member_fields = [f.attname for f in Member._meta.concrete_fields]
    income_fields = [f.attname for f in IncomeRecord._meta.concrete_fields]
    rows = (
        Household.objects.filter(pk=household.pk)
        .order_by("members__id", "-incomes__year", "-incomes__month")
        .values_list(
            *(f"members__{f.name}" for f in Member._meta.concrete_fields),
            *(f"incomes__{f.name}" for f in IncomeRecord._meta.concrete_fields),
        )
    )
    db = rows.db
    for row in rows:
        member, income = row[: len(member_fields)], row[len(member_fields) :]
        if member[0] is not None and member[0] not in members:
            members[member[0]] = Member.from_db(db, member_fields, member)
        if income[0] is not None and income[0] not in incomes:
            incomes[income[0]] = IncomeRecord.from_db(db, income_fields, income)
    # In the rows' order: the first member's rows list every record in the records' own order.
    _prefilled(household, "members", list(members.values()))
    _prefilled(household, "incomes", list(incomes.values()))


def _with_photos(visits: QuerySet[Visit]) -> list[Visit]:
    """The visits, each with its photos as `visit.photos.all()` gives them, in one query (a row
    per photo, joined): as prefetch_related("photos") leaves them, without its second query."""
    found: dict[int, Visit] = {}
    photos: dict[int, list[VisitPhoto]] = {}
    rows = visits.annotate(photo_pk=F("photos__pk"), photo_image=F("photos__image"))
    for row in rows.order_by("-visited_on", "-id", "photos__pk"):  # the model's order, then the photos'
        found.setdefault(row.pk, row)
        taken = photos.setdefault(row.pk, [])
        if row.photo_pk is not None:
            taken.append(
                VisitPhoto.from_db(rows.db, ["id", "visit_id", "image"], [row.photo_pk, row.pk, row.photo_image])
            )
    for pk, visit in found.items():
        _prefilled(visit, "photos", photos[pk])
    return list(found.values())


def timeline(case: MonitoringCase) -> list[CaseEvent | Visit]:
    """Every audit event and visit of the case, in the order things happened: by the day of the
    step or visit (a visit entered late, or the visit a report came from, sits where it took
    place), on one day the visits first (a visit leads to the step taken that day), then by the
    time each was recorded."""
    events = list(CaseEvent.objects.filter(case=case).select_related("actor"))
    visits = _with_photos(
        Visit.objects.filter(
            Q(case=case) | Q(household=case.household, case__isnull=True, visited_on__gte=case.discovered_on)
        ).select_related("recorded_by", "household")
    )

    def when(item: CaseEvent | Visit) -> tuple[datetime.date, int, datetime.datetime]:
        if isinstance(item, Visit):
            return (item.visited_on, 0, item.created_at)
        return (event_date(item), 1, item.at)

    return sorted(chain(events, visits), key=when)


def notice_list(user: AnyUser, village: Area, elimination: bool = False) -> QuerySet[MonitoringCase]:
    """Cases on public notice in a village (公示名单): no ID numbers, phones, bank accounts or
    health conditions are ever read into it."""
    state = State.ELIMINATION_NOTICE if elimination else State.PUBLIC_NOTICE
    head = Member.objects.filter(
        household=OuterRef("household"), relation=Member.Relation.HEAD, status=Member.Status.ACTIVE
    )
    return (
        cases_visible_to(user)
        .filter(village=village, state=state)
        .annotate(head_name=Subquery(head.values("name")[:1]))
        .select_related("household__village__parent")
        .order_by("household__number")
    )


def case_counts_by_state(user: AnyUser) -> dict[str, int]:
    return dict(cases_visible_to(user).order_by().values_list("state").annotate(n=Count("pk")))


def contact_candidates(village: Area) -> QuerySet[User]:
    """Who may follow a case in this village as its 帮扶联系人: people acting in the village, its
    town or its county (area roles, or staff of one of the county's departments), and helpers
    registered without any role, whose only access is the cases assigned to them. Never
    someone who works for another county: assigning them would open the case to them."""
    from django.contrib.auth import get_user_model

    chain = [int(i) for i in village.path.strip("/").split("/")]
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(roles__area_id__in=chain) | Q(roles__department__county_id=chain[0]) | Q(roles__isnull=True))
        .distinct()
        .order_by("username")
    )


def household_version_of(household: Household) -> str:
    """What a visit form was loaded with: the household's last change and its 两不愁三保障
    items ("<microseconds>-<one 1/0 per item>"), sent back with the visit so the server can
    tell which items someone else changed meanwhile."""
    stamp = int(household.updated_at.timestamp() * 1_000_000)
    items = "".join("1" if getattr(household, f"{key}_secure") else "0" for key, _ in Household.SECURITY_ITEMS)
    return f"{stamp}-{items}"
