"""A village cadre registers a household on a phone (issue 2, browser test)."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from households import idnumber
from households.models import Household, Member
from tests.browser.conftest import ARTIFACTS, login
from tests.factories import valid_id

pytestmark = pytest.mark.browser


def _wrong_check_digit(number):
    wrong = next(c for c in idnumber.CHECK_CHARS if c != number[-1])
    return number[:-1] + wrong


def _section(page, heading):
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def test_village_cadre_registers_a_household_with_two_members_on_a_phone(page, world, bad_responses):
    head_id = valid_id(datetime.date(1978, 4, 2), "M")
    spouse_id = valid_id(datetime.date(1980, 11, 23), "F")
    login(page, "village")

    page.goto("/households/")
    page.get_by_role("link", name="登记新农户").click()
    expect(page.get_by_role("heading", name="登记新农户")).to_be_visible()

    household = _section(page, "农户信息")
    household.get_by_label("户编号").fill("DS-2025-001")
    household.get_by_label("住址").fill("东山村三组 12 号")
    household.get_by_label("联系电话").fill("13912345678")
    head = _section(page, "户主")
    head.get_by_label("姓名").fill("赵建国")
    head.get_by_label("身份证号").fill(_wrong_check_digit(head_id))
    page.get_by_role("button", name="保存", exact=True).click()

    # The mistake is named next to the field and nothing was saved; the typing is kept.
    expect(head.get_by_text("身份证号校验位错误")).to_be_visible()
    expect(household.get_by_label("户编号")).to_have_value("DS-2025-001")
    assert not Household.objects.filter(number="DS-2025-001").exists()

    head.get_by_label("身份证号").fill(head_id.lower())
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已登记农户 DS-2025-001")).to_be_visible()

    page.get_by_role("link", name="添加成员").click()
    page.get_by_label("姓名").fill("钱秀英")
    page.get_by_label("身份证号").fill(spouse_id)
    page.get_by_label("与户主关系").select_option(label="配偶")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已添加成员 钱秀英")).to_be_visible()

    saved = Household.objects.get(number="DS-2025-001")
    assert saved.village == world.village_a1
    assert sorted(saved.members.values_list("name", "relation", "id_number")) == sorted(
        [
            ("赵建国", Member.Relation.HEAD, head_id),
            ("钱秀英", Member.Relation.SPOUSE, spouse_id),
        ]
    )

    page.goto("/households/")
    page.get_by_role("searchbox", name="搜索").fill("赵建国")
    page.get_by_role("button", name="查询").click()
    row = page.get_by_role("row", name=re.compile("DS-2025-001"))
    expect(row).to_be_visible()
    expect(row).to_contain_text("赵建国")
    expect(row).to_contain_text(idnumber.mask(head_id))
    expect(row).not_to_contain_text(head_id)
    expect(page.locator("tbody").get_by_role("row")).to_have_count(1)  # the one match

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "household_list_phone.png"), full_page=True)
    # The app's own stylesheet was served and applied (no CDN, no 404 under /static/).
    assert page.evaluate("document.styleSheets.length") >= 1
    assert bad_responses == []
