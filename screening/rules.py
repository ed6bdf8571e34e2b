"""Warning rules (预警规则, DOMAIN.md §6 and §8): each one a declaration and one small function
over the kept matches of the department files (or over the registry, for the platform rules).

A rule function takes a `Context` (county, period, the county's warning settings in force on
the period's first day) and returns its `Hit`s, reading the rows with one query (set-based:
never a query per row or per household). Thresholds are county settings with an effective
date (`WarningSettings`), the 医保 shares are of the county's previous-year rural per-capita
disposable income (`RuralIncome`). Adding a rule is one function and one `Rule(...)` in RULES;
recording, merging, tiers, verification and the pages follow from it.

A rule fires when the figure is strictly above its threshold ("超过").
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from households.models import Area, Department, Household, IncomeRecord
from monitoring.models import OPEN_STATES, MonitoringCase, MonitoringLine

from .models import (
    ALWAYS_DATE,
    RiskWarning,
    RuralIncome,
    ScreeningRow,
    ScreeningRowQuerySet,
    Tier,
    WarningRisk,
    WarningSettings,
)

Kind = Department.Kind
PLATFORM = "platform"


def warning_settings_on(county: Area, day: datetime.date) -> WarningSettings:
    """The county's warning settings in force on `day`, or the defaults (unsaved)."""
    found = WarningSettings.objects.filter(county=county, effective_from__lte=day).order_by("-effective_from").first()
    return found or WarningSettings(county=county, effective_from=ALWAYS_DATE)


@dataclass
class Context:
    county: Area
    period: datetime.date  # first day of the month
    settings: WarningSettings

    def rows(self, kind: str, whole_year: bool = False) -> ScreeningRowQuerySet:
        """The current rows of the county's department of `kind` for the period (or, with
        `whole_year`, for January up to the period)."""
        rows = ScreeningRow.objects.current().filter(department__county=self.county, department__kind=kind)
        if whole_year:
            return rows.filter(period__gte=self.period.replace(month=1), period__lte=self.period)
        return rows.filter(period=self.period)


@dataclass
class Hit:
    """One finding of a rule for one household (or, for a registration lead, one person)."""

    figure: str  # which rule fired, with the figure and the threshold, in Chinese
    key: str  # identifies the finding within the warning (merging is by this key)
    household_id: int | None = None
    village_id: int | None = None
    town_id: int | None = None
    id_number: str = ""
    name: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    upload_id: int | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    department: str  # a Department.Kind, or "platform"
    risk_type: str
    severity: str  # Tier
    find: Callable[[Context], list[Hit]]
    setting: str = ""  # where the county changes it (shown on the pages)


