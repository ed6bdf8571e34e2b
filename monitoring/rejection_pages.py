"""Pages and API of what follows a rejection (monitoring/rejections.py): the printable 告知书 with
the forms to record the notification and a re-check request; the overdue notifications in
我的待办 (a section named in settings, like the layers above add theirs) and in the API."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from households.forms import add_service_errors
from households.models import Member

from . import rejections, selectors
from .forms import DateInput
from .models import RecheckRequest, RejectionNotification, State
from .serializers import CaseListSerializer, ConflictSerializer, ErrorSerializer, annotate_head
from .services import Conflict

OVERDUE_SHOWN = 20


class NotificationForm(forms.Form):
    notified_on = forms.DateField(label="告知日期", widget=DateInput(), initial=timezone.localdate)
    method = forms.ChoiceField(label="告知方式", choices=RejectionNotification.Method.choices)
    recipient = forms.CharField(label="被告知人", max_length=50, help_text="户主或家庭成员姓名")
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RecheckForm(forms.Form):
    requested_on = forms.DateField(label="申请日期", widget=DateInput(), initial=timezone.localdate)
    requested_by = forms.CharField(label="申请人", max_length=50)
    content = forms.CharField(label="复核理由", widget=forms.Textarea(attrs={"rows": 3}))


def _head(case):
    return next(
        (
            m
            for m in case.household.members.all()
            if m.relation == Member.Relation.HEAD and m.status == Member.Status.ACTIVE
        ),
        None,
    )


def _letter_context(request, case, **forms_given):
    user = request.user
    head = _head(case)
    return {
        "case": case,
        "household": case.household,
        "head": head,
        "due": rejections.notification_due(case),
        "notification": rejections.current_notification(case),
        "rechecks": list(case.recheck_requests.select_related("recorded_by")),
        "notification_form": forms_given.get("notification_form")
        or NotificationForm(initial={"recipient": head.name if head else ""}),
        "recheck_form": forms_given.get("recheck_form")
        or RecheckForm(initial={"requested_by": head.name if head else ""}),
        "may_notify": rejections.may_notify(case, user),
        "may_recheck": rejections.may_request_recheck(case, user),
        "today": timezone.localdate(),
    }


@login_required
def rejection_letter(request, pk):
    """The printable 告知书 (reason and the way to ask for a re-check; no ID numbers or phones),
    with the forms the town or county uses once it has been handed over."""
    case = selectors.case_for(request.user, pk)
    if case.state != State.REJECTED and not case.recheck_requests.exists():
        messages.error(request, "该对象不是不予纳入状态，没有告知书。")
        return redirect("monitoring:case-detail", pk=case.pk)
    return render(request, "monitoring/rejection_letter.html", _letter_context(request, case))


@login_required
@require_POST
def notification_create(request, pk):
    case = selectors.case_for(request.user, pk)
    form = NotificationForm(request.POST)
    if form.is_valid():
        try:
            rejections.notification_record(user=request.user, case_id=case.pk, **form.cleaned_data)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("monitoring:rejection-letter", pk=case.pk)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已登记不予纳入告知。")
            return redirect("monitoring:rejection-letter", pk=case.pk)
    return render(request, "monitoring/rejection_letter.html", _letter_context(request, case, notification_form=form))


@login_required
@require_POST
def recheck_create(request, pk):
    case = selectors.case_for(request.user, pk)
    form = RecheckForm(request.POST)
    if form.is_valid():
        try:
            recheck = rejections.recheck_request_record(user=request.user, case_id=case.pk, **form.cleaned_data)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("monitoring:rejection-letter", pk=case.pk)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已登记复核申请，重新进入“{recheck.get_reopened_at_display()}”环节。")
            return redirect("monitoring:case-detail", pk=case.pk)
    return render(request, "monitoring/rejection_letter.html", _letter_context(request, case, recheck_form=form))


def case_section(request, case):
    """On the case page of a rejected case: the notification due, done or overdue, and the 告知书."""
    if case.state != State.REJECTED:
        return ""
    return render_to_string(
        "monitoring/_rejection_section.html",
        {
            "case": case,
            "due": rejections.notification_due(case),
            "notification": rejections.current_notification(case),
            "today": timezone.localdate(),
        },
        request=request,
    )


def inbox_panel(user):
    """The panel's rows as 我的待办 reads them with the others (FANPIN_INBOX_PANELS): the earliest
    rejected first."""
    return selectors.Panel(rejections.overdue_notifications_q(), ("ended_on", "id"), OVERDUE_SHOWN)


def inbox_section(request):
    """Overdue notifications in 我的待办, counted (for those who record them: town and county)."""
    count = selectors.inbox_counts(request.user).get("rejections", 0)  # one COUNT for the panels
    if not count:
        return ""
    shown = selectors.inbox_panel_rows(request.user, "rejections")  # read with the other panels
    for case in shown:
        case.due = rejections.notification_due(case)
    return render_to_string("monitoring/_rejection_inbox.html", {"cases": shown, "count": count}, request=request)


# --- API --------------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    method_label = serializers.CharField(source="get_method_display", read_only=True)

    class Meta:
        model = RejectionNotification
        fields = [
            "id",
            "case",
            "rejected_on",
            "notified_on",
            "method",
            "method_label",
            "recipient",
            "note",
            "recorded_at",
        ]
        read_only_fields = fields


class NotificationCreateSerializer(serializers.Serializer):
    notified_on = serializers.DateField(required=False, help_text="告知日期，默认今天")
    method = serializers.ChoiceField(choices=RejectionNotification.Method.choices)
    recipient = serializers.CharField(max_length=50)
    note = serializers.CharField(required=False, allow_blank=True)


class RecheckSerializer(serializers.ModelSerializer):
    reopened_at = serializers.CharField(read_only=True, help_text="重新审核的环节（状态代码，同 state）")
    reopened_at_label = serializers.CharField(source="get_reopened_at_display", read_only=True)

    class Meta:
        model = RecheckRequest
        fields = [
            "id",
            "case",
            "requested_on",
            "requested_by",
            "content",
            "rejected_on",
            "reopened_at",
            "reopened_at_label",
            "recorded_at",
        ]
        read_only_fields = fields


class RecheckCreateSerializer(serializers.Serializer):
    requested_on = serializers.DateField(required=False, help_text="申请日期，默认今天")
    requested_by = serializers.CharField(max_length=50)
    content = serializers.CharField(help_text="复核理由")


ERRORS = {
    403: OpenApiResponse(ErrorSerializer, description="您的角色不能办理"),
    404: OpenApiResponse(ErrorSerializer, description="不存在或不在您的管辖范围内"),
    409: OpenApiResponse(ConflictSerializer, description="当前状态下不能办理，或重复提交"),
}


def _conflict(case, exc):
    return Response(
        {"detail": exc.message, "reasons": exc.reasons, "state": case.state, "state_label": case.get_state_display()},
        status=status.HTTP_409_CONFLICT,
    )


def _form_data(request, serializer_class, defaults):
    shape = serializer_class(data=request.data)
    shape.is_valid(raise_exception=True)
    return {**defaults, **shape.validated_data}


class NotificationCreate(APIView):
    @extend_schema(
        summary="登记不予纳入告知",
        description="乡镇或县级登记已告知不予纳入的农户（日期、方式、被告知人）；时限为不予纳入后若干个工作日"
        "（县级设置，默认 5 个）。非不予纳入状态或重复登记返回 409。",
        request=NotificationCreateSerializer,
        responses={201: NotificationSerializer, **ERRORS},
    )
    def post(self, request, pk):
        case = selectors.case_for(request.user, pk)
        data = _form_data(request, NotificationCreateSerializer, {"notified_on": timezone.localdate(), "note": ""})
        try:
            found = rejections.notification_record(user=request.user, case_id=case.pk, **data)
        except Conflict as exc:
            return _conflict(case, exc)
        return Response(NotificationSerializer(found).data, status=status.HTTP_201_CREATED)


class RecheckCreate(APIView):
    @extend_schema(
        summary="登记复核申请",
        description="不予纳入的农户申请复核：登记后该对象回到作出不予纳入决定的环节重新审核。"
        "该户已有进行中的记录或非不予纳入状态时返回 409。",
        request=RecheckCreateSerializer,
        responses={201: RecheckSerializer, **ERRORS},
    )
    def post(self, request, pk):
        case = selectors.case_for(request.user, pk)
        data = _form_data(request, RecheckCreateSerializer, {"requested_on": timezone.localdate()})
        try:
            found = rejections.recheck_request_record(user=request.user, case_id=case.pk, **data)
        except Conflict as exc:
            return _conflict(case, exc)
        return Response(RecheckSerializer(found).data, status=status.HTTP_201_CREATED)


class OverdueNotifications(ListAPIView):
    serializer_class = CaseListSerializer
    filter_backends = []

    @extend_schema(
        summary="超期未告知的不予纳入对象", description="不予纳入后超过告知时限（工作日）仍未登记告知的对象。"
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return annotate_head(rejections.overdue_notifications(self.request.user))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "settings_cache": selectors.SettingsCache()}


page_urls = [
    path("cases/<int:pk>/rejection-letter/", rejection_letter, name="rejection-letter"),
    path("cases/<int:pk>/rejection-letter/notified/", notification_create, name="rejection-notified"),
    path("cases/<int:pk>/recheck/", recheck_create, name="recheck-create"),
]
api_urls = [
    path("cases/<int:pk>/rejection-notification/", NotificationCreate.as_view(), name="api-rejection-notification"),
    path("cases/<int:pk>/recheck-request/", RecheckCreate.as_view(), name="api-recheck-request"),
    path("rejections/overdue/", OverdueNotifications.as_view(), name="api-rejections-overdue"),
]
