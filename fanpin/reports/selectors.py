"""The dashboard's figures (issue 11 point 1, DOMAIN.md §7), read with the user's scoping.

Every figure is an aggregate query (COUNT … GROUP BY) over the same scoped querysets as the
lists it links to (`cases_visible_to` + the case filters, `warnings_visible_to` + the warning
filters), so a figure and the list behind it always agree, and the number of queries does not
grow with the data. Each segment carries the URL of its filtered list.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone

from assistance import selectors as assistance_selectors
from assistance.models import Measure
from fanpin.models import DashboardSummary
from households import selectors as household_selectors
from households.models import Area, Department, IncomeRecord, Member, Role
from households.selectors import AnyUser
from monitoring import selectors as monitoring_selectors
from monitoring.filters import STAGES
from monitoring.models import Category, MonitoringCase, RiskType, State
from screening import warning_selectors
from screening.models import ScaleAlert, Tier, WarningRisk

DASHBOARD_ROLES = (Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER)
UNDER_MONITORING = STAGES["under_monitoring"]
TREND_MONTHS = 12
ALERTS_SHOWN = 10


@dataclass(frozen=True)
class Segment:
    label: str
    value: int
    url: str
    key: str = ""


@dataclass(frozen=True)
class Chart:
    """One chart and its table: `kind` is the ECharts series type ("bar", "pie", "line")."""

    id: str
    title: str
    kind: str
    segments: list[Segment]
    note: str = ""

    @property
    def total(self) -> int:
        return sum(s.value for s in self.segments)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "labels": [s.label for s in self.segments],
            "values": [s.value for s in self.segments],
            "urls": [s.url for s in self.segments],
        }


@dataclass(frozen=True)
class Trend:
    months: list[str]  # "2026-03"
    determined: list[Segment]
    eliminated: list[Segment]

    @property
    def rows(self) -> list[tuple[Segment, Segment]]:
        return list(zip(self.determined, self.eliminated, strict=True))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": "trend",
            "title": "近 12 个月新增认定与风险消除",
            "kind": "trend",
            "labels": self.months,
            "series": [
                {
                    "name": "新增认定",
                    "values": [s.value for s in self.determined],
                    "urls": [s.url for s in self.determined],
                },
                {
                    "name": "风险消除",
                    "values": [s.value for s in self.eliminated],
                    "urls": [s.url for s in self.eliminated],
                },
            ],
        }


@dataclass(frozen=True)
class Scale:
    """监测规模: households under monitoring ÷ registered households, against the usual band."""

    monitored: int
    registered: int
    usual_percent: Decimal
    max_percent: Decimal
    monitored_url: str
    registered_url: str

    @property
    def percent(self) -> Decimal | None:
        if not self.registered:
            return None
        return (Decimal(self.monitored * 100) / self.registered).quantize(Decimal("0.01"))

    @property
    def status(self) -> str:
        """ "over" past the maximum, "high" past the usual share, "ok" within it."""
        percent = self.percent
        if percent is None:
            return "ok"
        if percent > self.max_percent:
            return "over"
        if percent > self.usual_percent:
            return "high"
        return "ok"


@dataclass(frozen=True)
class WarningTable:
    """Open warnings (pending verification) by source department and tier."""

    tiers: list[tuple[str, str]]  # (tier, label)
    rows: list[tuple[str, list[Segment], Segment]]  # (department label, one segment per tier, row total)
    totals: list[Segment]
    total: Segment

    def as_json(self) -> dict[str, Any]:
        return {
            "id": "warnings",
            "title": "待核实预警（按来源部门和等级）",
            "kind": "stacked",
            "labels": [label for label, _, _ in self.rows],
            "series": [
                {
                    "name": tier_label,
                    "tier": tier,
                    "values": [cells[i].value for _, cells, _ in self.rows],
                    "urls": [cells[i].url for _, cells, _ in self.rows],
                }
                for i, (tier, tier_label) in enumerate(self.tiers)
            ],
        }


@dataclass(frozen=True)
class AlertItem:
    label: str
    households: int
    total_households: int
    threshold: str
    url: str


@dataclass
class Dashboard:
    scope_label: str
    today: datetime.date
    states: Chart
    categories: Chart
    primary_risks: Chart
    secondary_risks: Chart
    areas: Chart
    trend: Trend
    scale: Scale
    overdue: list[Segment]
    warnings: WarningTable | None
    alerts: list[AlertItem] | None
    alerts_total: int = 0
    alerts_url: str = ""
    charts: list[dict[str, Any]] = field(default_factory=list)


def may_see_dashboard(user: AnyUser) -> bool:
    return household_selectors.has_role(user, *DASHBOARD_ROLES)


def dashboard_scope(user: AnyUser) -> str:
    """The key of the user's dashboard figures (DashboardSummary.scope): a digest of everything
    the figures depend on. Those are counted over the user's area roles (the cases and
    households under each role's area, the warnings each role sees: a village cadre's leave out
    the new ones) plus the cases they are the contact person of; so the key is the sorted
    (role, area) pairs, and the user themselves only when they are the contact person of a case
    outside those areas (one indexed EXISTS). Users with the same key see the same figures."""
    if household_selectors.is_admin(user):
        parts = ["admin"]
    else:
        parts = sorted(
            f"{r.role}:{r.area_id}"
            for r in household_selectors.user_roles(user)
            if r.role in DASHBOARD_ROLES and r.area_id
        )
        # The case's own village (MonitoringCase.village): joining the households cost 24 ms
        # for a county officer who is the contact person of many cases, at ten counties; and
        # compared with the scope's area ids (the same areas as the paths under the role
        # areas, read once a request) rather than joined to the areas for their paths: 8 ms →
        # 4 ms for the bench county's officer, the contact person of 2,505 cases.
        villages = household_selectors.scope_village_ids(user)
        beyond = MonitoringCase.objects.filter(contact_person_id=user.pk)
        if villages is None:  # pragma: no cover  (None only for the administrator, handled above)
            beyond = beyond.exclude(household_selectors.area_scope_q(user, field="village"))
        else:
            beyond = beyond.exclude(village_id__in=villages)
        if beyond.exists():
            parts.append(f"contact:{user.pk}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def dashboard_summary(
    user: AnyUser, now: datetime.datetime | None = None, scope: str | None = None
) -> DashboardSummary | None:
    """The stored dashboard figures of the user's scope if counted today and at most
    FANPIN_DASHBOARD_MAX_AGE seconds ago; None when they are to be counted again
    (fanpin.reports.services.dashboard_refresh)."""
    if not user.is_authenticated:
        return None
    now = now or timezone.now()
    summary = DashboardSummary.objects.filter(scope=scope or dashboard_scope(user)).first()
    if summary is None or summary.as_of != timezone.localdate(now):
        return None
    if (now - summary.refreshed_at).total_seconds() > settings.FANPIN_DASHBOARD_MAX_AGE:
        return None
    return summary


def _url(name: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse(name) + (f"?{query}" if query else "")


def case_list_url(**params: object) -> str:
    return _url("monitoring:case-list", **params)


def warning_list_url(**params: object) -> str:
    return _url("screening:warnings", **params)


def _county_wide(user: AnyUser) -> bool:
    return household_selectors.is_admin(user) or bool(household_selectors.scope_areas(user, (Role.COUNTY_OFFICER,)))


def scope_label(user: AnyUser) -> str:
    if household_selectors.is_admin(user):
        return "全部"
    areas = household_selectors.scope_areas(user)
    return "、".join(a.name for a in areas) or "—"


def _chart(
    chart_id: str,
    title: str,
    kind: str,
    counts: dict[Any, int],
    choices: Iterable[tuple[Any, str]],
    url_for: Any,
    keep_zero: bool = True,
    note: str = "",
) -> Chart:
    segments = [
        Segment(str(label), counts.get(code, 0), url_for(code), str(code))
        for code, label in choices
        if keep_zero or counts.get(code, 0)
    ]
    return Chart(chart_id, title, kind, segments, note)


def month_start(day: datetime.date, back: int = 0) -> datetime.date:
    """The first day of the month `back` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def _month_counts(queryset: QuerySet[MonitoringCase], field_name: str, since: datetime.date) -> dict[str, int]:
    rows = (
        queryset.filter(**{f"{field_name}__gte": since})
        .order_by()
        .annotate(month=TruncMonth(field_name))
        .values("month")
        .annotate(n=Count("pk"))
    )
    return {f"{row['month']:%Y-%m}": row["n"] for row in rows}