def yuan(value: Decimal | int | float) -> str:
    """38420 -> "38,420"; 38420.5 -> "38,420.50"."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _share(value: int) -> str:
    return f"{value} %"


MATCHED_FIELDS = ("id", "upload_id", "row_number", "household_id", "village_id", "town_id", "id_number", "name")


def _row_evidence(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "upload": row["upload_id"],
        "row": row["row_number"],
        "period": f"{row['period']:%Y-%m}" if row.get("period") else "",
        "data": row.get("data") or {},
    }


def _row_hits(rows: ScreeningRowQuerySet, figure: Callable[[dict[str, Any]], str], code: str) -> list[Hit]:
    """One hit per matched row (the common shape of the per-record rules)."""
    hits = []
    for row in rows.matched().values(*MATCHED_FIELDS, "period", "amount", "event_date", "code", "data", "record_key"):
        hits.append(
            Hit(
                figure=figure(row),
                key=f"{code}:{row['id_number']}:{row['record_key']}",
                household_id=row["household_id"],
                village_id=row["village_id"],
                town_id=row["town_id"],
                id_number=row["id_number"],
                name=row["name"],
                rows=[_row_evidence(row)],
                upload_id=row["upload_id"],
            )
        )
    return hits


def _data_int(key: str) -> Cast:
    return Cast(KeyTextTransform(key, "data"), IntegerField())


def _open_case(household: str = "household_id") -> Exists:
    return Exists(MonitoringCase.objects.filter(household_id=OuterRef(household), state__in=OPEN_STATES))


# --- 医保 ---------------------------------------------------------------------------------------


def medical_annual(ctx: Context) -> list[Hit]:
    """Annual cumulative self-paid cost above a share of the previous year's rural per-capita
    disposable income (one share for former-poor and monitored households, another for other
    rural residents), or above a fixed sum."""
    s = ctx.settings
    income = RuralIncome.objects.filter(county=ctx.county, year=ctx.period.year - 1).values_list("amount", flat=True)
    base = next(iter(income), None)
    limits: list[Decimal] = []
    if base is not None:
        limits += [base * s.medical_share_monitored / 100, base * s.medical_share_other / 100]
    if s.medical_annual_sum is not None:
        limits.append(s.medical_annual_sum)
    if not limits:
        return []
    people = (
        ctx.rows(Kind.MEDICAL_INSURANCE, whole_year=True)
        .matched()
        .values("member_id", "household_id", "village_id", "town_id", "id_number", "name")
        .annotate(
            total=Sum("amount"),
            visits=Count("id"),
            last_upload=Max("upload_id"),
            formerly_poor=ExpressionWrapper(
                Q(household__household_type=Household.Type.FORMERLY_POOR), output_field=BooleanField()
            ),
            monitored=_open_case(),
        )
        .filter(total__gt=min(limits))
        .order_by("household_id", "member_id")
    )
    months = f"{ctx.period.year} 年 1–{ctx.period.month} 月" if ctx.period.month > 1 else f"{ctx.period.year} 年 1 月"
    warned = _annual_already_warned(ctx)
    hits = []
    for p in people:
        if f"medical_annual:{p['id_number']}" in warned:
            continue
        total: Decimal = p["total"]
        figure = ""
        if base is not None:
            share = s.medical_share_monitored if (p["formerly_poor"] or p["monitored"]) else s.medical_share_other
            limit = (base * share / 100).quantize(Decimal("0.01"))
            if total > limit:
                figure = (
                    f"{months}个人自付 {yuan(total)} 元，超过上年农村居民人均可支配收入的 {_share(share)}"
                    f"（{yuan(limit)} 元）"
                )
        if not figure and s.medical_annual_sum is not None and total > s.medical_annual_sum:
            figure = f"{months}个人自付 {yuan(total)} 元，超过 {yuan(s.medical_annual_sum)} 元"
        if figure:
            hits.append(
                Hit(
                    figure=figure,
                    key=f"medical_annual:{p['id_number']}",
                    household_id=p["household_id"],
                    village_id=p["village_id"],
                    town_id=p["town_id"],
                    id_number=p["id_number"],
                    name=p["name"],
                    rows=[{"visits": p["visits"], "total": str(total), "months": months}],
                    upload_id=p["last_upload"],
                )
            )
    return hits


def _annual_already_warned(ctx: Context) -> set[str]:
    """The people whose cumulative self-paid cost already raised a warning in an earlier month of
    the year (one query). The annual total only grows through the year: the crossing is one
    event, raised once per person and year in the month it happens, not again every later month
    (one warning per household, risk type and period, and the period is that month). A warning
    withdrawn because its rows were corrected away does not count."""
    earlier = RiskWarning.objects.filter(
        county=ctx.county,
        risk_type=WarningRisk.ILLNESS,
        period__gte=ctx.period.replace(month=1),
        period__lt=ctx.period,
        withdrawn_at__isnull=True,
    ).values_list("evidence", flat=True)
    return {
        item["key"]
        for evidence in earlier
        for item in evidence
        if str(item.get("key", "")).startswith("medical_annual:")
    }


def medical_stay(ctx: Context) -> list[Hit]:
    """A single hospitalisation's self-paid cost above a sum."""
    limit = ctx.settings.medical_stay_sum
    if limit is None:
        return []
    rows = ctx.rows(Kind.MEDICAL_INSURANCE).filter(code="是", amount__gt=limit)
    return _row_hits(
        rows,
        lambda r: f"{r['event_date']:%Y-%m-%d} 单次住院个人自付 {yuan(r['amount'])} 元，超过 {yuan(limit)} 元",
        "medical_stay",
    )


