"""What must hold before a transition (DOMAIN.md §3-5). Each condition is a callable
django-fsm evaluates, and explains itself in Chinese when it does not hold, so the page
and the API can say exactly why an action is refused."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.utils import timezone

from households.models import Household, Member

from .checklist import Criterion, elimination_checklist

# A case is a monitoring.models.MonitoringCase, not imported, not even for type checking: the models
# import this module for their transitions' conditions, and the app's modules import each
# other in no circle (tests/test_layers.py).
Case = Any

Check = Callable[[Case], object]
Message = str | Callable[[Case], str]


class Condition:
    def __init__(self, check: Check, message: Message, on_submit: bool = False) -> None:
        self.check = check
        self.message = message
        self.__name__ = check.__name__
        # True when the step's own form records the facts checked here (home check, minutes):
        # the action must stay offered, and the condition is checked on the submitted data.
        self.on_submit = on_submit

    def __call__(self, instance: Model) -> bool:
        # django-fsm passes the instance whose transition is tried: always a case here.
        return bool(self.check(instance))

    def explain(self, case: Case) -> str:
        return self.message(case) if callable(self.message) else self.message


def condition(message: Message, on_submit: bool = False) -> Callable[[Check], Condition]:
    def wrap(check: Check) -> Condition:
        return Condition(check, message, on_submit)

    return wrap


def checker_names(text: str | None) -> list[str]:
    return [n for n in re.split(r"[、,，;；/\s]+", text or "") if n]


@condition("尚未记录入户核实情况（核实日期和至少两名核实人员）。", on_submit=True)
def home_check_recorded(case: Case) -> bool:
    return case.home_check_on is not None and len(checker_names(case.home_checkers)) >= 2


@condition("尚未记录农户签署的承诺授权书（签署日期）。", on_submit=True)
def commitment_recorded(case: Case) -> bool:
    return case.commitment_signed_on is not None


def _appraisal_message(case: Case) -> str:
    if case.appraisal_result == "rejected":
        return "民主评议结果为不同意纳入，应作不予纳入处理。"
    return "尚未记录民主评议（日期、参会人数、结果）。"


@condition(_appraisal_message, on_submit=True)
def appraisal_positive(case: Case) -> bool:
    return bool(case.appraisal_on and case.appraisal_attendance and case.appraisal_result == "approved")


def _notice_end(case: Case) -> datetime.date | None:
    end: datetime.date | None = case.elimination_notice_end if case.state == "elimination_notice" else case.notice_end
    return end


@condition(lambda case: f"公示期未满：公示至 {_notice_end(case)}，期满后才能进入下一步。")
def notice_period_over(case: Case) -> bool:
    end = _notice_end(case)
    return end is not None and timezone.localdate() > end


@condition(lambda case: f"还有 {case.open_objection_count()} 条异议未处理，处理完毕后才能结束公示。")
def no_open_objections(case: Case) -> bool:
    return not case.open_objection_count()


def household_has_labour(household: Household) -> bool:
    """A member living there with normal or weak labour capacity (a registry fact)."""
    return any(
        m.status == Member.Status.ACTIVE and m.labour_capacity in (Member.Labour.NORMAL, Member.Labour.WEAK)
        for m in household.members.all()
    )


@condition("该户没有劳动能力成员：落实兜底保障措施后不标注风险消除，继续跟踪监测。")
def has_labour_capacity(case: Case) -> bool:
    return household_has_labour(case.household)


def check_day(case: Case) -> datetime.date:
    """The day a step's conditions are judged for: the date of the step being taken (set by the
    service as `case.step_on`), or today when only showing what may be done."""
    return getattr(case, "step_on", None) or timezone.localdate()


def unmet_criteria(case: Case) -> list[Criterion]:
    return [c for c in elimination_checklist(case, check_day(case)) if not c.met]


@condition(
    lambda case: "风险消除条件未全部满足：" + "；".join(f"{c.label}（{c.figure}）" for c in unmet_criteria(case)) + "。"
)
def elimination_criteria_met(case: Case) -> bool:
    return not unmet_criteria(case)