def _scale_band() -> tuple[Decimal, Decimal]:
    return Decimal(str(settings.FANPIN_SCALE_USUAL_PERCENT)), Decimal(str(settings.FANPIN_SCALE_MAX_PERCENT))


@dataclass
class CaseCounts:
    """Counts of one scan of the cases: by state (all), and by category, primary and secondary
    risk type and area (the cases under monitoring)."""

    state: dict[str, int] = field(default_factory=dict)
    category: dict[str, int] = field(default_factory=dict)
    primary_risk: dict[str, int] = field(default_factory=dict)
    secondary_risk: dict[str, int] = field(default_factory=dict)
    area: dict[int, int] = field(default_factory=dict)


def case_counts(cases: QuerySet[MonitoringCase], area_field: str) -> CaseCounts:
    """One GROUP BY over (state, category, primary risk, area), with a conditional count per
    secondary risk type: the groups (at most states × categories × risks × areas, whatever
    the number of cases) are added up here into the dashboard's five distributions."""
    secondary = {
        f"secondary_{code}": Count("pk", filter=Q(secondary_risks__icontains=f'"{code}"'))
        for code, _ in RiskType.choices
    }
    groups = (
        cases.order_by().values("state", "category", "primary_risk", area_field).annotate(n=Count("pk"), **secondary)
    )
    out = CaseCounts()
    for row in groups:
        n = row["n"]
        out.state[row["state"]] = out.state.get(row["state"], 0) + n
        if row["state"] not in UNDER_MONITORING:
            continue
        out.category[row["category"]] = out.category.get(row["category"], 0) + n
        out.primary_risk[row["primary_risk"]] = out.primary_risk.get(row["primary_risk"], 0) + n
        out.area[row[area_field]] = out.area.get(row[area_field], 0) + n
        for code, _ in RiskType.choices:
            out.secondary_risk[code] = out.secondary_risk.get(code, 0) + row[f"secondary_{code}"]
    return out


