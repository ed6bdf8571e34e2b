"""The access log page (issue 11 point 4, DOMAIN.md §9): for county officers, every view of a
full ID number or phone and every export in their county, filterable by user, household and
date. Read-only: the page only reads, and the model has no way to edit or delete a row (admin
read-only, no API)."""

import django_filters
from django import forms

from households.models import PersonalDataView


class AccessLogFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(
        label="用户", field_name="user__username", lookup_expr="icontains", help_text="用户名"
    )
    household = django_filters.CharFilter(
        label="户编号", field_name="household__number", lookup_expr="icontains", help_text="查看记录的户编号"
    )
    action = django_filters.ChoiceFilter(label="操作", choices=PersonalDataView.Action.choices, empty_label="全部")
    date_from = django_filters.DateFilter(
        label="起始日期",
        field_name="viewed_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        label="截止日期",
        field_name="viewed_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = PersonalDataView
        fields = ["user", "household", "action", "date_from", "date_to"]
