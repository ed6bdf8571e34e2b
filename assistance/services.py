"""Writes on plans (一户一策). Pages, the API and the admin call these.

Every action: scope check (404 outside it) → lock the case row (`select_for_update`, so two
people changing one plan at once take turns and the rules see the plan as it is) → check the
case's state and the user's part in it → change → save → a progress row on the measure and an
event on the case's timeline, in one transaction. Nothing is deleted: a wrong measure is
stopped with its reason.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from households import selectors as household_selectors
from monitoring import permissions
from monitoring.models import CaseEvent, MonitoringCase
from monitoring.selectors import case_for_update
from monitoring.services import Conflict

from .models import Measure, MeasureProgress, MeasureType
from .selectors import MEASURE_UPDATE_STATES, PLAN_STATES, measures_visible_to

# What a status may become: done and stopped are final (a wrong measure is stopped, not deleted).
NEXT_STATUS: dict[str, set[str]] = {
    Measure.Status.PLANNED: {Measure.Status.IN_PROGRESS, Measure.Status.DONE, Measure.Status.STOPPED},
    Measure.Status.IN_PROGRESS: {Measure.Status.DONE, Measure.Status.STOPPED},
    Measure.Status.DONE: set(),
    Measure.Status.STOPPED: set(),
}
FACT_FIELDS = [
    "department",
    "contact_person",
    "starts_on",
    "ends_on",
    "amount",
    "funding_source",
    "outcome",
    "combination_reason",
]
TEXT_FIELDS = ("funding_source", "outcome", "combination_reason")
DUPLICATE = "该户已有同一类型、同一开始日期的帮扶措施（可能是重复提交），请刷新后查看。"
REPEATED_NOTE_SECONDS = 120


def may_plan(case: MonitoringCase, user: Any) -> bool:
    """Who makes the plan: the case's contact person (帮扶联系人) and the cadres of its place —
    village, town and county (DOMAIN.md §1). The administrator takes no part in the workflow."""
    return bool(
        permissions.contact_person(case, user)
        or permissions.village_cadre(case, user)
        or permissions.town_official(case, user)
        or permissions.county_officer(case, user)
    )


def may_update(measure: Measure, case: MonitoringCase, user: Any) -> bool:
    """Those who plan, and the person carrying the measure (帮扶责任人)."""
    return may_plan(case, user) or (measure.contact_person_id is not None and measure.contact_person_id == user.pk)


def _state_conflict(case: MonitoringCase, adding: bool) -> Conflict:
    label = case.get_state_display()
    if adding:
        message = f"监测对象当前状态为“{label}”：只有监测帮扶中（或风险消除办理中）的对象才能添加帮扶措施。"
    else:
        message = f"监测对象当前状态为“{label}”：帮扶措施不能再更改。"
    return Conflict(message, [message])


def _display(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, datetime.date):
        return str(value)
    if hasattr(value, "get_full_name"):
        return value.get_full_name() or value.get_username()
    return str(value)


def _audit(
    case: MonitoringCase, *, user: Any, action: str, label: str, comment: str, payload: dict[str, Any]
) -> CaseEvent:
    """The event on the case's timeline (monitoring's audit trail, never edited or deleted)."""
    return CaseEvent.objects.create(
        case=case,
        actor=user,
        action=action,
        label=label,
        from_state=case.state,
        to_state=case.state,
        comment=comment,
        payload=payload,
    )


def _summary(measure: Measure) -> str:
    parts = [f"{measure.measure_type.label}（{measure.get_status_display()}）", f"{measure.starts_on:%Y-%m-%d} 起"]
    if measure.ends_on:
        parts.append(f"至 {measure.ends_on:%Y-%m-%d}")
    if measure.amount is not None:
        parts.append(f"{measure.amount} 元")
    if measure.department:
        parts.append(str(measure.department))
    return "，".join(parts)


def measure_create(*, user: Any, case_id: Any, data: dict[str, Any]) -> Measure:
    """Add a measure to a case's plan (一户一策). The case must be monitored (or on its way to
    elimination): 409 otherwise. `data` is MeasureCreateForm.cleaned_data."""
    with transaction.atomic():
        case = case_for_update(user, case_id)
        if case.state not in PLAN_STATES:
            raise _state_conflict(case, adding=True)
        if not may_plan(case, user):
            raise PermissionDenied("只有该户的帮扶联系人，或本村、本乡镇、本县的干部可以制定帮扶措施。")
        kind: MeasureType = data["measure_type"]
        if not kind.active:
            raise ValidationError({"measure_type": "该措施类型已停用，请从措施目录中选择。"})
        measure = Measure(case=case, measure_type=kind, created_by=user, status=data.get("status") or "planned")
        for name in FACT_FIELDS:
            if name in data:
                value = data[name]
                setattr(measure, name, "" if value is None and name in TEXT_FIELDS else value)
        measure.full_clean(exclude=["case", "measure_type", "created_by"], validate_constraints=False)
        try:
            with transaction.atomic():
                measure.save()
        except IntegrityError:
            raise Conflict(DUPLICATE, [DUPLICATE]) from None
        MeasureProgress.objects.create(
            measure=measure, author=user, note="添加措施：" + _summary(measure), to_status=measure.status
        )
        _audit(
            case,
            user=user,
            action="measure_added",
            label=f"添加帮扶措施：{kind.label}",
            comment=_summary(measure),
            payload={"measure": measure.pk, "measure_type": kind.code, "status": measure.status},
        )
    return measure


def _locked_measure(user: Any, measure_id: Any) -> tuple[Measure, MonitoringCase]:
    found = household_selectors.get_or_404(measures_visible_to(user).values("pk", "case_id"), pk=measure_id)
    # The case first, then the measure: the same order as measure_create, so no deadlock.
    case = (
        MonitoringCase.objects.select_for_update(of=("self",))
        .select_related("household__village__parent__parent")
        .get(pk=found["case_id"])
    )
    measure = (
        Measure.objects.select_for_update(of=("self",))
        .select_related("measure_type", "department", "contact_person")
        .get(pk=found["pk"])
    )
    return measure, case


def _check_status(measure: Measure, status: str) -> None:
    if status == measure.status:
        return
    if status not in NEXT_STATUS.get(measure.status, set()):
        current = measure.get_status_display()
        wanted = Measure.Status(status).label
        message = (
            f"该措施{current}，不能再改为“{wanted}”：如需继续帮扶，请另行添加措施。"
            if measure.is_final
            else f"措施状态不能从“{current}”改为“{wanted}”。"
        )
        raise Conflict(message, [message])


def measure_update(*, user: Any, measure_id: Any, changes: dict[str, Any], status: str = "", note: str = "") -> Measure:
    """Change a measure's facts and, optionally, its status (with `note`; required when
    stopping: the reason). Each change is recorded with before and after."""
    with transaction.atomic():
        measure, case = _locked_measure(user, measure_id)
        if case.state not in MEASURE_UPDATE_STATES:
            raise _state_conflict(case, adding=False)
        if not may_update(measure, case, user):
            raise PermissionDenied(
                "只有该户的帮扶联系人、措施的帮扶责任人，或本村、本乡镇、本县的干部可以修改帮扶措施。"
            )
        if "measure_type" in changes:
            raise ValidationError(
                {"measure_type": "措施类型不能修改：如类型有误，请终止该措施（填写原因）后重新添加。"}
            )
        if measure.status == Measure.Status.STOPPED and changes:
            message = "该措施已终止，不能再修改。"
            raise Conflict(message, [message])
        recorded: dict[str, list[Any]] = {}
        for name, value in changes.items():
            if name not in FACT_FIELDS:
                continue
            if name in TEXT_FIELDS and value is None:
                value = ""
            before = getattr(measure, name)
            if before != value:
                recorded[name] = [_display(before), _display(value)]
                setattr(measure, name, value)
        if measure.ends_on and measure.starts_on and measure.ends_on < measure.starts_on:
            raise ValidationError({"ends_on": "结束日期不能早于开始日期。"})
        from_status = measure.status
        if status and status != measure.status:
            _check_status(measure, status)
            if status == Measure.Status.STOPPED:
                if not note.strip():
                    raise ValidationError({"note": "终止措施请填写原因。"})
                measure.stop_reason = note.strip()
            recorded["status"] = [from_status, status]
            measure.status = status
        if not recorded:
            if note.strip():
                return _progress(measure, case, user, note, from_status)
            return measure
        measure.full_clean(exclude=["case", "measure_type", "created_by"], validate_constraints=False)
        try:
            with transaction.atomic():
                measure.save()
        except IntegrityError:
            raise Conflict(DUPLICATE, [DUPLICATE]) from None
        _record(measure, case, user, note or "修改措施信息", from_status, recorded)
    return measure


def _record(
    measure: Measure, case: MonitoringCase, user: Any, note: str, from_status: str, changes: dict[str, list[Any]]
) -> MeasureProgress:
    status_changed = measure.status != from_status
    entry = MeasureProgress.objects.create(
        measure=measure,
        author=user,
        note=note,
        from_status=from_status if status_changed else "",
        to_status=measure.status if status_changed else "",
        changes=changes,
    )
    if measure.status == Measure.Status.STOPPED and status_changed:
        action, label = "measure_stopped", f"终止帮扶措施：{measure.measure_type.label}"
    elif status_changed:
        action, label = "measure_status", f"帮扶措施{measure.get_status_display()}：{measure.measure_type.label}"
    elif changes:
        action, label = "measure_updated", f"修改帮扶措施：{measure.measure_type.label}"
    else:
        action, label = "measure_progress", f"帮扶措施进展：{measure.measure_type.label}"
    _audit(
        case,
        user=user,
        action=action,
        label=label,
        comment=note,
        payload={"measure": measure.pk, "progress": entry.pk, "changes": changes},
    )
    return entry


def _progress(measure: Measure, case: MonitoringCase, user: Any, note: str, from_status: str) -> Measure:
    _record(measure, case, user, note, from_status, {})
    return measure


def measure_progress(*, user: Any, measure_id: Any, note: str, status: str = "") -> MeasureProgress:
    """Record a dated progress note (who, when, what was done), optionally moving the status
    on (planned → in progress → done; stopped needs the note as its reason). The same note
    sent twice within two minutes (a double tap) is refused with a conflict."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "请填写进展情况。"})
    if status and status not in Measure.Status.values:
        raise ValidationError({"status": "状态应为 planned、in_progress、done 或 stopped。"})
    with transaction.atomic():
        measure, case = _locked_measure(user, measure_id)
        if case.state not in MEASURE_UPDATE_STATES:
            raise _state_conflict(case, adding=False)
        if not may_update(measure, case, user):
            raise PermissionDenied(
                "只有该户的帮扶联系人、措施的帮扶责任人，或本村、本乡镇、本县的干部可以记录措施进展。"
            )
        last = measure.progress.order_by("-at", "-id").first()
        if (
            last is not None
            and last.author_id == user.pk
            and last.note == note
            and (timezone.now() - last.at).total_seconds() < REPEATED_NOTE_SECONDS
            and (not status or status == measure.status)
        ):
            message = "同样的进展刚刚已记录（可能是重复提交），请刷新后查看。"
            raise Conflict(message, [message])
        if measure.status == Measure.Status.STOPPED:
            message = "该措施已终止，不能再记录进展：如需继续帮扶，请另行添加措施。"
            raise Conflict(message, [message])
        from_status = measure.status
        changes: dict[str, list[Any]] = {}
        if status and status != measure.status:
            _check_status(measure, status)
            if status == Measure.Status.STOPPED:
                measure.stop_reason = note
            changes["status"] = [from_status, status]
            measure.status = status
            measure.save(update_fields=["status", "stop_reason", "updated_at"])
        else:
            measure.save(update_fields=["updated_at"])
        return _record(measure, case, user, note, from_status, changes)


def measure_stop(*, user: Any, measure_id: Any, reason: str) -> Measure:
    """Stop a wrong or ended measure with its reason (nothing is deleted)."""
    if not (reason or "").strip():
        raise ValidationError({"note": "终止措施请填写原因。"})
    measure_progress(user=user, measure_id=measure_id, note=reason, status=Measure.Status.STOPPED)
    return Measure.objects.get(pk=measure_id)
