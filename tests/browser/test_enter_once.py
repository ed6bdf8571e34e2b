"""Enter each fact once, measured (issue 12 point 8; DOMAIN.md §8). A cadre's journeys on a
phone, with every field the cadre types, ticks or chooses counted: each journey types only
what is new, and no fact is asked twice (the typing recorder below fails the test on a repeat).
"""

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from monitoring.models import MonitoringCase, Visit
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


class Typing:
    """Every field the user fills, ticks or chooses, by its label; a fact typed twice fails."""

    def __init__(self, page):
        self.page = page
        self.entries = []

    def _note(self, label, value):
        for _label, earlier in self.entries:
            assert value != earlier or value in ("", True, False), (
                f"“{value}”已经录入过一次（{_label}），又在“{label}”再录入"
            )
        self.entries.append((label, value))

    def fill(self, label, value):
        self.page.get_by_label(label, exact=True).fill(value)
        self._note(label, value)

    def tick(self, label, on=True):
        box = self.page.get_by_label(label, exact=True)
        box.check() if on else box.uncheck()
        self._note(label, on)

    @property
    def count(self):
        return len(self.entries)


def test_a_visit_that_finds_illness_then_reported_as_a_case_types_each_fact_once(page, world, bad_responses):
    household = world.household_a1
    login(page, "village")
    typing = Typing(page)

    # The visit: the form starts from the household's last state; three things are new.
    page.goto(f"/households/{household.pk}/")
    page.get_by_role("link", name="走访", exact=True).click()
    expect(page.get_by_label("基本医疗有保障", exact=True)).to_be_checked()
    expect(page.get_by_label(re.compile("^走访人员"))).not_to_have_value("")
    typing.tick("基本医疗有保障", on=False)
    typing.fill("走访情况", "户主突发脑梗住院，自付医疗费约4万元")
    typing.tick("因病")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_text(re.compile("已保存 .* 的走访记录"))).to_be_visible()
    visit = Visit.objects.get()
    assert typing.count == 3

    # Reported the next moment from the household page: nothing of the visit is asked again.
    page.goto(f"/households/{household.pk}/")
    page.get_by_role("link", name="申报监测对象").click()
    expect(page.get_by_text("已带入")).to_be_visible()
    expect(page.get_by_label("申报理由")).to_have_value("户主突发脑梗住院，自付医疗费约4万元")
    expect(page.get_by_label("发现日期")).to_have_value(visit.visited_on.isoformat())
    page.get_by_role("button", name="提交申报").click()
    expect(page.get_by_text(re.compile("已申报监测对象"))).to_be_visible()
    case = MonitoringCase.objects.get()
    assert case.reason == visit.findings and case.primary_risk == "illness"
    assert typing.count == 3  # the report typed nothing

    # The home check (入户核实) starts from the visit too.
    page.goto(f"/cases/{case.pk}/actions/start_appraisal/")
    expect(page.get_by_label("入户核实日期")).to_have_value(visit.visited_on.isoformat())
    assert [r for r in bad_responses if "favicon" not in r] == []


def test_a_new_years_income_starts_from_last_year_and_only_the_change_is_typed(page, world):
    household = world.household_a1
    year = datetime.date.today().year - 1
    f.make_income(household, year=year - 1, wage_income=Decimal("24000"), business_income=Decimal("6000"))
    login(page, "village")
    typing = Typing(page)
    page.goto(f"/households/{household.pk}/incomes/new/")
    expect(page.get_by_label(re.compile("^年度"))).to_have_value(str(year))
    expect(page.get_by_label(re.compile("^生产经营性收入"))).to_have_value(re.compile(r"^6000"))
    wage = page.get_by_label(re.compile("^工资性收入"))
    expect(wage).to_have_value(re.compile(r"^24000"))
    wage.fill("30000")
    typing._note("工资性收入", "30000")
    page.get_by_role("button", name=re.compile("保存")).click()
    expect(page).to_have_url(re.compile(f"/households/{household.pk}/$"))
    record = household.incomes.get(year=year)
    assert record.wage_income == Decimal("30000") and record.business_income == Decimal("6000")
    assert typing.count == 1
