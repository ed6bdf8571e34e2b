"""A 医保 file becomes a case, in a phone browser (issue 10): the `medical` user uploads a file
and watches it processed to its summary and outcome; the `village` user opens the warning from
the navigation, includes it in one tap and lands on the new case."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from households.models import Household
from monitoring.models import MonitoringCase
from screening.models import RiskWarning, RuralIncome
from tests.browser.conftest import login, logout
from tests.screening.helpers import csv_bytes, medical_row

pytestmark = pytest.mark.browser


def test_medical_uploads_and_the_village_includes_the_warning_into_a_new_case(page, world, bad_responses, settings,
                                                                             tmp_path):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    RuralIncome.objects.create(county=world.county, year=2025, amount=Decimal("20500"))
    Household.objects.filter(pk=world.household_a1.pk).update(household_type=Household.Type.FORMERLY_POOR)
    head = world.household_a1.members.order_by("pk").first()
    data = csv_bytes([medical_row(head, paid="12000", total="30000", reimbursed="18000")])

    login(page, "medical")
    page.goto("/screening/")
    page.get_by_label("数据月份").fill("2026-01")
    page.get_by_label("部门数据文件").set_input_files({"name": "医保1月.csv", "mimeType": "text/csv", "buffer": data})
    page.get_by_role("button", name="上传并比对").click()
    expect(page.locator("#upload-summary")).to_contain_text("比对上登记册")
    expect(page.locator("#upload-outcomes")).to_contain_text("生成预警")
    expect(page.locator("#upload-outcomes")).to_contain_text("1 条")
    assert world.household_a1.number not in page.content()
    logout(page)

    login(page, "village")
    # On a phone 预警 is in the 更多 menu; the count shows on 更多 and in the menu.
    more = page.locator(".nav-more summary")
    expect(more.locator("[data-warning-count]")).to_have_text("1")
    more.click()
    menu_link = page.locator(".nav-more-list a[data-count-url]")
    expect(menu_link.locator("[data-warning-count]")).to_have_text("1")
    menu_link.click()
    page.get_by_role("link", name=re.compile(world.household_a1.number)).click()
    expect(page.locator("#warning-figure")).to_contain_text("个人自付 12,000 元，超过上年农村居民人均可支配收入的 50 %")
    page.get_by_role("button", name="核实纳入").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = MonitoringCase.objects.get(household=world.household_a1)
    assert page.url.endswith(f"/cases/{case.pk}/") and case.channel == "department_warning"
    assert RiskWarning.objects.get().state == "included"
    assert bad_responses == []
