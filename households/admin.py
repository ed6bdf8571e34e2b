from django import forms
from django.contrib import admin

from . import services
from .models import Area, Department, Household, ImportJob, IncomeRecord, Member, PersonalDataView, RoleAssignment


class NoDeleteAdmin(admin.ModelAdmin):
    """Registry, case and audit records are never deleted (issue 14, data safety): a member
    leaves by status (死亡/迁出), a case ends by reject/withdraw/close, all audited."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "county"]
    list_filter = ["kind"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "area", "department"]
    list_filter = ["role"]
    search_fields = ["user__username", "area__name"]
    autocomplete_fields = ["user", "area"]


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    can_delete = False
    fields = ["name", "id_number", "relation", "status", "health", "labour_capacity"]


class IncomeInline(admin.TabularInline):
    """Read-only here: income is entered through IncomeRecordAdmin, which computes totals
    with the same service as the pages and the API."""

    model = IncomeRecord
    extra = 0
    # One tuple for both: every field shown is read-only.
    readonly_fields = (
        "year",
        "month",
        "wage_income",
        "business_income",
        "business_costs",
        "property_income",
        "transfer_income",
        "total_net_income",
        "household_size",
        "per_capita_net_income",
    )
    fields = readonly_fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(NoDeleteAdmin):
    list_display = ["number", "village", "household_type", "relocated"]
    list_filter = ["household_type", "relocated"]
    search_fields = ["number", "members__name", "members__id_number"]
    list_select_related = ["village"]
    autocomplete_fields = ["village"]
    inlines = [MemberInline, IncomeInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "village" in form.changed_data:
            services.households_moved([obj.pk])


@admin.register(Member)
class MemberAdmin(NoDeleteAdmin):
    list_display = ["name", "household", "relation", "sex", "birth_date", "status"]
    list_filter = ["status", "relation", "health", "labour_capacity"]
    search_fields = ["name", "id_number", "household__number"]
    list_select_related = ["household"]
    raw_id_fields = ["household"]
    readonly_fields = ["sex", "birth_date"]


class IncomeRecordAdminForm(forms.ModelForm):
    class Meta:
        model = IncomeRecord
        fields = ["household", *services.INCOME_FIELDS]

    def clean(self):
        cleaned = super().clean()
        household = cleaned.get("household")
        # The one rule of income_record_save that the model form cannot see; checked here
        # so the admin shows it on the form instead of failing in save_model.
        if household is not None and services.active_size(household) == 0:
            raise forms.ValidationError("该户没有在户成员，无法计算人均纯收入。请先登记家庭成员。")
        return cleaned


@admin.register(IncomeRecord)
class IncomeRecordAdmin(NoDeleteAdmin):
    list_display = ["household", "year", "month", "total_net_income", "household_size", "per_capita_net_income"]
    list_filter = ["year"]
    search_fields = ["household__number"]
    list_select_related = ["household"]
    raw_id_fields = ["household"]
    readonly_fields = ["total_net_income", "household_size", "per_capita_net_income"]
    form = IncomeRecordAdminForm

    def save_model(self, request, obj, form, change):
        # Same service as the pages and the API: totals, size and per-capita income are
        # computed in one place.
        services.income_record_save(
            user=request.user,
            household=obj.household,
            record=obj,
            **{name: form.cleaned_data[name] for name in services.INCOME_FIELDS},
        )


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(NoDeleteAdmin):
    list_display = ["viewed_at", "user", "action", "household", "export_name", "row_count", "channel"]
    list_filter = ["action", "channel"]
    search_fields = ["user__username", "household__number"]
    list_select_related = ["user", "household"]
    raw_id_fields = ["household"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are created by uploads on the import page and kept, with their files,
    as the record of what was imported. The full report is on the job's page."""

    list_display = ["created_at", "original_name", "user", "status", "summary"]
    list_filter = ["status"]
    search_fields = ["original_name", "user__username"]
    list_select_related = ["user"]
    # One tuple for both: every field shown is read-only.
    readonly_fields = (
        "user",
        "original_name",
        "stored_file",
        "status",
        "step",
        "rows_done",
        "rows_total",
        "created_at",
        "started_at",
        "finished_at",
        "summary",
        "error_message",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("report")

    @admin.display(description="保存的文件")
    def stored_file(self, obj):
        # The name under MEDIA_ROOT; media is not served publicly, so no link.
        return obj.file.name

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
