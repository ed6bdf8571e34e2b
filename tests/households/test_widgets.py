"""The select widget written in Python (households.widgets.FastSelectRenderer) writes what
its template (templates/django/forms/widgets/select.html) writes, character for character."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.safestring import mark_safe

from households.filters import HouseholdFilter, StrictNullBooleanSelect
from households.models import Area
from households.widgets import ChainedSelect, FastSelectRenderer
from tests import factories as f

CHOICES = [
    ("", "---------"),
    ("a", "甲 & <乙>"),
    (1, 2024),
    (Decimal("1.5"), Decimal("1234.50")),
    ("safe", mark_safe("<b>安全</b>")),
    ("date", datetime.date(2026, 12, 7)),
    ('q"uote', "引号\"'"),
    ("分组", [("x", "X 选项"), ("y", "Y")]),
    ("", "全部"),
]


def _widgets():
    yield forms.Select(choices=CHOICES), "a"
    yield forms.Select(choices=CHOICES, attrs={"class": "c", "disabled": True, "data-x": 'a"<', "hidden": False}), ""
    yield forms.Select(choices=CHOICES), None
    yield forms.SelectMultiple(choices=CHOICES), ["a", "x", "1"]
    yield forms.NullBooleanSelect(), True
    yield forms.NullBooleanSelect(), None
    yield StrictNullBooleanSelect(), False
    yield forms.Select(choices=[]), None


@pytest.mark.parametrize(("index"), range(8))
def test_select_written_in_python_matches_the_template(index):
    widget, value = list(_widgets())[index]
    slow = widget.render("field", value, attrs={"id": "id_field", "required": True}, renderer=TemplatesSetting())
    fast = widget.render("field", value, attrs={"id": "id_field", "required": True}, renderer=FastSelectRenderer())
    assert fast == slow


def test_chained_and_filter_selects_match_the_template(rf, world):
    town = f.make_town(world.county, "镇 <一>")
    village = f.make_village(town, "村 & 二")
    chained = forms.ModelChoiceField(queryset=Area.objects.order_by("path"), widget=ChainedSelect)
    for value in (None, village.pk, str(town.pk)):
        slow = chained.widget.render("village", value, renderer=TemplatesSetting())
        assert chained.widget.render("village", value, renderer=FastSelectRenderer()) == slow
    request = rf.get("/households/", {"town": town.pk, "village": village.pk, "group": "illness", "relocated": "false"})
    request.user = world.county_officer
    form = HouseholdFilter(request.GET, request=request).form
    for name in ("town", "village", "household_type", "group", "relocated"):
        form.renderer = TemplatesSetting()
        slow = str(form[name])
        form.renderer = FastSelectRenderer()
        assert str(form[name]) == slow
        assert name != "village" or f'data-parent="{town.pk}"' in slow
