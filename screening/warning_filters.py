"""The warning filters, shared by the inbox page and /api/warnings/ (issue 10 point 5).

Town and village are plain ids: an id outside the user's scope filters to an empty list
instead of revealing that it exists."""

import re

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet

from households.filters import StrictBooleanFilter
from households.models import Department

from . import warning_selectors
from .models import RiskWarning, Tier, WarningRisk, WarningState

DEPARTMENTS = [*Department.Kind.choices, ("platform", "平台规则"), ("registration", "未登记人员线索")]
PERIOD = re.compile(r"^\s*(\d{4})-(0?[1-9]|1[0-2])\s*$")


class WarningFilter(django_filters.FilterSet):
    tier = django_filters.ChoiceFilter(field_name="tier", choices=Tier.choices, label="预警等级")
    risk_type = django_filters.ChoiceFilter(choices=WarningRisk.choices, label="风险类型")
    department = django_filters.ChoiceFilter(choices=DEPARTMENTS, label="来源部门")
    period = django_filters.CharFilter(
        method="filter_period",
        label="数据月份（YYYY-MM）",
        validators=[RegexValidator(PERIOD, "数据月份应写成 YYYY-MM，例如 2026-01。")],
    )
    state = django_filters.ChoiceFilter(choices=WarningState.choices, label="状态")
    pending = StrictBooleanFilter(method="filter_pending", label="待核实（待下发或待核实）")
    overdue = StrictBooleanFilter(method="filter_overdue", label="超期未核实", help_text="超过本县升级天数仍未核实")
    raised = django_filters.CharFilter(
        method="filter_raised",
        label="预警月份（YYYY-MM）",
        validators=[RegexValidator(PERIOD, "预警月份应写成 YYYY-MM，例如 2026-01。")],
    )
    town = django_filters.NumberFilter(field_name="town_id", label="乡镇 id")
    village = django_filters.NumberFilter(field_name="village_id", label="村 id")

    class Meta:
        model = RiskWarning
        fields = [
            "tier",
            "risk_type",
            "department",
            "period",
            "state",
            "pending",
            "overdue",
            "raised",
            "town",
            "village",
        ]

    def filter_period(self, queryset: QuerySet[RiskWarning], name: str, value: str) -> QuerySet[RiskWarning]:
        match = PERIOD.match(value)
        assert match is not None  # the field's validator
        return queryset.filter(period__year=int(match.group(1)), period__month=int(match.group(2)))

    def filter_raised(self, queryset: QuerySet[RiskWarning], name: str, value: str) -> QuerySet[RiskWarning]:
        match = PERIOD.match(value)
        assert match is not None  # the field's validator
        return queryset.filter(raised_on__year=int(match.group(1)), raised_on__month=int(match.group(2)))

    def filter_pending(self, queryset: QuerySet[RiskWarning], name: str, value: bool | None) -> QuerySet[RiskWarning]:
        if value is None:
            return queryset
        condition = Q(state__in=warning_selectors.OPEN)
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_overdue(self, queryset: QuerySet[RiskWarning], name: str, value: bool | None) -> QuerySet[RiskWarning]:
        if value is None:
            return queryset
        condition = warning_selectors.overdue_q()
        return queryset.filter(condition) if value else queryset.exclude(condition)
