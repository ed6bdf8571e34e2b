"""Measure suggestions for a plan (缺什么补什么; seed 004 §五(二)).

For the case's risk types and the household's labour capacity (from the registry, never asked
again): the catalogue's types that answer them, in this order — risks not yet answered first,
the primary risk before the secondary ones; developmental measures first for a household with
labour capacity, social-security measures first (and no developmental ones) for a household
without; types whose main purpose is the risk before those that also cover it; then the
catalogue's own order. Types already in the plan are left out. Each comes
with the fields a one-tap add fills in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from households.models import Department

from .models import MeasureType
from .rules import PlanFacts, risk_label


@dataclass(frozen=True)
class Suggestion:
    measure_type: MeasureType
    answers: list[str]  # risk type codes of the case it answers
    reason: str
    department: Department | None = None
    prefill: dict = field(default_factory=dict)

    @property
    def answers_labels(self) -> list[str]:
        return [risk_label(r) for r in self.answers]


def suggestions(
    facts: PlanFacts, catalogue: list[MeasureType], departments: dict[str, Department], limit: int = 6
) -> list[Suggestion]:
    in_plan = {m.measure_type_id for m in facts.active}
    answered = {r for m in facts.active for r in m.measure_type.risk_types}
    preferred = MeasureType.Kind.DEVELOPMENTAL if facts.has_labour else MeasureType.Kind.SOCIAL_SECURITY
    ranked = []
    for position, kind in enumerate(catalogue):
        if not kind.active or kind.code in in_plan:
            continue
        if not facts.has_labour and kind.kind == MeasureType.Kind.DEVELOPMENTAL:
            continue
        answers = [r for r in facts.risks if r in kind.risk_types]
        if not answers:
            continue
        open_answers = [r for r in answers if r not in answered]
        target = min(open_answers or answers, key=facts.risks.index)
        # The type's main purpose comes first in its list: 医疗救助 is for illness, 低保 for lack of labour.
        purpose = kind.risk_types.index(target)
        ranked.append(
            ((not open_answers, facts.risks.index(target), kind.kind != preferred, purpose, position), kind, answers)
        )
    ranked.sort(key=lambda item: item[0])
    found = []
    for _, kind, answers in ranked[:limit]:
        department = departments.get(kind.department_kind)
        reason = "针对" + "、".join(risk_label(r) for r in answers)
        if kind.kind == preferred:
            reason += "；有劳动能力，优先开发式帮扶" if facts.has_labour else "；无劳动能力，兜底保障"
        found.append(
            Suggestion(
                measure_type=kind,
                answers=answers,
                reason=reason,
                department=department,
                prefill={
                    "measure_type": kind.code,
                    "department": department.pk if department else None,
                    "contact_person": facts.case.contact_person_id,
                    "starts_on": facts.today.isoformat(),
                },
            )
        )
    return found
