from django.contrib import admin
from django.utils import timezone

from .models import RiskWarning, RuralIncome, ScaleAlert, ScreeningUpload, WarningSettings

UPLOAD_FIELDS = (
    "department",
    "period",
    "original_name",
    "file",
    "uploaded_by",
    "status",
    "is_current",
    "attempt",
    "progress",
    "rows_read",
    "rows_valid",
    "rows_invalid",
    "rows_matched",
    "rows_unmatched",
    "rows_skipped",
    "created_at",
    "started_at",
    "finished_at",
    "error_message",
)


@admin.register(ScreeningUpload)
class ScreeningUploadAdmin(admin.ModelAdmin):
    """Read-only: uploads are created on the screening page, the API or `manage.py screen`,
    and kept with their files as the record of what each department sent."""

    list_display = ["created_at", "department", "period", "original_name", "status", "is_current", "rows_read"]
    list_filter = ["status", "department__kind", "is_current"]
    search_fields = ["original_name", "department__name", "uploaded_by__username"]
    list_select_related = ["department", "uploaded_by"]
    fields = UPLOAD_FIELDS
    readonly_fields = UPLOAD_FIELDS

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WarningSettings)
class WarningSettingsAdmin(admin.ModelAdmin):
    """A county's warning thresholds as dated versions: a change is a new version (from the
    first day of a data month); a version already in force is read-only and never deleted, so
    a month's warnings keep the thresholds they were raised under."""

    list_display = ["county", "effective_from", "medical_share_monitored", "medical_share_other", "medical_stay_sum",
                    "loan_overdue_days", "auto_dispatch", "town_confirms", "created_at"]  # fmt: skip
    list_filter = ["county"]
    ordering = ["county", "-effective_from"]

    def get_changeform_initial_data(self, request):
        return {"effective_from": timezone.localdate().replace(day=1), **super().get_changeform_initial_data(request)}

    def _in_force(self, obj):
        return obj is not None and obj.pk is not None and obj.effective_from <= timezone.localdate()

    def get_readonly_fields(self, request, obj=None):
        if self._in_force(obj):
            return [f.name for f in self.model._meta.fields]
        return ["created_at"]

    def has_delete_permission(self, request, obj=None):
        return not self._in_force(obj) and obj is not None


@admin.register(RuralIncome)
class RuralIncomeAdmin(admin.ModelAdmin):
    """The previous-year rural per-capita disposable income the 医保 shares are of."""

    list_display = ["county", "year", "amount"]
    list_filter = ["county"]


@admin.register(RiskWarning)
class RiskWarningAdmin(admin.ModelAdmin):
    """Read-only: warnings are raised by the rules and settled on the warning page or the API."""

    list_display = ["raised_on", "county", "village", "risk_type", "rule", "state", "period"]
    list_filter = ["state", "risk_type", "department", "county"]
    list_select_related = ["county", "village"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScaleAlert)
class ScaleAlertAdmin(admin.ModelAdmin):
    list_display = ["period", "area", "risk_type", "households", "total_households"]
    list_filter = ["risk_type", "county"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False
