"""A household declares hardship on a phone and the village cadre follows it into a case
(issue 12 points 1, 4 and 8): no login for the household, large plain form; the cadre registers
the household from the declaration and starts the case in one tap. Every field typed is counted:
no fact is typed twice in the whole journey."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from households.models import Household
from monitoring.models import Declaration, MonitoringCase
from tests.browser.conftest import login
from tests.factories import image_bytes, valid_id

pytestmark = pytest.mark.browser


class Typist:
    """Fills fields and remembers what was typed, to show each fact was typed once."""

    def __init__(self):
        self.typed = []

    def fill(self, locator, value):
        locator.fill(value)
        self.typed.append(value)


def test_a_declaration_on_a_phone_is_followed_by_the_village_cadre_into_a_case(page, world, bad_responses):
    typist = Typist()
    number = valid_id(datetime.date(1966, 9, 12), "F")
    situation = "丈夫今年查出尿毒症，每周透析三次，家里没钱了。"

    # The household, no login, on a phone: the town narrows the villages.
    page.goto("/declare/")
    expect(page.get_by_role("heading", name="家里有困难，告诉村里")).to_be_visible()
    font = page.locator("#id_name").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert font >= 18  # large text
    page.get_by_label("乡镇").select_option(label="示例县 东山镇")
    expect(page.locator("#id_village optgroup[label='西河镇']")).to_be_hidden()
    page.get_by_label("村", exact=False).last.select_option(label="东山村")
    typist.fill(page.get_by_label("姓名"), "李秀英")
    typist.fill(page.get_by_label("身份证号"), number)
    typist.fill(page.get_by_label("手机或电话"), "13912345678")
    typist.fill(page.get_by_label("家里遇到了什么困难"), situation)
    page.get_by_label("家里有人生大病、慢性病，看病花钱多").check()
    page.get_by_label("家里缺劳力，没人能干活").check()
    page.locator("input[name=photos]").set_input_files(
        {"name": "病历.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG")}
    )
    page.get_by_role("button", name="提交申报").click()
    expect(page.get_by_role("heading", name="申报已收到")).to_be_visible()
    reference = page.locator("#reference").inner_text().strip()
    declaration = Declaration.objects.get(reference=reference)
    expect(page.locator(".next-steps")).to_contain_text("东山村的村干部会打电话或上门了解情况")

    # Looking it up: its state and nothing else.
    page.get_by_role("link", name="查询办理进度").first.click()
    typist.fill(page.get_by_label("身份证号后 6 位"), number[-6:])
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#status-result")).to_contain_text("待村里核实")
    assert "李秀英" not in page.content()

    # The village cadre: 我的待办 → the declaration → register the household from it.
    login(page, "village")
    expect(page.locator("#open-declarations")).to_contain_text("李秀英")
    page.locator("#open-declarations").get_by_role("link", name=re.compile("李秀英")).click()
    expect(page.locator("#declaration-state")).to_have_text("待村里核实")
    page.get_by_role("link", name="登记该户（带入申报信息）").click()
    expect(page.locator("#id_head-name")).to_have_value("李秀英")
    expect(page.locator("#id_head-id_number")).to_have_value(number)
    expect(page.locator("#id_phone")).to_have_value("13912345678")
    typist.fill(page.get_by_label("户编号"), "DS-2026-088")  # the one thing the declaration could not say
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("已登记农户 DS-2026-088")
    household = Household.objects.get(number="DS-2026-088")

    # Linked on the way back: start the case in one tap.
    page.get_by_role("button", name="据此申报监测对象").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = MonitoringCase.objects.get(household=household)
    assert case.channel == "self_declared" and case.discovered_on == declaration.declared_on
    assert case.primary_risk == "illness" and case.secondary_risks == ["labour"]
    expect(page.locator("body")).to_contain_text(situation)
    assert case.events.filter(action="declaration_photo").count() == 1

    # Six fields typed in the whole journey, none of them twice (the lookup's last 6 is a key,
    # not a fact about the household: it is part of the ID number only by design).
    assert len(typist.typed) == 6
    facts = [t for t in typist.typed if t != number[-6:]]
    assert len(facts) == len(set(facts)) == 5
    assert bad_responses == []
