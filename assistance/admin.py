"""The catalogue is the county's to edit here (adding a type is data, not code). Measures are
shown read-only: every change goes through the plan's services, which write the progress row
and the timeline event, so the admin cannot bypass the audit; nothing is ever deleted."""

from django.contrib import admin

from .models import Measure, MeasureProgress, MeasureType


@admin.register(MeasureType)
class MeasureTypeAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "code",
        "kind",
        "risk_labels_display",
        "department_kind",
        "continues_after_elimination",
        "sort_order",
        "active",
    ]
    list_editable = ["sort_order", "active"]
    list_filter = ["kind", "active", "continues_after_elimination"]
    search_fields = ["label", "code"]

    @admin.display(description="针对的风险类型")
    def risk_labels_display(self, obj):
        return "、".join(obj.risk_labels())

    def get_readonly_fields(self, request, obj=None):
        # Measures point at the code: once saved it stays (disable a type instead).
        return ["code"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False


class MeasureProgressInline(admin.TabularInline):
    model = MeasureProgress
    extra = 0
    can_delete = False
    fields = ["at", "author", "note", "from_status", "to_status", "changes"]
    readonly_fields = ["at", "author", "note", "from_status", "to_status", "changes"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ["case", "measure_type", "status", "starts_on", "ends_on", "amount", "contact_person"]
    list_filter = ["measure_type", "status"]
    search_fields = ["case__household__number"]
    inlines = [MeasureProgressInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
