from django.contrib import admin

from .models import ScreeningUpload

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
