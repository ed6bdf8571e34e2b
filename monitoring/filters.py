"""The case filters, shared by the case-list page and /api/cases/.

Town and village choices come from the requesting user's scope, so a filter only ever
narrows `cases_visible_to` and never reveals an area outside it."""

import re

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef, Q

from households import selectors as household_selectors
from households.filters import StrictBooleanFilter
from households.models import Area, Member
from households.widgets import ChainedSelect

from . import extensions, selectors
from .models import (
    ELIMINATION_STATES,
    ENDED_STATES,
    IDENTIFICATION_STATES,
    OPEN_STATES,
    Category,
    Channel,
    MonitoringCase,
    RiskType,
    State,
)

STAGES = {
    "open": OPEN_STATES,
    "identification": IDENTIFICATION_STATES,
    "monitored": [State.MONITORED],
    "elimination": ELIMINATION_STATES,
    "ended": ENDED_STATES,
    # Determined and not yet eliminated: the households that count in the monitoring scale.
    "under_monitoring": [State.MONITORED, *ELIMINATION_STATES],
}
STAGE_CHOICES = [
    ("open", "进行中（全部）"),
    ("identification", "识别认定中"),
    ("monitored", "监测帮扶中"),
    ("elimination", "风险消除办理中"),
    ("ended", "已结束"),
    ("under_monitoring", "已认定未消除（监测规模）"),
]
MONTH = re.compile(r"^\s*(\d{4})-(0?[1-9]|1[0-2])\s*$")
MONTH_VALIDATOR = RegexValidator(MONTH, "月份应写成 YYYY-MM，例如 2026-01。")


def month_q(field, value):
    """Rows whose date `field` lies in the month `value` (YYYY-MM, already validated)."""
    match = MONTH.match(value)
    assert match is not None  # the field's validator
    return Q(**{f"{field}__year": int(match.group(1)), f"{field}__month": int(match.group(2))})


class MonthFilter(django_filters.CharFilter):
    """?determined=2026-03: the cases whose date falls in that month; a malformed month is a 400."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [MONTH_VALIDATOR])
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return qs.filter(month_q(self.field_name, value)) if value else qs


def _towns(request):
    if request is None:
        return Area.objects.none()
    return household_selectors.areas_visible_to(request.user, Area.Level.TOWN)


def _villages(request):
    if request is None:
        return Area.objects.none()
    return household_selectors.areas_visible_to(request.user, Area.Level.VILLAGE)


def risk_q(code):
    """Cases with `code` as their primary or one of their secondary risk types.

    secondary_risks is a JSON list of codes; matching the quoted code inside its text works
    the same on SQLite and PostgreSQL (JSON `contains` does not exist on SQLite), and the
    quotes keep one code from matching inside another."""
    return Q(primary_risk=code) | Q(secondary_risks__icontains=f'"{code}"')


def case_search_q(term):
    """Search by household number or the name of the household's head."""
    term = (term or "").strip()
    if not term:
        return Q()
    heads = Member.objects.filter(household=OuterRef("household"), relation=Member.Relation.HEAD, name__icontains=term)
    return Q(household__number__icontains=term) | Exists(heads)


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="搜索", method="filter_q", help_text="户编号或户主姓名")
    state = django_filters.ChoiceFilter(label="状态", choices=State.choices, empty_label="全部状态")
    stage = django_filters.ChoiceFilter(
        label="阶段", choices=STAGE_CHOICES, method="filter_stage", empty_label="全部阶段"
    )
    category = django_filters.ChoiceFilter(label="监测对象类别", choices=Category.choices, empty_label="全部类别")
    risk = django_filters.ChoiceFilter(
        label="风险类型",
        choices=RiskType.choices,
        method="filter_risk",
        empty_label="全部风险类型",
        help_text="主要或次要风险类型",
    )
    channel = django_filters.ChoiceFilter(label="发现渠道", choices=Channel.choices, empty_label="全部渠道")
    town = django_filters.ModelChoiceFilter(
        label="乡镇",
        queryset=_towns,  # type: ignore[arg-type]  # django-filter takes a callable of the request
        field_name="village__parent",
        empty_label="全部乡镇",
    )
    village = django_filters.ModelChoiceFilter(
        label="村",
        queryset=_villages,  # type: ignore[arg-type]  # django-filter takes a callable of the request
        field_name="village",
        empty_label="全部村",
        widget=ChainedSelect,
    )
    overdue = StrictBooleanFilter(
        label="认定超期", method="filter_overdue", help_text="发现至县级认定超过本县时限的识别中对象"
    )
    primary_risk = django_filters.ChoiceFilter(
        label="主要风险类型", choices=RiskType.choices, empty_label="全部主要风险类型"
    )
    secondary_risk = django_filters.ChoiceFilter(
        label="次要风险类型", choices=RiskType.choices, method="filter_secondary_risk", empty_label="全部次要风险类型"
    )
    determined = MonthFilter(label="认定月份", field_name="determined_on", help_text="YYYY-MM")
    eliminated = MonthFilter(label="风险消除月份", field_name="eliminated_on", help_text="YYYY-MM")
    ended = MonthFilter(label="结束月份", field_name="ended_on", help_text="不予纳入、撤回或自然减少的月份，YYYY-MM")
    visit_overdue = StrictBooleanFilter(
        label="走访超期", method="filter_visit_overdue", help_text="监测帮扶中、超过本县走访间隔未走访"
    )
    plan_overdue = StrictBooleanFilter(
        label="帮扶计划超期", method="filter_plan_overdue", help_text="认定后超过本县时限仍无帮扶措施"
    )

    class Meta:
        model = MonitoringCase
        fields = [
            "q",
            "state",
            "stage",
            "category",
            "risk",
            "channel",
            "town",
            "village",
            "overdue",
            "primary_risk",
            "secondary_risk",
            "determined",
            "eliminated",
            "ended",
            "visit_overdue",
            "plan_overdue",
        ]

    def filter_q(self, queryset, name, value):
        return queryset.filter(case_search_q(value))

    def filter_stage(self, queryset, name, value):
        return queryset.filter(state__in=STAGES[value]) if value else queryset

    def filter_risk(self, queryset, name, value):
        return queryset.filter(risk_q(value)) if value else queryset

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        condition = selectors.overdue_q()
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_secondary_risk(self, queryset, name, value):
        return queryset.filter(secondary_risks__icontains=f'"{value}"') if value else queryset

    def filter_visit_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        annotated = selectors.with_last_visit(queryset)
        condition = selectors.visit_overdue_q()
        return annotated.filter(condition) if value else annotated.exclude(condition)

    def filter_plan_overdue(self, queryset, name, value):
        # The plan is assistance's: its condition comes through a function named in settings.
        if value is None:
            return queryset
        condition = extensions.case_condition("plan_overdue")
        return queryset.filter(condition) if value else queryset.exclude(condition)
