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
    # From the later of the determination date and the day it was recorded (issue 7 point 2).
    since = case.elimination_wait_from
    elapsed = relativedelta(day, since)
    count = elapsed.years * 12 + elapsed.months
    due = since + relativedelta(months=months)
    figure = f"{case.determined_on} 认定，已 {count} 个月"
    if since != case.determined_on:
        figure = f"{case.determined_on} 认定（{since} 录入，自录入日起算），已 {count} 个月"
    return Criterion("months", _months_label(months), day >= due, figure)


def _incomes(household: Household) -> list[IncomeRecord]:
    return sorted(household.incomes.all(), key=lambda r: (r.year, r.month or 13))


def _latest_annual(household: Household, day: datetime.date) -> IncomeRecord | None:
    annual = [r for r in _incomes(household) if r.month is None and day.year - 1 <= r.year <= day.year]
    return annual[-1] if annual else None


NO_ANNUAL = "近两年没有年度收入记录"


def _months_before(day: datetime.date, count: int) -> list[tuple[int, int]]:
    """The `count` whole months before the month of `day`, oldest first, as (year, month)."""
    first = day.replace(day=1)
    return [
        ((first - relativedelta(months=n)).year, (first - relativedelta(months=n)).month) for n in range(count, 0, -1)
    ]


def _annual_figure(record: IncomeRecord, line: Decimal | None) -> str:
    if line is None:
        return f"{record.year} 年人均 {record.per_capita_net_income} 元，{record.year} 年监测线未设置"
    return f"{record.year} 年人均 {record.per_capita_net_income} 元，监测线 {line} 元"


def income_stable(case: MonitoringCase, day: datetime.date) -> Criterion:
    """Per-capita net income stably above the monitoring line (DOMAIN.md §5: "for at least half a
    year"; issue 7 point 5): the latest annual record (this year or last) above that year's line,
    and either the year before above its line too, or a monthly record for each of the last N
    months (county setting `stable_income_months`, default 6) above the line's monthly share. One
    good year entered today after a poor one is not yet stable."""
    label = "人均纯收入稳定高于监测线"
    household = case.household
    latest = _latest_annual(household, day)
    if latest is None:
        return Criterion("income", label, False, NO_ANNUAL)
    lines = monitoring_lines(household.village.county)
    line = lines.get(latest.year)
    if line is None:
        return Criterion("income", label, False, f"{latest.year} 年监测线未设置")
    figure = [_annual_figure(latest, line)]
    latest_ok = latest.per_capita_net_income > line

    before = next((r for r in _incomes(household) if r.month is None and r.year == latest.year - 1), None)
    before_line = lines.get(latest.year - 1)
    before_ok = bool(before and before_line is not None and before.per_capita_net_income > before_line)
    if before is None:
        figure.append(f"{latest.year - 1} 年无年度收入记录")
    else:
        figure.append(_annual_figure(before, before_line))

    months_ok = False
    if latest_ok and not before_ok:
        count = county_settings_on(household.village.county, day).stable_income_months
        monthly = {(r.year, r.month): r for r in _incomes(household) if r.month}
        missing, low = 0, 0
        for year, month in _months_before(day, count):
            record, month_line = monthly.get((year, month)), lines.get(year)
            if record is None or month_line is None:
                missing += 1
            elif record.per_capita_net_income <= month_line / 12:
                low += 1
        months_ok = not missing and not low
        share = (line / 12).quantize(Decimal("0.01"))
        if months_ok:
            figure.append(f"近 {count} 个月月人均收入均高于监测线月均值 {share} 元")
        else:
            parts = [f"{missing} 个月无月度收入记录"] if missing else []
            parts += [f"{low} 个月低于监测线月均值 {share} 元"] if low else []
            figure.append(f"近 {count} 个月中" + "、".join(parts))
    return Criterion("income", label, latest_ok and (before_ok or months_ok), "；".join(figure))


def rigid_spending_resolved(case: MonitoringCase, day: datetime.date) -> Criterion:
    """Large rigid spending resolved (seed 004 §四(二)): per-capita net income after the rigid
    spending (self-paid medical, education) of the latest annual record is above the line."""
    label = "大额刚性支出已解决"
    household = case.household
    latest = _latest_annual(household, day)
    if latest is None:
        return Criterion("rigid", label, False, NO_ANNUAL)
    line = monitoring_lines(household.village.county).get(latest.year)
    rigid = latest.rigid_expenditure
    size = latest.household_size or 1
    after = ((latest.total_net_income - rigid) / size).quantize(Decimal("0.01"))
    figure = (
        f"{latest.year} 年家庭纯收入 {latest.total_net_income} 元，刚性支出 {rigid} 元，扣除后人均 {after} 元，"
        + (f"监测线 {line} 元" if line is not None else f"{latest.year} 年监测线未设置")
    )
    return Criterion("rigid", label, line is not None and after > line, figure)


def two_assurances(case: MonitoringCase, day: datetime.date) -> Criterion:
    """两不愁三保障 and drinking water secured, as the registry (and the last visit) says."""
    problems = [label for label, secure, _ in case.household.security_status() if not secure]
    return Criterion(
        "security",
        "“两不愁三保障”及饮水安全有保障",
        not problems,
        "全部有保障" if not problems else "未保障：" + "、".join(problems),
    )
