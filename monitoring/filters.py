"""The case filters, shared by the case-list page and /api/cases/.

Town and village choices come from the requesting user's scope, so a filter only ever
narrows `cases_visible_to` and never reveals an area outside it."""

import django_filters
from django.db.models import Exists, OuterRef, Q

from households import selectors as household_selectors
from households.filters import StrictBooleanFilter
from households.models import Area, Member
from households.widgets import ChainedSelect

from . import selectors
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
}
STAGE_CHOICES = [
    ("open", "进行中（全部）"),
    ("identification", "识别认定中"),
    ("monitored", "监测帮扶中"),
    ("elimination", "风险消除办理中"),
    ("ended", "已结束"),
]


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
        field_name="household__village__parent",
        empty_label="全部乡镇",
    )
    village = django_filters.ModelChoiceFilter(
        label="村",
        queryset=_villages,  # type: ignore[arg-type]  # django-filter takes a callable of the request
        field_name="household__village",
        empty_label="全部村",
        widget=ChainedSelect,
    )
    overdue = StrictBooleanFilter(
        label="认定超期", method="filter_overdue", help_text="发现至县级认定超过本县时限的识别中对象"
    )

    class Meta:
        model = MonitoringCase
        fields = ["q", "state", "stage", "category", "risk", "channel", "town", "village", "overdue"]

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