def _area_level(user: AnyUser) -> tuple[str, str, str, str]:
    """(case field, area level, case-list parameter, chart title) of the areas chart: towns for
    a county-wide user, villages for anyone else."""
    if _county_wide(user):
        return "household__village__parent", Area.Level.TOWN, "town", "监测对象按乡镇"
    return "household__village", Area.Level.VILLAGE, "village", "监测对象按村"


def dashboard_figures(user: AnyUser, today: datetime.date) -> dict[str, Any]:
    """Every aggregate of the dashboard over the user's scope, as plain JSON (what
    DashboardSummary stores): about twenty grouped counts, however many cases and warnings."""
    cases = monitoring_selectors.cases_visible_to(user)
    monitored = cases.filter(state__in=UNDER_MONITORING)
    area_field = _area_level(user)[0]
    counts = case_counts(cases, area_field)
    since = month_start(today, TREND_MONTHS - 1)
    warnings = warning_counts(user, today)
    return {
        "state": counts.state,
        "category": counts.category,
        "primary_risk": counts.primary_risk,
        "secondary_risk": counts.secondary_risk,
        "area": {str(pk): n for pk, n in counts.area.items()},
        "determined": _month_counts(cases, "determined_on", since),
        "eliminated": _month_counts(cases.filter(state=State.ELIMINATED), "eliminated_on", since),
        "monitored": monitored.order_by().values("household").distinct().count(),
        "registered": household_selectors.households_visible_to(user).count(),
        "overdue": {
            "determination": cases.filter(monitoring_selectors.overdue_q(today)).count(),
            "plan": cases.filter(assistance_selectors.overdue_plans_q(today)).count(),
            "visit": monitoring_selectors.with_last_visit(cases)
            .filter(monitoring_selectors.visit_overdue_q(today))
            .count(),
        },
        "warnings": None if warnings is None else [[d, t, n] for (d, t), n in warnings.items()],
    }


