"""The household filters, shared by the list page and the list endpoint.

Choices for town and village come from the requesting user's scope, so a filter can never
widen what `households_visible_to` allows (it only narrows the scoped queryset)."""

import django_filters
from django import forms
from django.db.models import Q

from . import selectors
from .models import Area, Household
from .widgets import ChainedSelect


def _towns(request):
    if request is None:
        return Area.objects.none()
    return selectors.areas_visible_to(request.user, Area.Level.TOWN)


def _villages(request):
    if request is None:
        return Area.objects.none()
    return selectors.areas_visible_to(request.user, Area.Level.VILLAGE)


TRUE_WORDS = {"true", "1", "yes", "on", "是"}
FALSE_WORDS = {"false", "0", "no", "off", "否"}


class StrictNullBooleanSelect(forms.NullBooleanSelect):
    """The page's 全部/是/否 select; a value it does not know is passed on to be refused."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if value is None or isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in ("", "unknown"):
            return None
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return value


class StrictNullBooleanField(forms.NullBooleanField):
    widget = StrictNullBooleanSelect

    def to_python(self, value):
        if isinstance(value, str):
            raise forms.ValidationError("请填写 true 或 false。", code="invalid")
        return value

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter that answers ?relocated=maybe with 400 instead of quietly ignoring it
    (an API client would otherwise believe the list was filtered)."""

    field_class = StrictNullBooleanField


class IdFilter(django_filters.NumberFilter):
    """A whole-number id or year: ?year=0.5 or ?household=1e5 is a 400, not an empty list."""

    field_class = forms.IntegerField  # type: ignore[assignment]  # the stubs allow only DecimalField


class HouseholdFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="搜索", method="filter_q", help_text="户编号、成员姓名或身份证号")
    town = django_filters.ModelChoiceFilter(
        label="乡镇",
        queryset=_towns,  # type: ignore[arg-type]  # django-filter takes a callable of the request
        field_name="village__parent",
        empty_label="全部乡镇",
    )
    village = django_filters.ModelChoiceFilter(
        label="村",
        queryset=_villages,  # type: ignore[arg-type]  # django-filter takes a callable of the request
        empty_label="全部村",
        widget=ChainedSelect,
    )
    household_type = django_filters.ChoiceFilter(label="户类型", choices=Household.Type.choices, empty_label="全部类型")
    group = django_filters.ChoiceFilter(
        label="特殊群体", choices=selectors.SPECIAL_GROUPS, method="filter_group", empty_label="全部"
    )
    relocated = StrictBooleanFilter(label="易地搬迁户")

    class Meta:
        model = Household
        fields = ["q", "town", "village", "household_type", "group", "relocated"]

    @property
    def form(self):
        """The form, its town and village choices read from the user's cached scope (the same
        rows as areas_visible_to, without two more queries per page); a chosen value is still
        checked against the scoped queryset."""
        form = super().form
        if self.request is not None and not getattr(form, "choices_from_scope", False):
            form.choices_from_scope = True
            for name, level in (("town", Area.Level.TOWN), ("village", Area.Level.VILLAGE)):
                rows = selectors.areas_in_scope(self.request.user, level)
                if rows is not None:
                    field = form.fields[name]
                    choice = field.iterator(field).choice
                    # Django's own setter (django-filter's wraps the list in its iterator,
                    # which only takes a queryset): the widget renders these, no query.
                    forms.ChoiceField.choices.fset(field, [("", field.empty_label), *(choice(row) for row in rows)])
        return form

    def filter_q(self, queryset, name, value):
        villages = selectors.scope_village_ids(self.request.user) if self.request is not None else None
        return queryset.filter(selectors.household_search_found(value, villages))

    def filter_group(self, queryset, name, value):
        if not value:
            return queryset
        condition = selectors.special_group_q(value)
        # "multi_disabled" filters on the disabled_count annotation.
        if (
            isinstance(condition, Q)
            and value == "multi_disabled"
            and "disabled_count" not in queryset.query.annotations
        ):
            queryset = selectors.annotate_households(queryset)
        return queryset.filter(condition)
