from django.contrib import admin

from .models import CaseEvent, CountySettings, MonitoringCase, MonitoringLine, Objection, Visit, VisitPhoto


@admin.register(CountySettings)
class CountySettingsAdmin(admin.ModelAdmin):
    list_display = ["county", "notice_days", "notice_in_working_days", "determination_days", "visit_interval_days"]


@admin.register(MonitoringLine)
class MonitoringLineAdmin(admin.ModelAdmin):
    list_display = ["county", "year", "amount"]
    list_filter = ["year"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["at", "label", "from_state", "to_state", "actor", "comment"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MonitoringCase)
class MonitoringCaseAdmin(admin.ModelAdmin):
    """State is read-only here: it only moves through the workflow services (pages, API)."""

    list_display = ["household", "state", "category", "primary_risk", "channel", "discovered_on", "determined_on"]
    list_filter = ["state", "category", "primary_risk", "channel"]
    search_fields = ["household__number", "household__members__name"]
    raw_id_fields = ["household", "contact_person", "reported_by"]
    readonly_fields = ["state", "created_at", "updated_at"]
    inlines = [CaseEventInline]


@admin.register(Objection)
class ObjectionAdmin(admin.ModelAdmin):
    list_display = ["case", "raised_by", "raised_on", "status"]
    list_filter = ["status"]
    raw_id_fields = ["case"]
    readonly_fields = ["status", "resolved_by", "resolved_at"]


class VisitPhotoInline(admin.TabularInline):
    model = VisitPhoto
    extra = 0


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["household", "visited_on", "visitors", "case"]
    raw_id_fields = ["household", "case"]
    inlines = [VisitPhotoInline]


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = ["at", "case", "label", "from_state", "to_state", "actor"]
    list_filter = ["label"]
    raw_id_fields = ["case"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
