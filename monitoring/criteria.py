"""The workflow's own elimination criteria (DOMAIN.md §5; seed 004 §四(二), seed 003 篇四).

Each is a criterion function for `monitoring.checklist` (named in
`settings.FANPIN_ELIMINATION_CRITERIA`): it takes the case and the day and returns a
`Criterion` with the figure it was judged on. The measure criterion lives with the measures
(`assistance.criteria`).
"""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from households.models import Household, IncomeRecord

from .checklist import Criterion
from .county_settings import county_settings_on, monitoring_lines
from .models import MonitoringCase


def _months_label(months: int) -> str:
    return f"认定满 {months} 个月"


def months_since_determination(case: MonitoringCase, day: datetime.date) -> Criterion:
    """Determined at least N months ago (county setting `min_months_before_elimination`, default 6,
    read on the determination date: the case keeps the rule it was determined under)."""
    if not case.determined_on:
        months = county_settings_on(case.household.village.county, day).min_months_before_elimination
        return Criterion("months", _months_label(months), False, "尚未认定")
    months = county_settings_on(case.household.village.county, case.determined_on).min_months_before_elimination
    since = case.determined_on
    elapsed = relativedelta(day, since)
    count = elapsed.years * 12 + elapsed.months
    due = since + relativedelta(months=months)
    return Criterion("months", _months_label(months), day >= due, f"{since} 认定，已 {count} 个月")


def _incomes(household: Household) -> list[IncomeRecord]:
    return sorted(household.incomes.all(), key=lambda r: (r.year, r.month or 13))


def _latest_annual(household: Household, day: datetime.date) -> IncomeRecord | None:
    annual = [r for r in _incomes(household) if r.month is None and r.year >= day.year - 1]
    return annual[-1] if annual else None


NO_ANNUAL = "近两年没有年度收入记录"


def income_stable(case: MonitoringCase, day: datetime.date) -> Criterion:
    """Per-capita net income stably above the monitoring line: the latest annual record (this
    year or last) above that year's line, and the monthly records of the last six months, if any
    were entered, above it too."""
    label = "人均纯收入稳定高于监测线"
    household = case.household
    latest = _latest_annual(household, day)
    if latest is None:
        return Criterion("income", label, False, NO_ANNUAL)
    line = monitoring_lines(household.village.county).get(latest.year)
    if line is None:
        return Criterion("income", label, False, f"{latest.year} 年监测线未设置")
    since = (day - relativedelta(months=6)).replace(day=1)
    recent = [r for r in _incomes(household) if r.month and datetime.date(r.year, r.month, 1) >= since]
    low = [r for r in recent if r.per_capita_net_income < line / 12]
    figure = f"{latest.year} 年人均 {latest.per_capita_net_income} 元，监测线 {line} 元"
    if low:
        figure += f"；近半年有 {len(low)} 个月低于监测线"
    return Criterion("income", label, latest.per_capita_net_income > line and not low, figure)


def rigid_spending_resolved(case: MonitoringCase, day: datetime.date) -> Criterion:
    """Rigid spending (self-paid medical, education) no longer exceeding the family's income."""
    label = "大额刚性支出已解决"
    latest = _latest_annual(case.household, day)
    if latest is None:
        return Criterion("rigid", label, False, NO_ANNUAL)
    rigid = latest.rigid_expenditure
    return Criterion(
        "rigid",
        label,
        rigid <= max(latest.total_net_income, Decimal("0")),
        f"{latest.year} 年刚性支出 {rigid} 元，家庭纯收入 {latest.total_net_income} 元",
    )


def two_assurances(case: MonitoringCase, day: datetime.date) -> Criterion:
    """两不愁三保障 and drinking water secured, as the registry (and the last visit) says."""
    problems = [label for label, secure, _ in case.household.security_status() if not secure]
    return Criterion(
        "security",
        "“两不愁三保障”及饮水安全有保障",
        not problems,
        "全部有保障" if not problems else "未保障：" + "、".join(problems),
    )
