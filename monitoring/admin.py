from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from . import services
from .models import (
    CaseEvent,
    CountySettings,
    MonitoringCase,
    MonitoringLine,
    Objection,
    RecheckRequest,
    RejectionNotification,
    Visit,
    VisitPhoto,
)


class CountySettingsForm(forms.ModelForm):
    class Meta:
        model = CountySettings
        fields = [f.name for f in CountySettings._meta.fields if f.editable and f.name != "id"]

    def clean(self):
        data = super().clean()
        try:
            services.county_settings_check(data.get("effective_from"))
        except ValidationError as exc:
            self.add_error("effective_from", exc.messages)
        return data


@admin.register(CountySettings)
class CountySettingsAdmin(admin.ModelAdmin):
    """Settings are dated versions (point 10 of issue 7): a change is a new version from today or
    a later day; a version in force is read-only and never deleted, so no case's past rules
    change. Each version's page lists the county's whole history."""

    form = CountySettingsForm
    list_display = [
        "county",
        "effective_from",
        "notice_days",
        "notice_in_working_days",
        "determination_days",
        "visit_interval_days",
        "min_months_before_elimination",
        "created_by",
        "created_at",
    ]
    list_filter = ["county"]
    ordering = ["county", "-effective_from"]
    readonly_fields = ["history", "created_by", "created_at"]

    def get_changeform_initial_data(self, request):
        return {"effective_from": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def _in_force(self, obj):
        return obj is not None and obj.pk is not None and obj.effective_from <= timezone.localdate()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._in_force(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and obj is not None and not self._in_force(obj)

    @admin.display(description="本县设置历史")
    def history(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        rows = CountySettings.objects.filter(county=obj.county_id).order_by("-effective_from")
        return format_html(
            "<table><tr><th>生效日期</th><th>公示天数</th><th>认定时限</th><th>走访间隔</th>"
            "<th>认定后至少监测月数</th><th>录入人</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        row.effective_from,
                        row.notice_days,
                        "（工作日）" if row.notice_in_working_days else "",
                        row.determination_days,
                        "（工作日）" if row.determination_in_working_days else "",
                        row.visit_interval_days,
                        row.min_months_before_elimination,
                        row.created_by or "",
                    )
                    for row in rows
                ),
            ),
        )

    def save_model(self, request, obj, form, change):
        services.county_settings_save(user=request.user, settings=obj)


@admin.register(MonitoringLine)
class MonitoringLineAdmin(admin.ModelAdmin):
    list_display = ["county", "year", "amount"]
    list_filter = ["year"]


class ReadOnlyRecordAdmin(admin.ModelAdmin):
    """A case's record in the admin: read, never changed or deleted here (issue 7 point 4). Every
    workflow fact moves through monitoring.services (pages, API), which audit each change."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    # One tuple for both: every field shown is read-only.
    readonly_fields = ("at", "label", "from_state", "to_state", "actor", "comment")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MonitoringCase)
class MonitoringCaseAdmin(ReadOnlyRecordAdmin):
    """Read-only: dates, category, risks, document number and state move only through the
    workflow services, each change on the timeline. Historical cases come in through
    `case_import_historical` (API /api/cases/historical/, command import_historical_cases)."""

    list_display = [
        "household",
        "state",
        "category",
        "primary_risk",
        "channel",
        "discovered_on",
        "determined_on",
        "historical",
    ]
    list_filter = ["state", "category", "primary_risk", "channel", "historical"]
    search_fields = ["household__number", "household__members__name"]
    inlines = [CaseEventInline]


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyRecordAdmin):
    list_display = ["case", "raised_by", "raised_on", "status"]
    list_filter = ["status"]


class VisitPhotoInline(admin.TabularInline):
    model = VisitPhoto
    extra = 0
    can_delete = False
    readonly_fields = ["image"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(ReadOnlyRecordAdmin):
    list_display = ["household", "visited_on", "visitors", "case"]
    inlines = [VisitPhotoInline]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyRecordAdmin):
    list_display = ["at", "case", "label", "from_state", "to_state", "actor"]
    list_filter = ["label"]


class _ReadOnly(admin.ModelAdmin):
    """Recorded through the pages and the API (audited on the timeline): read-only here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RejectionNotification)
class RejectionNotificationAdmin(_ReadOnly):
    list_display = ["case", "rejected_on", "notified_on", "method", "recipient", "recorded_by"]


@admin.register(RecheckRequest)
class RecheckRequestAdmin(_ReadOnly):
    list_display = ["case", "requested_on", "requested_by", "reopened_at", "recorded_by"]