def dashboard(user: AnyUser, today: datetime.date | None = None, figures: Mapping[str, Any] | None = None) -> Dashboard:
    """The dashboard of the user's scope: from `figures` (a DashboardSummary's, counted on
    `today`) or counted now."""
    today = today or timezone.localdate()
    if figures is None:
        figures = dashboard_figures(user, today)
    stage = "under_monitoring"
    _, level, param, area_title = _area_level(user)

    states = _chart(
        "states", "监测对象按状态", "bar", figures["state"], State.choices, lambda c: case_list_url(state=c)
    )
    categories = _chart(
        "categories",
        "监测对象按类别",
        "pie",
        figures["category"],
        Category.choices,
        lambda c: case_list_url(stage=stage, category=c),
        note="已认定、尚未消除风险的监测对象",
    )
    primary = _chart(
        "primary_risks",
        "主要风险类型",
        "bar",
        figures["primary_risk"],
        RiskType.choices,
        lambda c: case_list_url(stage=stage, primary_risk=c),
        note="已认定、尚未消除风险的监测对象",
    )
    secondary = _chart(
        "secondary_risks",
        "次要风险类型",
        "bar",
        figures["secondary_risk"],
        RiskType.choices,
        lambda c: case_list_url(stage=stage, secondary_risk=c),
        note="一户可有多项次要风险",
    )

    area_counts = {int(pk): n for pk, n in figures["area"].items()}
    # The scope's areas of that level, from the rows read once a request (no query).
    areas_in_scope = household_selectors.areas_in_scope(user, level)
    if areas_in_scope is None:  # the administrator
        areas_in_scope = list(household_selectors.areas_visible_to(user, level).only("pk", "name"))
    areas = _chart(
        "areas",
        area_title,
        "bar",
        area_counts,
        [(a.pk, a.name) for a in areas_in_scope],
        lambda pk: case_list_url(stage=stage, **{param: pk}),
        note="已认定、尚未消除风险的监测对象",
    )

    months = [f"{month_start(today, back):%Y-%m}" for back in range(TREND_MONTHS - 1, -1, -1)]
    determined, eliminated = figures["determined"], figures["eliminated"]
    trend = Trend(
        months,
        [Segment(m, determined.get(m, 0), case_list_url(determined=m), m) for m in months],
        [Segment(m, eliminated.get(m, 0), case_list_url(state=State.ELIMINATED, eliminated=m), m) for m in months],
    )

    usual, maximum = _scale_band()
    scale = Scale(
        monitored=figures["monitored"],
        registered=figures["registered"],
        usual_percent=usual,
        max_percent=maximum,
        monitored_url=case_list_url(stage=stage),
        registered_url=reverse("households:list"),
    )

    overdue_figures = figures["overdue"]
    overdue = [
        Segment("认定超期", overdue_figures["determination"], case_list_url(overdue="true"), "determination"),
        Segment("帮扶计划超期", overdue_figures["plan"], case_list_url(plan_overdue="true"), "plan"),
        Segment("走访超期", overdue_figures["visit"], case_list_url(visit_overdue="true"), "visit"),
    ]
    warnings = figures["warnings"]

    board = Dashboard(
        scope_label=scope_label(user),
        today=today,
        states=states,
        categories=categories,
        primary_risks=primary,
        secondary_risks=secondary,
        areas=areas,
        trend=trend,
        scale=scale,
        overdue=overdue,
        warnings=None if warnings is None else warning_table({(d, t): n for d, t, n in warnings}),
        alerts=None,
    )
    if _county_wide(user):
        alerts = warning_selectors.alerts_visible_to(user)
        board.alerts_total = alerts.count()
        board.alerts = [_alert_item(a) for a in alerts[:ALERTS_SHOWN]]
        board.alerts_url = reverse("screening:warning-analysis")
    board.charts = [c.as_json() for c in (states, categories, primary, secondary, areas)] + [trend.as_json()]
    if board.warnings is not None:
        board.charts.append(board.warnings.as_json())
    return board


DEPARTMENT_LABELS = {
    **dict(Department.Kind.choices),
    "platform": "平台规则",
    "registration": "未登记人员线索",
}


def warning_counts(user: AnyUser, today: datetime.date) -> dict[tuple[str, str], int] | None:
    """Open warnings by (department, tier) (the tier computed in SQL), in one query; None for
    a user who sees no warnings."""
    if not household_selectors.has_role(user, *DASHBOARD_ROLES):
        return None
    pending = warning_selectors.with_tier(warning_selectors.warnings_visible_to(user), today).filter(
        state__in=warning_selectors.OPEN
    )
    found: dict[tuple[str, str], int] = {}
    for row in pending.order_by().values("department", "tier").annotate(n=Count("pk")):  # type: ignore[misc]
        found[(row["department"], row["tier"])] = row["n"]
    return found


