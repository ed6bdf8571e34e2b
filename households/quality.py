"""Data-quality checks (DOMAIN.md §8 基层减负: catch inconsistencies at entry, not at audit).

The same checks run after every entry (page, API, import) and over the whole registry for
the data-quality report. They read members and income records through `.all()`, so a
prefetched queryset checks a page of households in a constant number of queries.

Over the registry the database finds the failing households: each check also exists as a
SQL condition (`selectors.quality_conditions`), and the report builds these Python findings
(the Chinese wording) only for the households on the page it shows. The thresholds below
are shared by both definitions; tests/households/test_quality.py generates varied
households and asserts both definitions flag the same ones, so they cannot drift apart.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from .models import Household, IncomeRecord, Member, per_capita

WORKING_AGE = 16
UNABLE_TO_WORK = (Member.Labour.LOST, Member.Labour.NONE)

# Every check, in the order the report lists them, with the label of its filter.
CHECKS = [
    ("no_members", "没有在户成员"),
    ("no_head", "没有户主"),
    ("child_wage", f"未满{WORKING_AGE}周岁务工"),
    ("student_wage", "在校生务工"),
    ("unable_wage", "丧失/无劳动力务工"),
    ("dibao_and_tekun", "低保与特困同时享受"),
    ("disability_category", "有残疾等级无类别"),
    ("income_total", "收入合计与各项不符"),
    ("per_capita", "人均纯收入计算不符"),
    ("policy_transfer", "政策性转移收入超出"),
    ("household_size", "收入人口与在户人口不符"),
]
CHECK_LABELS = dict(CHECKS)


def oldest_checked_income_year(today):
    """The latest annual income is compared with today's members only if it is this recent:
    an older record describes the household as it was then."""
    return today.year - 1


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    member_id: int | None = None


def member_findings(member, today=None):
    today = today or timezone.localdate()
    findings = []
    works = member.work_months > 0 or bool(member.work_place)
    if member.status != Member.Status.ACTIVE:
        return findings
    if works and member.age_on(today) < WORKING_AGE:
        findings.append(
            Finding(
                "child_wage", f"{member.name} 未满 {WORKING_AGE} 周岁，却登记了务工（工资性收入），请核实。", member.pk
            )
        )
    if works and member.schooling:
        findings.append(
            Finding(
                "student_wage",
                f"{member.name} 是在校生（{member.get_schooling_display()}），却登记了务工，请核实。",
                member.pk,
            )
        )
    if works and member.labour_capacity in UNABLE_TO_WORK:
        findings.append(
            Finding(
                "unable_wage",
                f"{member.name} 为{member.get_labour_capacity_display()}，却登记了务工，请核实。",
                member.pk,
            )
        )
    if member.dibao and member.tekun:
        findings.append(
            Finding("dibao_and_tekun", f"{member.name} 同时登记为低保和特困供养，两者不能同时享受。", member.pk)
        )
    if member.disability_level and not member.disability_category:
        findings.append(Finding("disability_category", f"{member.name} 有残疾等级但没有残疾类别。", member.pk))
    return findings


def income_findings(record, active_size=None):
    findings = []
    total = record.computed_total()
    if record.total_net_income != total:
        findings.append(
            Finding(
                "income_total",
                f"{record.period_label}家庭纯收入 {record.total_net_income} 元与各项收入之和 {total} 元不一致。",
            )
        )
    expected = per_capita(record.total_net_income, record.household_size)
    if record.per_capita_net_income != expected:
        findings.append(
            Finding(
                "per_capita",
                f"{record.period_label}人均纯收入 {record.per_capita_net_income} 元应为 {expected} 元"
                f"（{record.total_net_income} ÷ {record.household_size} 人）。",
            )
        )
    if record.policy_transfer_income > record.transfer_income:
        findings.append(Finding("policy_transfer", f"{record.period_label}政策性转移收入大于转移性收入。"))
    return findings


def household_findings(household: Household, today: datetime.date | None = None) -> list[Finding]:
    """Every inconsistency of one household, members and income records included."""
    return findings_of(list(household.members.all()), list(household.incomes.all()), today)


def findings_of(
    members: list[Member], records: list[IncomeRecord], today: datetime.date | None = None
) -> list[Finding]:
    """household_findings for a household given as its members and income records (the
    importer checks the households it has just created from the rows it validated)."""
    today = today or timezone.localdate()
    active = [m for m in members if m.status == Member.Status.ACTIVE]
    findings: list[Finding] = []
    if not active:
        findings.append(Finding("no_members", "该户没有在户成员。"))
    elif not any(m.relation == Member.Relation.HEAD for m in active):
        findings.append(Finding("no_head", "该户没有在户的户主，请指定户主。"))
    for member in members:
        findings.extend(member_findings(member, today))
    for record in records:
        findings.extend(income_findings(record))
    annual = sorted((r for r in records if r.month is None), key=lambda r: r.year)
    latest = annual[-1] if annual else None
    if latest and active and latest.year >= oldest_checked_income_year(today) and latest.household_size != len(active):
        findings.append(
            Finding(
                "household_size",
                f"{latest.year}年收入按 {latest.household_size} 人计算，但目前在户 {len(active)} 人"
                f"（死亡、迁出人员不计入家庭人口），请重新保存该年收入。",
            )
        )
    return findings


def registry_findings(households):
    """[(household, findings)] for the households that fail a check; pass a prefetched queryset."""
    today = timezone.localdate()
    report = []
    for household in households:
        found = household_findings(household, today)
        if found:
            report.append((household, found))
    return report


def prefetch_for_checks(queryset: QuerySet[Household]) -> QuerySet[Household]:
    return queryset.prefetch_related(
        "members", Prefetch("incomes", queryset=IncomeRecord.objects.order_by("year", "month"))
    )
