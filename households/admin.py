from django.contrib import admin

from .models import Area, Department, Household, IncomeRecord, Member, PersonalDataView, RoleAssignment


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
    fields = ["name", "id_number", "relation", "status", "health", "labour_capacity"]


class IncomeInline(admin.TabularInline):
    model = IncomeRecord
    extra = 0
    fields = ["year", "month", "wage_income", "business_income", "business_costs", "property_income",
              "transfer_income", "total_net_income", "household_size", "per_capita_net_income"]
    readonly_fields = ["total_net_income", "household_size", "per_capita_net_income"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["number", "village", "household_type", "relocated"]
    list_filter = ["household_type", "relocated"]
    search_fields = ["number", "members__name", "members__id_number"]
    list_select_related = ["village"]
    autocomplete_fields = ["village"]
    inlines = [MemberInline, IncomeInline]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["name", "household", "relation", "sex", "birth_date", "status"]
    list_filter = ["status", "relation", "health", "labour_capacity"]
    search_fields = ["name", "id_number", "household__number"]
    list_select_related = ["household"]
    raw_id_fields = ["household"]
    readonly_fields = ["sex", "birth_date"]


@admin.register(IncomeRecord)
class IncomeRecordAdmin(admin.ModelAdmin):
    list_display = ["household", "year", "month", "total_net_income", "household_size", "per_capita_net_income"]
    list_filter = ["year"]
    search_fields = ["household__number"]
    raw_id_fields = ["household"]
    readonly_fields = ["total_net_income", "household_size", "per_capita_net_income"]


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(admin.ModelAdmin):
    list_display = ["viewed_at", "user", "household", "channel"]
    list_filter = ["channel"]
    raw_id_fields = ["household"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
