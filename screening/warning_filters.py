"""The warning filters, shared by the inbox page and /api/warnings/ (issue 10 point 5).

Town and village are plain ids: an id outside the user's scope filters to an empty list
instead of revealing that it exists."""

import re

import django_filters
from django.core.validators import RegexValidator
from django.db.models import QuerySet

from households.models import Department

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
    town = django_filters.NumberFilter(field_name="town_id", label="乡镇 id")
    village = django_filters.NumberFilter(field_name="village_id", label="村 id")

    class Meta:
        model = RiskWarning
        fields = ["tier", "risk_type", "department", "period", "state", "town", "village"]

    def filter_period(self, queryset: QuerySet[RiskWarning], name: str, value: str) -> QuerySet[RiskWarning]:
        match = PERIOD.match(value)
        assert match is not None  # the field's validator
        return queryset.filter(period__year=int(match.group(1)), period__month=int(match.group(2)))
