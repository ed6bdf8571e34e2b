"""The household filters, shared by the list page and the list endpoint.

Choices for town and village come from the requesting user's scope, so a filter can never
widen what `households_visible_to` allows (it only narrows the scoped queryset)."""

import django_filters
from django.db.models import Q

from . import selectors
from .models import Area, Household


def _towns(request):
    if request is None:
        return Area.objects.none()
    return selectors.areas_visible_to(request.user, Area.Level.TOWN)


def _villages(request):
    if request is None:
        return Area.objects.none()
    return selectors.areas_visible_to(request.user, Area.Level.VILLAGE)


class HouseholdFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="搜索", method="filter_q", help_text="户编号、成员姓名或身份证号")
    town = django_filters.ModelChoiceFilter(
        label="乡镇", queryset=_towns, field_name="village__parent", empty_label="全部乡镇"
    )
    village = django_filters.ModelChoiceFilter(label="村", queryset=_villages, empty_label="全部村")
    household_type = django_filters.ChoiceFilter(
        label="户类型", choices=Household.Type.choices, empty_label="全部类型"
    )
    group = django_filters.ChoiceFilter(
        label="特殊群体", choices=selectors.SPECIAL_GROUPS, method="filter_group", empty_label="全部"
    )
    relocated = django_filters.BooleanFilter(label="易地搬迁户")

    class Meta:
        model = Household
        fields = ["q", "town", "village", "household_type", "group", "relocated"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(selectors.household_search_q(value))

    def filter_group(self, queryset, name, value):
        if not value:
            return queryset
        condition = selectors.special_group_q(value)
        if isinstance(condition, Q) and value == "multi_disabled":
            # needs the disabled_count annotation
            if "disabled_count" not in queryset.query.annotations:
                queryset = selectors.annotate_households(queryset)
        return queryset.filter(condition)
