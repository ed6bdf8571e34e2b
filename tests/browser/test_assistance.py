"""A contact person on a phone (issue 8): opens 我的帮扶, adds a suggested measure with one tap,
records its progress, and sees the elimination checklist change."""

import re

import pytest
from playwright.sync_api import expect

from assistance.catalogue import install_default_catalogue
from assistance.models import Measure
from monitoring.models import CaseEvent, State
from tests.browser.conftest import login
from tests.monitoring.cases import add_users, case_at

pytestmark = pytest.mark.browser


def _fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_contact_person_plans_a_measure_and_sees_the_checklist_change(page, world, bad_responses):
    install_default_catalogue()  # transactional tests start from a flushed database
    add_users(world)
    case = case_at(world, State.MONITORED, contact_person=world.contact)
    number = case.household.number

    login(page, "contact")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的帮扶").click()
    expect(page.get_by_role("heading", name="我的帮扶")).to_be_visible()
    card = page.locator("#my-cases li.item").filter(has_text=number)
    expect(card).to_contain_text("帮扶计划超期未制定")
    assert _fits_the_phone(page)
    card.get_by_role("link", name="帮扶计划", exact=True).click()

    expect(page.get_by_role("heading", name=re.compile("帮扶计划（一户一策）"))).to_be_visible()
    checklist = page.locator("#elimination-checklist")
    expect(checklist.locator('[data-criterion="measures"]')).to_have_attribute("data-met", "0")
    expect(page.locator("#rule-warnings")).to_contain_text("该户有劳动能力：应至少安排一项开发式帮扶措施")
    assert _fits_the_phone(page)

    # One tap on the first suggestion: 公益岗位 answers both risks and suits a household that can work.
    page.locator("#suggestions").get_by_role("button", name="添加公益岗位").click()
    expect(page.get_by_text("已添加帮扶措施：公益岗位（计划中）")).to_be_visible()
    expect(page.locator("#measure-status")).to_have_text("计划中")

    page.get_by_label("进展情况").fill("已签订村级公益岗位（保洁员）协议，每月 800 元。")
    page.get_by_role("button", name="记录并标为实施中").click()
    expect(page.get_by_text("已记录进展。")).to_be_visible()
    expect(page.locator("#measure-status")).to_have_text("实施中")
    expect(page.locator("#progress-list")).to_contain_text("已签订村级公益岗位（保洁员）协议")
    assert _fits_the_phone(page)

    page.get_by_role("link", name="← 返回帮扶计划").click()
    measures = page.locator('#elimination-checklist [data-criterion="measures"]')
    expect(measures).to_have_attribute("data-met", "1")
    expect(measures).to_contain_text("已落实 1 项")
    expect(page.locator("#rule-warnings")).to_have_count(0)

    measure = Measure.objects.get(case=case)
    assert (measure.measure_type_id, measure.status, measure.contact_person_id) == (
        "public_job",
        "in_progress",
        world.contact.pk,
    )
    assert list(CaseEvent.objects.filter(case=case, action__startswith="measure").values_list("actor", flat=True)) == [
        world.contact.pk,
        world.contact.pk,
    ]
    assert bad_responses == []