# --- 残联、应急、住建、教育、人社、金融、民政 -------------------------------------------------------


def disability_severe(ctx: Context) -> list[Hit]:
    """Newly certified severe disability: levels 1–2, or 3–4 for mental and intellectual."""
    since = ctx.period - datetime.timedelta(days=ctx.settings.disability_recent_days)
    rows = (
        ctx.rows(Kind.DISABLED_FEDERATION)
        .annotate(level=_data_int("disability_level"))
        .filter(Q(level__in=[1, 2]) | Q(level__in=[3, 4], code__in=["精神残疾", "智力残疾"]))
        .filter(Q(event_date__isnull=True) | Q(event_date__gte=since))
    )

    def figure(r: dict[str, Any]) -> str:
        day = f"{r['event_date']:%Y-%m-%d} " if r["event_date"] else ""
        return f"{day}新办残疾人证：{r['code']}{r['data'].get('disability_level', '')} 级（重度）"

    return _row_hits(rows, figure, "disability_severe")


def disaster_loss(ctx: Context) -> list[Hit]:
    limit = ctx.settings.disaster_loss_sum
    rows = ctx.rows(Kind.EMERGENCY).filter(amount__gt=limit)
    return _row_hits(
        rows,
        lambda r: (
            f"{r['event_date']:%Y-%m-%d} {r['code'] or ''}受灾，损失 {yuan(r['amount'])} 元，超过 {yuan(limit)} 元"
        ),
        "disaster_loss",
    )


def housing_unsafe(ctx: Context) -> list[Hit]:
    rows = ctx.rows(Kind.HOUSING).filter(code__in=["C", "D"])
    return _row_hits(rows, lambda r: f"农房安全鉴定为 {r['code']} 级（危房）", "housing_unsafe")


def education_dropout(ctx: Context) -> list[Hit]:
    rows = ctx.rows(Kind.EDUCATION).filter(code="辍学")
    return _row_hits(rows, lambda r: f"学生辍学（{r['data'].get('stage', '')}）", "education_dropout")


def education_burden(ctx: Context) -> list[Hit]:
    stages = WarningSettings.words(ctx.settings.education_burden_stages)
    if not stages:
        return []
    rows = ctx.rows(Kind.EDUCATION).filter(code="在校", data__stage__in=stages)
    return _row_hits(rows, lambda r: f"家中有{r['data'].get('stage', '')}在校生，就学负担较重", "education_burden")


def employment_unstable(ctx: Context) -> list[Hit]:
    statuses = WarningSettings.words(ctx.settings.employment_statuses)
    rows = ctx.rows(Kind.HUMAN_RESOURCES).filter(code__in=statuses)

    def figure(r: dict[str, Any]) -> str:
        day = f"（{r['event_date']:%Y-%m-%d}）" if r["event_date"] else ""
        return f"就业状态：{r['code']}{day}"

    return _row_hits(rows, figure, "employment_unstable")


def loan_overdue(ctx: Context) -> list[Hit]:
    days = ctx.settings.loan_overdue_days
    rows = ctx.rows(Kind.FINANCE).annotate(overdue=_data_int("overdue_days")).filter(overdue__gt=days)
    return _row_hits(
        rows,
        lambda r: (
            f"小额信贷逾期 {r['data'].get('overdue_days')} 天，逾期金额 {yuan(r['amount'] or 0)} 元，超过 {days} 天"
        ),
        "loan_overdue",
    )


