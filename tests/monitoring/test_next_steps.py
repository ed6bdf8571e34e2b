"""The case page says what comes next (issue 13 points 3, 5, 6): unmet conditions beside their
fields with the fields marked required, the plan offered first once the county has approved,
the endings apart and confirmed, and income against the line at every step."""

import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from monitoring.models import MonitoringLine, State
from tests import factories as f
from tests.monitoring.cases import HOME_CHECK, T_REPORT, case_at, report

pytestmark = pytest.mark.django_db


def text(response):
    return response.content.decode()


def field_block(page, name):
    """The .field div holding the input named `name`."""
    start = page.rindex('<div class="field', 0, page.index(f'name="{name}"'))
    return page[start : page.index("</div>", page.index(f'name="{name}"'))]


def test_an_unmet_condition_is_shown_beside_its_field_and_the_fields_are_marked_required(client, world):
    w = world
    case = report(w)
    client.force_login(w.village_cadre)
    url = reverse("monitoring:case-action", args=[case.pk, "start_appraisal"])
    page = text(client.get(url))
    for name in ("home_check_on", "commitment_signed_on"):
        label = re.search(rf'<label for="id_{name}">[^<]*<span class="req"', page)
        assert label, name
    assert "为必填项" in page
    with time_machine.travel(T_REPORT, tick=False):
        page = text(client.post(url, {**HOME_CHECK, "commitment_signed_on": ""}))
    block = field_block(page, "commitment_signed_on")
    assert "has-error" in block and "尚未记录农户签署的承诺授权书" in block


def test_after_county_approval_the_plan_comes_first_and_the_endings_are_apart(client, world):
    w = world
    case = case_at(w, State.MONITORED)
    client.force_login(w.county_officer)
    page = text(client.get(reverse("monitoring:case-detail", args=[case.pk])))
    assert page.index('id="plan-summary"') < page.index('id="actions-title"')
    assert "制定帮扶计划" in page
    rare = page[page.index('<details class="rare-actions">') :]
    assert "自然减少" in rare.split("</details>")[0]
    # 自然减少 is never the page's primary button.
    assert not re.search(r'class="btn btn-primary"[^>]*>自然减少', page)


def test_an_ending_asks_to_confirm_on_its_own_page(client, world):
    w = world
    case = case_at(w, State.MONITORED)
    client.force_login(w.county_officer)
    page = text(client.get(reverse("monitoring:case-action", args=[case.pk, "close"])))
    assert "请确认" in page and "不能撤销" in page


def test_income_against_the_line_is_shown_before_approval_with_the_quality_findings(client, world):
    w = world
    case = report(w)
    MonitoringLine.objects.create(county=w.county, year=2025, amount=Decimal("7800"))
    f.make_income(w.household_a1, year=2025, wage_income=Decimal("6000"))
    client.force_login(w.village_cadre)
    page = text(client.get(reverse("monitoring:case-detail", args=[case.pk])))
    section = page[page.index('id="income-title"') :].split("</section>")[0]
    assert "2025 年" in section and "7,800.00 元" in section and "低于监测线" in section