def warning_table(found: Mapping[tuple[str, str], int]) -> WarningTable:
    """The table of open warnings by department and tier, from warning_counts."""
    tiers = [(str(t), str(label)) for t, label in Tier.choices]
    departments = sorted(
        {d for d, _ in found}, key=lambda d: list(DEPARTMENT_LABELS).index(d) if d in DEPARTMENT_LABELS else 99
    )
    rows = []
    for dept in departments:
        cells = [
            Segment(
                label, found.get((dept, tier), 0), warning_list_url(pending="true", department=dept, tier=tier), tier
            )
            for tier, label in tiers
        ]
        total = Segment("合计", sum(c.value for c in cells), warning_list_url(pending="true", department=dept), dept)
        rows.append((DEPARTMENT_LABELS.get(dept, dept), cells, total))
    totals = [
        Segment(
            label, sum(v for (d, t), v in found.items() if t == tier), warning_list_url(pending="true", tier=tier), tier
        )
        for tier, label in tiers
    ]
    total = Segment("合计", sum(found.values()), warning_list_url(pending="true"))
    return WarningTable(tiers, rows, totals, total)


def _alert_item(alert: ScaleAlert) -> AlertItem:
    level = "village" if alert.area.level == Area.Level.VILLAGE else "town"
    return AlertItem(
        label=f"{alert.area.name} · {WarningRisk(alert.risk_type).label} · {alert.period:%Y-%m}",
        households=alert.households,
        total_households=alert.total_households,
        threshold=alert.threshold,
        url=warning_list_url(**{level: alert.area_id}, risk_type=alert.risk_type, period=f"{alert.period:%Y-%m}"),
    )


# --- the ledger (台账) -------------------------------------------------------------------------


LEDGER_FIELDS = (
    "pk",
    "household__village__parent__name",
    "household__village__name",
    "household__number",
    "ledger_head_name",
    "ledger_head_id",
    "ledger_size",
    "category",
    "primary_risk",
    "secondary_risks",
    "channel",
    "discovered_on",
    "determined_on",
    "document_number",
    "ledger_income",
    "ledger_income_year",
    "contact_person__first_name",
    "contact_person__last_name",
    "contact_person__username",
    "eliminated_on",
    "elimination_reason",
    "state",
)


