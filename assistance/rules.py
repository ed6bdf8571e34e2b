"""The policy rules of a plan (一户一策), shown where the plan is made (seed 004 §五, seed 001 §二,
seed 003 篇四 §风险解除). They are warnings with their reason, not blocks: the people who know
the household decide, and the plan page says what the policy expects.

Each rule is a small function of the plan's facts returning the warnings it raises; the
messages are the exact Chinese the page and the API show.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from households.models import Household, Member
from monitoring.models import RiskType

from .models import Measure, MeasureType

if TYPE_CHECKING:
    from monitoring.models import MonitoringCase

LABOUR_CAPABLE = (Member.Labour.NORMAL, Member.Labour.WEAK)
DEFAULT_PLAN_DUE_DAYS = 15


@dataclass(frozen=True)
class RuleWarning:
    code: str
    message: str


@dataclass
class PlanFacts:
    """What the rules look at, read once for the plan page, the API and the checklist."""

    case: MonitoringCase
    household: Household
    measures: list[Measure]
    has_labour: bool
    today: datetime.date
    plan_due_days: int = DEFAULT_PLAN_DUE_DAYS
    risks: list[str] = field(default_factory=list)

    @property
    def active(self) -> list[Measure]:
        return [m for m in self.measures if m.is_active]


def risk_codes(case: MonitoringCase) -> list[str]:
    """The case's risk types, primary first."""
    codes = [case.primary_risk] if case.primary_risk else []
    return codes + [r for r in (case.secondary_risks or []) if r and r not in codes]


def risk_label(code: str) -> str:
    return dict(RiskType.choices).get(code, code)


def household_has_labour(household: Household) -> bool:
    """Labour capacity from the registry (never asked again): a member living in the household
    with normal or weak labour capacity."""
    return any(
        m.status == Member.Status.ACTIVE and m.labour_capacity in LABOUR_CAPABLE for m in household.members.all()
    )


def plan_due_on(facts: PlanFacts) -> datetime.date | None:
    determined = facts.case.determined_on
    return determined + datetime.timedelta(days=facts.plan_due_days) if determined else None


def labour_rules(facts: PlanFacts) -> list[RuleWarning]:
    """Labour-capable households get developmental measures; households without labour
    capacity get social-security measures and stay under tracking (seed 004 §五(一)(二))."""
    kinds = {m.measure_type.kind for m in facts.active}
    if facts.has_labour:
        if MeasureType.Kind.DEVELOPMENTAL not in kinds:
            return [
                RuleWarning(
                    "developmental_missing",
                    "该户有劳动能力：应至少安排一项开发式帮扶措施（产业帮扶、就业帮扶、公益岗位、技能培训、小额信贷、以工代赈等），"
                    "促进稳定增收。",
                )
            ]
        return []
    found = [
        RuleWarning(
            "no_labour_tracking",
            "该户无劳动能力：落实社会保障措施后不标注风险消除，继续跟踪监测。",
        )
    ]
    if MeasureType.Kind.SOCIAL_SECURITY not in kinds:
        found.insert(
            0,
            RuleWarning(
                "social_security_missing",
                "该户无劳动能力：应落实低保、特困供养、临时救助、医疗救助等社会保障措施，做好兜底保障。",
            ),
        )
    return found


def single_risk_rule(facts: PlanFacts) -> list[RuleWarning]:
    """A single risk gets a single measure unless a reason is recorded (防止福利陷阱)."""
    active = facts.active
    if len(facts.risks) != 1 or len(active) <= 1:
        return []
    if any(m.combination_reason.strip() for m in active):
        return []
    return [
        RuleWarning(
            "single_risk_stacked",
            f"该户风险单一（{risk_label(facts.risks[0])}），已安排 {len(active)} 项措施：风险单一的实施单项措施，"
            "不硬性叠加，防止陷入福利陷阱；确需多项措施的，请在措施中填写叠加理由。",
        )
    ]


def risks_answered_rule(facts: PlanFacts) -> list[RuleWarning]:
    """Every risk type of the case is answered by at least one measure (缺什么补什么)."""
    answered = {r for m in facts.active for r in m.measure_type.risk_types}
    return [
        RuleWarning("risk_unanswered", f"风险类型“{risk_label(r)}”还没有针对性的帮扶措施。")
        for r in facts.risks
        if r not in answered
    ]


def plan_due_rule(facts: PlanFacts) -> list[RuleWarning]:
    """The plan is due within the county's setting after determination (default 15 days)."""
    due = plan_due_on(facts)
    if due is None or facts.active:
        return []
    left = (due - facts.today).days
    if left < 0:
        return [
            RuleWarning(
                "plan_overdue",
                f"帮扶计划应在认定后 {facts.plan_due_days} 天内制定（{due:%Y-%m-%d} 前），已超期 {-left} 天。",
            )
        ]
    return [
        RuleWarning(
            "plan_due",
            f"帮扶计划应在认定后 {facts.plan_due_days} 天内制定：请在 {due:%Y-%m-%d} 前添加帮扶措施（还剩 {left} 天）。",
        )
    ]


RULES = [plan_due_rule, labour_rules, risks_answered_rule, single_risk_rule]


def plan_warnings(facts: PlanFacts) -> list[RuleWarning]:
    return [w for rule in RULES for w in rule(facts)]
