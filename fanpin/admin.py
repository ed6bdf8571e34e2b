from django.contrib import admin

from .models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are made by exports from the case list; the access log records each."""

    list_display = ["created_at", "kind", "user", "status", "rows_total", "finished_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