def ledger_cases(queryset: QuerySet[MonitoringCase]) -> QuerySet[MonitoringCase, tuple[Any, ...]]:
    """The cases of a (scoped, filtered) list as one row of LEDGER_FIELDS each, in one query
    (read from a server-side cursor): the town, village and household, the head's name and ID
    number, the household's size, its latest annual income, the contact person. The measures
    come per chunk from `ledger_measures`."""
    head = Member.objects.filter(
        household=OuterRef("household"), relation=Member.Relation.HEAD, status=Member.Status.ACTIVE
    )
    size = (
        Member.objects.filter(household=OuterRef("household"), status=Member.Status.ACTIVE)
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    income = IncomeRecord.objects.filter(household=OuterRef("household"), month__isnull=True).order_by("-year")
    return (
        queryset.annotate(
            ledger_head_name=Subquery(head.values("name")[:1]),
            ledger_head_id=Subquery(head.values("id_number")[:1]),
            ledger_size=Coalesce(Subquery(size), 0),
            ledger_income_year=Subquery(income.values("year")[:1]),
            ledger_income=Subquery(income.values("per_capita_net_income")[:1]),
        )
        .order_by("household__village__path", "household__number", "pk")
        .values_list(*LEDGER_FIELDS)
    )


def ledger_measures(case_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """{case id: [(measure type label, status), …]} in the plan's order, for a chunk of cases."""
    rows = (
        Measure.objects.filter(case_id__in=list(case_ids))
        .order_by("case_id", "starts_on", "pk")
        .values_list("case_id", "measure_type__label", "status")
    )
    out: dict[int, list[tuple[str, str]]] = {}
    for case_id, label, status in rows:
        out.setdefault(case_id, []).append((label, status))
    return out


# --- the monthly report (月度报表) --------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    label: str
    cells: list[Segment]


@dataclass
class MonthlyReport:
    month: datetime.date  # its first day
    scope_label: str
    warning_headers: list[str]
    by_department: list[ReportRow]
    by_town: list[ReportRow]
    warning_total: ReportRow
    case_headers: list[str]
    cases_by_town: list[ReportRow]
    case_total: ReportRow

    @property
    def month_text(self) -> str:
        return f"{self.month:%Y-%m}"


WARNING_COLUMNS = [
    ("raised", "预警户次", {}),
    ("included", "核实纳入", {"state": "included"}),
    ("excluded", "核实排除", {"state": "excluded"}),
    ("pending", "待核实", {"pending": "true"}),
    ("overdue", "其中超期未核实", {"overdue": "true"}),
]
CASE_COLUMNS = [
    ("identified", "新识别认定", "determined", {}),
    ("eliminated", "风险消除", "eliminated", {"state": State.ELIMINATED}),
    ("closed", "自然减少（关闭）", "ended", {"state": State.CLOSED}),
]


def _in_month(field_name: str, month: datetime.date) -> Q:
    return Q(**{f"{field_name}__year": month.year, f"{field_name}__month": month.month})


def _warning_row(label: str, counts: Mapping[str, Any], month_text: str, **where: object) -> ReportRow:
    cells = [
        Segment(title, counts.get(key, 0), warning_list_url(raised=month_text, **where, **extra), key)
        for key, title, extra in WARNING_COLUMNS
    ]
    return ReportRow(label, cells)


def monthly_report(user: AnyUser, month: datetime.date, today: datetime.date | None = None) -> MonthlyReport:
    """Warnings raised in `month` (预警日期) and what verification made of them so far, by
    source department and by town; cases newly determined, eliminated and closed in the
    month, by town. Every number links to its list; a handful of grouped queries."""
    today = today or timezone.localdate()
    month_text = f"{month:%Y-%m}"
    warnings = warning_selectors.warnings_visible_to(user).filter(_in_month("raised_on", month))
    aggregates = {
        "raised": Count("pk"),
        "included": Count("pk", filter=Q(state="included")),
        "excluded": Count("pk", filter=Q(state="excluded")),
        "pending": Count("pk", filter=Q(state__in=warning_selectors.OPEN)),
        "overdue": Count("pk", filter=warning_selectors.overdue_q(today)),
    }
    by_department_rows: dict[str, Any] = {
        row["department"]: row for row in warnings.order_by().values("department").annotate(**aggregates)
    }
    departments = sorted(
        by_department_rows, key=lambda d: list(DEPARTMENT_LABELS).index(d) if d in DEPARTMENT_LABELS else 99
    )
    by_department = [
        _warning_row(DEPARTMENT_LABELS.get(d, d), by_department_rows[d], month_text, department=d) for d in departments
    ]
    by_town_rows: dict[int | None, Any] = {
        row["town"]: row for row in warnings.order_by().values("town").annotate(**aggregates)
    }
    towns = list(household_selectors.areas_visible_to(user, Area.Level.TOWN).only("pk", "name"))
    by_town = [_warning_row(t.name, by_town_rows[t.pk], month_text, town=t.pk) for t in towns if t.pk in by_town_rows]
    if None in by_town_rows:  # county-level leads (a person in no household of the county)
        by_town.append(
            _warning_row("未落户线索（县级）", by_town_rows[None], month_text, department="registration", town="")
        )
    # Each warning is in one department's group: the total is their sum (no query of its own).
    total = {key: sum(row[key] for row in by_department_rows.values()) for key in aggregates}
    warning_total = _warning_row("合计", total, month_text)

    cases = monitoring_selectors.cases_visible_to(user)
    case_aggregates = {
        "identified": Count("pk", filter=_in_month("determined_on", month)),
        "eliminated": Count("pk", filter=Q(state=State.ELIMINATED) & _in_month("eliminated_on", month)),
        "closed": Count("pk", filter=Q(state=State.CLOSED) & _in_month("ended_on", month)),
    }
    in_month = (
        _in_month("determined_on", month)
        | (Q(state=State.ELIMINATED) & _in_month("eliminated_on", month))
        | (Q(state=State.CLOSED) & _in_month("ended_on", month))
    )
    case_rows: dict[int | None, Any] = {
        row["household__village__parent"]: row
        for row in cases.filter(in_month).order_by().values("household__village__parent").annotate(**case_aggregates)
    }

    def case_row(label: str, counts: Mapping[str, Any], **where: object) -> ReportRow:
        return ReportRow(
            label,
            [
                Segment(title, counts.get(key, 0), case_list_url(**{param: month_text}, **extra, **where), key)
                for key, title, param, extra in CASE_COLUMNS
            ],
        )

    cases_by_town = [case_row(t.name, case_rows.get(t.pk, {}), town=t.pk) for t in towns]
    # Each case is in one town's group (towns outside the list included): the total is their sum.
    case_total = case_row("合计", {key: sum(row[key] for row in case_rows.values()) for key in case_aggregates})
    return MonthlyReport(
        month=month,
        scope_label=scope_label(user),
        warning_headers=[title for _, title, _ in WARNING_COLUMNS],
        by_department=by_department,
        by_town=by_town,
        warning_total=warning_total,
        case_headers=[title for _, title, _, _ in CASE_COLUMNS],
        cases_by_town=cases_by_town,
        case_total=case_total,
    )