def assistance_new(ctx: Context) -> list[Hit]:
    """A new 低保/特困 recipient not under monitoring: reviewed together (the 2026 rule)."""
    since = ctx.period - datetime.timedelta(days=ctx.settings.assistance_recent_days)
    rows = (
        ctx.rows(Kind.CIVIL_AFFAIRS)
        .filter(code__in=["低保", "特困"], event_date__gte=since)
        .annotate(monitored=_open_case())
        .filter(monitored=False)
    )
    return _row_hits(
        rows,
        lambda r: f"{r['event_date']:%Y-%m-%d} 起享受{r['code']}，尚未纳入监测，需同步识别复核",
        "assistance_new",
    )


def registration_lead(ctx: Context) -> list[Hit]:
    """A person in a department file but in no household of the registry: a lead for the
    county to check and register (the lead has no village until someone finds the household)."""
    kinds = WarningSettings.words(ctx.settings.registration_lead_kinds)
    rows = (
        ScreeningRow.objects.current()
        .unmatched()
        .filter(department__county=ctx.county, department__kind__in=kinds, period=ctx.period)
        .values("id_number", "name", "department__kind")
        .annotate(rows=Count("id"), last_upload=Max("upload_id"))
        .order_by("id_number")
    )
    hits = []
    for r in rows:
        label = Kind(r["department__kind"]).label
        hits.append(
            Hit(
                figure=f"{label}数据中有此人（{r['name']}），但本县农户登记中没有",
                key=f"registration:{r['department__kind']}:{r['id_number']}",
                id_number=r["id_number"],
                name=r["name"],
                rows=[{"department": r["department__kind"], "rows": r["rows"]}],
                upload_id=r["last_upload"],
            )
        )
    return hits


# --- platform rules over the registry ---------------------------------------------------------


def _annual(ctx: Context, year: int) -> QuerySet[IncomeRecord]:
    return IncomeRecord.objects.filter(
        year=year, month__isnull=True, household__village__path__startswith=ctx.county.path
    )


def _income_hits(records: Iterable[dict[str, Any]], figure: Callable[[dict[str, Any]], str], code: str) -> list[Hit]:
    return [
        Hit(
            figure=figure(r),
            key=f"{code}:{r['household_id']}:{r['year']}",
            household_id=r["household_id"],
            village_id=r["household__village_id"],
            town_id=r["household__village__parent_id"],
            rows=[{"year": r["year"], "per_capita": str(r["per_capita_net_income"])}],
        )
        for r in records
    ]


INCOME_FIELDS = ("household_id", "household__village_id", "household__village__parent_id", "year")


def income_below_line(ctx: Context) -> list[Hit]:
    """Last year's per-capita net income below the county's monitoring line, not under monitoring."""
    year = ctx.period.year - 1
    line = MonitoringLine.objects.filter(county=ctx.county, year=year).values_list("amount", flat=True).first()
    if line is None:
        return []
    records = (
        _annual(ctx, year)
        .filter(per_capita_net_income__lt=line)
        .annotate(monitored=_open_case())
        .filter(monitored=False)
        .values(*INCOME_FIELDS, "per_capita_net_income")
    )
    return _income_hits(
        records,
        lambda r: f"{year} 年人均纯收入 {yuan(r['per_capita_net_income'])} 元，低于监测线 {yuan(line)} 元",
        "income_below_line",
    )


def income_drop(ctx: Context) -> list[Hit]:
    """Per-capita income down beyond a share from the year before."""
    year = ctx.period.year - 1
    share = ctx.settings.income_drop_share
    before = IncomeRecord.objects.filter(household_id=OuterRef("household_id"), year=year - 1, month__isnull=True)
    records = (
        _annual(ctx, year)
        .annotate(before=Subquery(before.values("per_capita_net_income")[:1]))
        .filter(before__gt=0, per_capita_net_income__lt=F("before") * (100 - share) / 100)
        .values(*INCOME_FIELDS, "per_capita_net_income", "before")
    )
    return _income_hits(
        records,
        lambda r: (
            f"{year} 年人均纯收入 {yuan(r['per_capita_net_income'])} 元，比上年 {yuan(r['before'])} 元"
            f"下降超过 {_share(share)}"
        ),
        "income_drop",
    )


