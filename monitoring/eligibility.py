"""Risk-elimination criteria (DOMAIN.md §5; seed 004 §四(二), seed 003 篇四).

A case may be proposed for elimination only when every criterion holds; the system shows
each one as met / not met with its figure before anyone may propose.
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from households.models import Member

MIN_MONTHS_MONITORED = 6


@dataclass(frozen=True)
class Criterion:
    code: str
    label: str
    met: bool
    figure: str


def household_has_labour(household):
    return any(
        m.status == Member.Status.ACTIVE and m.labour_capacity in (Member.Labour.NORMAL, Member.Labour.WEAK)
        for m in household.members.all()
    )


def monitoring_line(county, year):
    from .models import MonitoringLine

    line = MonitoringLine.objects.filter(county=county, year=year).first()
    return line.amount if line else None


def elimination_criteria(case, today=None):
    from assistance.models import Measure

    today = today or timezone.localdate()
    household = case.household
    county = household.village.county
    criteria = []

    if case.determined_on:
        months = relativedelta(today, case.determined_on)
        months = months.years * 12 + months.months
        due = case.determined_on + relativedelta(months=MIN_MONTHS_MONITORED)
        criteria.append(
            Criterion(
                "months",
                f"认定满 {MIN_MONTHS_MONITORED} 个月",
                today >= due,
                f"{case.determined_on} 认定，已 {months} 个月",
            )
        )
    else:
        criteria.append(Criterion("months", f"认定满 {MIN_MONTHS_MONITORED} 个月", False, "尚未认定"))

    carried_out = Measure.objects.filter(
        case=case, status__in=[Measure.Status.IN_PROGRESS, Measure.Status.DONE]
    ).count()
    criteria.append(Criterion("measures", "至少落实一项帮扶措施", carried_out > 0, f"已落实 {carried_out} 项"))

    # Income: the latest annual record (this year or last) above that year's monitoring line,
    # and the monthly records of the last six months, if any were entered, above it too.
    incomes = sorted((r for r in household.incomes.all()), key=lambda r: (r.year, r.month or 13))
    annual = [r for r in incomes if r.month is None and r.year >= today.year - 1]
    if annual:
        latest = annual[-1]
        line = monitoring_line(county, latest.year)
        if line is None:
            criteria.append(Criterion("income", "人均纯收入稳定高于监测线", False, f"{latest.year} 年监测线未设置"))
        else:
            since = today - relativedelta(months=6)
            recent_months = [
                r for r in incomes if r.month and datetime.date(r.year, r.month, 1) >= since.replace(day=1)
            ]
            monthly_line = line / 12
            low_months = [r for r in recent_months if r.per_capita_net_income < monthly_line]
            met = latest.per_capita_net_income > line and not low_months
            figure = f"{latest.year} 年人均 {latest.per_capita_net_income} 元，监测线 {line} 元"
            if low_months:
                figure += f"；近半年有 {len(low_months)} 个月低于监测线"
            criteria.append(Criterion("income", "人均纯收入稳定高于监测线", met, figure))
        # Rigid spending (self-paid medical, education) no longer exceeding the family's income.
        rigid = latest.rigid_expenditure
        criteria.append(
            Criterion(
                "rigid",
                "大额刚性支出已解决",
                rigid <= max(latest.total_net_income, 0),
                f"{latest.year} 年刚性支出 {rigid} 元，家庭纯收入 {latest.total_net_income} 元",
            )
        )
    else:
        criteria.append(Criterion("income", "人均纯收入稳定高于监测线", False, "近两年没有年度收入记录"))
        criteria.append(Criterion("rigid", "大额刚性支出已解决", False, "近两年没有年度收入记录"))

    problems = [label for label, secure, _ in household.security_status() if not secure]
    criteria.append(
        Criterion(
            "security",
            "“两不愁三保障”及饮水安全有保障",
            not problems,
            "全部有保障" if not problems else "未保障：" + "、".join(problems),
        )
    )
    return criteria
