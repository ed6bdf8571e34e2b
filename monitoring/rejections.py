"""After a rejection (不予纳入): the household is told within the county's working days (default
5) and may ask for a re-check, which reopens the review (DOMAIN.md §3: "a rejected household is
told within 5 working days and may ask for a re-check").

- `notification_due(case)`: the day the household must have been told by (working days from the
  rejection, as the county setting in force on the rejection day says);
- `notification_record(...)`: the county or town records how and when it was told, from the
  printable 告知书 (reason and the way to ask for a re-check);
- `overdue_notifications(user)`: rejected cases past that day with no notification recorded;
- `recheck_request_record(...)`: the request is recorded and the case goes back to the step that
  rejected it (the `reopen_for_recheck` transition), audited on the timeline.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from . import permissions, workdays
from .models import (
    IDENTIFICATION_STATES,
    OPEN_STATES,
    CaseEvent,
    MonitoringCase,
    RecheckRequest,
    RejectionNotification,
    State,
)
from .selectors import LIST_RELATED, case_for_update, case_settings, cases_visible_to, county_windows
from .services import Conflict, transition_label


def rejected_from(case: MonitoringCase) -> str:
    """The step the case was rejected at: the latest event that ended it as 不予纳入, whichever
    step took it there (`reject`, or a negative village appraisal recorded as one step)."""
    event = (
        CaseEvent.objects.filter(case=case, to_state=State.REJECTED, from_state__in=IDENTIFICATION_STATES)
        .order_by("-at", "-id")
        .first()
    )
    return event.from_state if event else State.REPORTED


def notification_due(case: MonitoringCase) -> workdays.DayCount | None:
    """The last day to tell the household, counted in working days from the rejection."""
    if case.state != State.REJECTED or case.ended_on is None:
        return None
    days = case_settings(case, case.ended_on).rejection_notice_workdays
    return workdays.add_days(case.ended_on, days, True)


def current_notification(case: MonitoringCase) -> RejectionNotification | None:
    if case.state != State.REJECTED or case.ended_on is None:
        return None
    return case.rejection_notifications.filter(rejected_on=case.ended_on).first()


def _may_notify(case: MonitoringCase, user: Any) -> bool:
    return permissions.town_official(case, user) or permissions.county_officer(case, user)


def may_notify(case: MonitoringCase, user: Any) -> bool:
    """The county or the town records the notification (the brief of issue 8, DOMAIN.md §3)."""
    return case.state == State.REJECTED and _may_notify(case, user)


def may_request_recheck(case: MonitoringCase, user: Any) -> bool:
    return case.state == State.REJECTED and permissions.recheck_actor(case, user)


def _event(
    case: MonitoringCase, *, user: Any, action: str, label: str, comment: str, payload: dict, to: str = ""
) -> None:
    CaseEvent.objects.create(
        case=case,
        actor=user,
        action=action,
        label=label,
        from_state=case.state,
        to_state=to or case.state,
        comment=comment,
        payload=payload,
    )


def notification_record(
    *, user: Any, case_id: Any, notified_on: datetime.date, method: str, recipient: str, note: str = ""
) -> RejectionNotification:
    """Record that the rejected household was told (date, how, to whom)."""
    with transaction.atomic():
        case = case_for_update(user, case_id)
        if case.state != State.REJECTED:
            raise Conflict(f"当前状态为“{case.get_state_display()}”：只有不予纳入的对象需要登记告知。")
        if not _may_notify(case, user):
            raise PermissionDenied("只有乡镇干部或县乡村振兴局可以登记不予纳入告知。")
        today = timezone.localdate()
        rejected_on = case.ended_on or today
        if notified_on > today:
            raise ValidationError({"notified_on": "告知日期不能晚于今天。"})
        if notified_on < rejected_on:
            raise ValidationError({"notified_on": f"告知日期不能早于不予纳入日期（{rejected_on:%Y-%m-%d}）。"})
        if method not in RejectionNotification.Method.values:
            raise ValidationError({"method": "请选择告知方式。"})
        if not (recipient or "").strip():
            raise ValidationError({"recipient": "请填写被告知人。"})
        notification = RejectionNotification(
            case=case,
            rejected_on=rejected_on,
            notified_on=notified_on,
            method=method,
            recipient=recipient.strip(),
            note=note or "",
            recorded_by=user,
        )
        try:
            with transaction.atomic():
                notification.save()
        except IntegrityError:
            raise Conflict("该次不予纳入已登记告知（可能是重复提交），请刷新后查看。") from None
        due = notification_due(case)
        late = f"（超过告知时限 {due.date:%Y-%m-%d}）" if due is not None and notified_on > due.date else ""
        _event(
            case,
            user=user,
            action="rejection_notified",
            label="登记不予纳入告知",
            comment=f"{notified_on:%Y-%m-%d} {notification.get_method_display()}告知 {notification.recipient}"
            + late
            + (f"：{note}" if note else ""),
            payload={"notification": notification.pk, "method": method, "notified_on": str(notified_on)},
        )
    return notification


def recheck_request_record(
    *, user: Any, case_id: Any, requested_on: datetime.date, requested_by: str, content: str
) -> RecheckRequest:
    """Record a rejected household's re-check request and reopen the review at the step that
    rejected it. Refused (409) while the household has another open case."""
    with transaction.atomic():
        case = case_for_update(user, case_id)
        if case.state != State.REJECTED:
            raise Conflict(f"当前状态为“{case.get_state_display()}”：只有不予纳入的对象可以申请复核。")
        if not permissions.recheck_actor(case, user):
            raise PermissionDenied("只有本村、本乡镇或本县的干部可以登记复核申请。")
        if not (content or "").strip():
            raise ValidationError({"content": "请填写复核理由。"})
        if not (requested_by or "").strip():
            raise ValidationError({"requested_by": "请填写申请人。"})
        if requested_on > timezone.localdate():
            raise ValidationError({"requested_on": "申请日期不能晚于今天。"})
        if case.ended_on and requested_on < case.ended_on:
            raise ValidationError({"requested_on": f"申请日期不能早于不予纳入日期（{case.ended_on:%Y-%m-%d}）。"})
        if (
            MonitoringCase.objects.filter(household=case.household_id, state__in=OPEN_STATES)
            .exclude(pk=case.pk)
            .exists()
        ):
            raise Conflict("该户已有进行中的监测对象记录，不能重新审核本条记录。")
        back_to = rejected_from(case)
        request = RecheckRequest.objects.create(
            case=case,
            requested_on=requested_on,
            requested_by=requested_by.strip(),
            content=content.strip(),
            rejected_on=case.ended_on or requested_on,
            reopened_at=back_to,
            recorded_by=user,
        )
        _event(
            case,
            user=user,
            action="recheck_requested",
            label="登记复核申请",
            comment=f"{request.requested_by}（{requested_on:%Y-%m-%d}）：{request.content}",
            payload={"recheck": request.pk},
        )
        from_state = case.state
        case.reopen_for_recheck(back_to=back_to)
        try:
            with transaction.atomic():
                case.save()
        except IntegrityError:
            raise Conflict("该户已有进行中的监测对象记录，不能重新审核本条记录。") from None
        CaseEvent.objects.create(
            case=case,
            actor=user,
            action="reopen_for_recheck",
            label=transition_label("reopen_for_recheck"),
            from_state=from_state,
            to_state=case.state,
            comment=request.content,
            payload={"recheck": request.pk},
        )
    return request


def overdue_notifications_q(today: datetime.date | None = None) -> Q:
    """Rejected cases whose household has not been told by the deadline (working days, the
    setting in force on the rejection day)."""
    today = today or timezone.localdate()
    late = Q(pk__in=[])
    for where, version, start, until in county_windows():  # newest first
        days = version.rejection_notice_workdays
        # The deadline is monotonic in the rejection day: walk back to the latest one past it.
        day = today - datetime.timedelta(days=days)
        while workdays.add_days(day, days, True).date >= today:
            day -= datetime.timedelta(days=1)
        window = Q(ended_on__gte=start, ended_on__lte=day)
        if until is not None:
            window &= Q(ended_on__lt=until)
        late |= where & window
    told = RejectionNotification.objects.filter(case=OuterRef("pk"), rejected_on=OuterRef("ended_on"))
    return Q(state=State.REJECTED) & late & ~Q(Exists(told))


def overdue_notifications(user: Any, today: datetime.date | None = None) -> QuerySet[MonitoringCase]:
    return (
        cases_visible_to(user)
        .filter(overdue_notifications_q(today))
        .select_related(*LIST_RELATED)
        .order_by("ended_on", "id")
    )
