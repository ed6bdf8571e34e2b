"""What must hold before a transition (DOMAIN.md §3-5). Each condition is a callable
django-fsm evaluates, and explains itself in Chinese when it does not hold, so the page
and the API can say exactly why an action is refused."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.utils import timezone
from django.utils.module_loading import import_string

from households.models import Household, Member

from .checklist import Criterion, elimination_checklist
from .county_settings import county_settings_on, monitoring_lines, read_once

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


def _display_name(user: Any) -> str:
    return str(user.get_full_name() or user.username)


def chosen_checkers(case: Case) -> list[Any]:
    """The users chosen as home checkers: those just submitted (`case.chosen_checkers`, set by
    the step's form before the conditions are checked) or those on record."""
    users = getattr(case, "chosen_checkers", None)
    if users is None:
        users = list(case.home_checker_users.all()) if case.pk else []
    return list(users)


def home_checker_count(case: Case) -> int:
    """Different people who made the home check: the chosen users, and the named persons who are
    not one of them ("张三、张三" is one person)."""
    users = chosen_checkers(case)
    named = set(checker_names(case.home_checkers)) - {_display_name(u) for u in users}
    return len({u.pk for u in users}) + len(named)


def _home_check_message(case: Case) -> str:
    names = checker_names(case.home_checkers)
    if case.home_check_on is not None and len(names) + len(chosen_checkers(case)) >= 2:
        return "入户核实须由至少两名不同的人员完成：同一人不能重复计算。"
    return "尚未记录入户核实情况（核实日期和至少两名核实人员）。"


@condition(_home_check_message, on_submit=True)
def home_check_recorded(case: Case) -> bool:
    """Home check (入户核实) by at least two different people (DOMAIN.md §3; issue 7 point 6),
    chosen from the village's and town's users or named."""
    return case.home_check_on is not None and home_checker_count(case) >= 2


def paper_commitment_allowed(case: Case) -> bool:
    day = case.commitment_signed_on or timezone.localdate()
    return bool(county_settings_on(case.household.village.county, day).commitment_paper_allowed)


def _commitment_message(case: Case) -> str:
    if case.commitment_signed_on is None:
        return "尚未记录农户签署的承诺授权书（签署日期）。"
    if paper_commitment_allowed(case):
        return "请上传农户签署的承诺授权书扫描件，或填写纸质件在村级留存的档案编号。"
    if case.commitment_archive_ref:
        return "本县未允许承诺授权书纸质件留存村级代替扫描件，请上传签署的承诺授权书扫描件。"
    return "请上传农户签署的承诺授权书扫描件。"


@condition(_commitment_message, on_submit=True)
def commitment_recorded(case: Case) -> bool:
    """The signed commitment & authorization (承诺授权书): its date and its scan, or, where the
    county allows paper kept at the village (setting `commitment_paper_allowed`, as in force on
    the signing day), its archive reference."""
    if case.commitment_signed_on is None:
        return False
    if case.commitment_scan:
        return True
    return bool(case.commitment_archive_ref) and paper_commitment_allowed(case)


@condition("尚未记录民主评议（日期、参会人数、结果）。", on_submit=True)
def appraisal_recorded(case: Case) -> bool:
    """The 民主评议 is on record, positive or negative: a negative one ends the case in the same
    step (publish_notice), keeping its facts."""
    return bool(case.appraisal_on and case.appraisal_attendance and case.appraisal_result)


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


def active_member_count(household: Household) -> int:
    return sum(1 for m in household.members.all() if m.status == Member.Status.ACTIVE)


@condition(
    lambda case: (
        f"该户仍有 {active_member_count(case.household)} 名在户成员，不能按自然减少处理："
        "自然减少仅适用于全户成员均已死亡或迁出（请先在农户登记中更新成员状态），或该户已并入其他农户（请填写并入农户的户编号）。"
    ),
    on_submit=True,
)
def household_dissolved(case: Case) -> bool:
    """自然减少 only when registry facts dissolve the household (DOMAIN.md §3; issue 7 point 3)."""
    return case.merged_into_id is not None or active_member_count(case.household) == 0


# --- what the layers above add to the county determination ----------------------------------

DeterminationCheck = Callable[[Case], list[str]]


@lru_cache(maxsize=8)
def _determination_checks(paths: tuple[str, ...]) -> tuple[DeterminationCheck, ...]:
    return tuple(import_string(path) for path in paths)


def determination_problems(case: Case) -> list[str]:
    """Why the county may not determine the case yet, from the functions named in
    `settings.FANPIN_DETERMINATION_CHECKS` (`f(case) -> [reason, …]`, as the elimination
    checklist names its criteria): screening's asset cross-check (信息比对) plugs in here, so the
    workflow imports nothing from it. The neutral default is no check (an empty list)."""
    paths = tuple(getattr(settings, "FANPIN_DETERMINATION_CHECKS", ()))
    if case.pk is None:
        return [problem for check in _determination_checks(paths) for problem in check(case)]
    # A page asks twice (the condition, then its explanation) and its sections once more.
    return list(
        read_once(
            ("determination_problems", case.pk),
            lambda: [problem for check in _determination_checks(paths) for problem in check(case)],
        )
    )


@condition(lambda case: " ".join(determination_problems(case)))
def determination_checks_pass(case: Case) -> bool:
    return not determination_problems(case)


# --- the category against the registry (issue 7 point 8; DOMAIN.md §3) ---------------------------

UNSTABLE, EDGE, SUDDEN = "unstable", "edge", "sudden"


def income_outside_range(household: Household) -> str:
    """When the latest annual per-capita income is above that year's monitoring line, the figure
    that says so (the household is outside the monitoring range); "" otherwise or when unknown."""
    annual = sorted((r for r in household.incomes.all() if r.month is None), key=lambda r: r.year)
    if not annual:
        return ""
    latest = annual[-1]
    line = monitoring_lines(household.village.county).get(latest.year)
    if line is None or latest.per_capita_net_income <= line:
        return ""
    return f"{latest.year} 年人均纯收入 {latest.per_capita_net_income} 元，高于监测线 {line} 元"


def sudden_hardship_figure(household: Household) -> str:
    """What justifies 突发严重困难户 for a household above the line: rigid spending that brings
    per-capita income after it below the line, or income sharply down on the year before
    (at least a third). "" when neither holds."""
    annual = sorted((r for r in household.incomes.all() if r.month is None), key=lambda r: r.year)
    if not annual:
        return ""
    latest = annual[-1]
    line = monitoring_lines(household.village.county).get(latest.year)
    size = latest.household_size or 1
    after_rigid = (latest.total_net_income - latest.rigid_expenditure) / size
    if line is not None and after_rigid < line:
        return f"扣除刚性支出 {latest.rigid_expenditure} 元后人均 {after_rigid:.2f} 元，低于监测线 {line} 元"
    before = [r for r in annual if r.year == latest.year - 1]
    if before and before[0].per_capita_net_income > 0:
        drop = 1 - latest.per_capita_net_income / before[0].per_capita_net_income
        if drop >= Decimal("0.3333"):
            return (
                f"人均纯收入由 {before[0].year} 年 {before[0].per_capita_net_income} 元"
                f"降至 {latest.year} 年 {latest.per_capita_net_income} 元"
            )
    return ""


def category_problem(household: Household, category: str, *, income: bool = True) -> str:
    """Why `category` contradicts the registry, in Chinese; "" when it fits. 脱贫不稳定户 only
    for households registered as 脱贫户, 边缘易致贫户 only for the others; income outside the
    monitoring range only as 突发严重困难户 with the rigid spending or drop that justifies it."""
    formerly_poor = household.household_type == Household.Type.FORMERLY_POOR
    if category == UNSTABLE and not formerly_poor:
        return "脱贫不稳定户只适用于登记为脱贫户的农户，该户为一般农户。"
    if category == EDGE and formerly_poor:
        return "该户登记为脱贫户，应认定为脱贫不稳定户或突发严重困难户，不能认定为边缘易致贫户。"
    outside = income_outside_range(household) if income else ""
    if outside and category in (UNSTABLE, EDGE):
        return f"{outside}，不在监测范围内：只能认定为突发严重困难户（需有大额刚性支出或收入骤减），否则请作不予纳入处理并说明原因。"
    if outside and category == SUDDEN and not sudden_hardship_figure(household):
        return (
            f"{outside}，且没有使生活陷入困难的大额刚性支出（扣除后人均仍高于监测线）或收入骤减（较上年下降三分之一以上），"
            "不符合突发严重困难户认定条件；请作不予纳入处理并说明原因。"
        )
    return ""