def rigid_expenditure(ctx: Context) -> list[Hit]:
    """Rigid expenditure (self-paid medical and education costs) above the household's income."""
    year = ctx.period.year - 1
    records = (
        _annual(ctx, year)
        .annotate(rigid=F("medical_expense") + F("education_expense"))
        .filter(rigid__gt=F("total_net_income"))
        .values(*INCOME_FIELDS, "per_capita_net_income", "rigid", "total_net_income")
    )
    return _income_hits(
        records,
        lambda r: f"{year} 年刚性支出 {yuan(r['rigid'])} 元，超过家庭纯收入 {yuan(r['total_net_income'])} 元",
        "rigid_expenditure",
    )


RED, ORANGE, YELLOW = Tier.RED, Tier.ORANGE, Tier.YELLOW
R = WarningRisk
RULES: list[Rule] = [
    Rule("medical_annual", "医保年度累计自付过高", Kind.MEDICAL_INSURANCE, R.ILLNESS, RED, medical_annual,
         "medical_share_monitored、medical_share_other、medical_annual_sum；RuralIncome"),
    Rule("medical_stay", "医保单次住院自付过高", Kind.MEDICAL_INSURANCE, R.ILLNESS, ORANGE, medical_stay,
         "medical_stay_sum"),
    Rule("disability_severe", "残联新增重度残疾", Kind.DISABLED_FEDERATION, R.DISABILITY, ORANGE, disability_severe,
         "disability_recent_days"),
    Rule("disaster_loss", "应急受灾损失", Kind.EMERGENCY, R.DISASTER, RED, disaster_loss, "disaster_loss_sum"),
    Rule("housing_unsafe", "住建 C/D 级危房", Kind.HOUSING, R.HOUSING, RED, housing_unsafe),
    Rule("education_dropout", "教育辍学", Kind.EDUCATION, R.EDUCATION, RED, education_dropout),
    Rule("education_burden", "教育就学负担", Kind.EDUCATION, R.EDUCATION, YELLOW, education_burden,
         "education_burden_stages"),
    Rule("employment_unstable", "人社失业或返乡", Kind.HUMAN_RESOURCES, R.EMPLOYMENT, YELLOW, employment_unstable,
         "employment_statuses"),
    Rule("loan_overdue", "金融小额信贷逾期", Kind.FINANCE, R.LOAN, ORANGE, loan_overdue, "loan_overdue_days"),
    Rule("assistance_new", "民政新增低保特困未纳入监测", Kind.CIVIL_AFFAIRS, R.ASSISTANCE, ORANGE, assistance_new,
         "assistance_recent_days"),
    Rule("registration_lead", "部门数据中有、农户登记中没有", "*", R.REGISTRATION, YELLOW, registration_lead,
         "registration_lead_kinds"),
    Rule("income_below_line", "人均纯收入低于监测线", PLATFORM, R.INCOME, RED, income_below_line, "MonitoringLine"),
    Rule("income_drop", "人均纯收入大幅下降", PLATFORM, R.INCOME, ORANGE, income_drop, "income_drop_share"),
    Rule("rigid_expenditure", "刚性支出超过收入", PLATFORM, R.EXPENDITURE, ORANGE, rigid_expenditure),
]  # fmt: skip
RULES_BY_CODE = {rule.code: rule for rule in RULES}


def rules_for(department: str) -> list[Rule]:
    """The rules a finished upload of `department` runs (the registration lead runs for every
    department, limited by the county's setting), or the platform rules."""
    return [r for r in RULES if r.department == department or (r.department == "*" and department != PLATFORM)]
