"""Finding 4 of issue 14: one rule for every field a person types (page, API, import), and a
phone format check."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from households import text
from households.importer import import_registry
from households.models import Household, Member
from tests import factories as f
from tests.households.test_pages import household_post, member_post

BAD = {
    "BEL": "\x07",
    "ESC": "\x1b",
    "RLO": "\u202e",
    "zero-width space": "\u200b",
    "BOM": "\ufeff",
    "C1": "\x85",
}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("char", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("field", ["number", "address", "phone"])
def test_api_refuses_invisible_and_control_characters_in_household_fields(world, field, char):
    body = {"number": "H-T-1", "village": world.village_a1.pk, "address": "一组", "phone": "13912345678"}
    body[field] = body[field][:1] + char + body[field][1:]
    before = Household.objects.count()
    response = api(world.village_cadre).post("/api/households/", body, format="json")
    assert response.status_code == 400
    assert "U+" in str(response.json()[field])
    assert Household.objects.count() == before


@pytest.mark.parametrize("char", BAD.values(), ids=BAD.keys())
def test_page_refuses_the_same_characters_in_a_member_name(world, char):
    client = Client()
    client.force_login(world.village_cadre)
    data = {**household_post(world.village_a1, number="H-T-2"), **member_post("head", name="王" + char + "五")}
    response = client.post(reverse("households:create"), data)
    assert response.status_code == 400
    assert "U+" in response.content.decode()
    assert not Household.objects.filter(number="H-T-2").exists()


@pytest.mark.parametrize("value", ["一组\n3号", "一组\t3号", "一组\r3号"])
def test_single_line_fields_refuse_newlines_and_tabs_with_the_field_named(world, value):
    client = Client()
    client.force_login(world.village_cadre)
    data = {**household_post(world.village_a1, number="H-T-3", address=value), **member_post("head", name="王五")}
    response = client.post(reverse("households:create"), data)
    assert response.status_code == 200
    assert "住址含有" in response.content.decode()
    assert not Household.objects.filter(number="H-T-3").exists()
    response = api(world.village_cadre).post(
        "/api/households/", {"number": "H-T-3", "village": world.village_a1.pk, "address": value}, format="json"
    )
    assert response.status_code == 400
    assert "只能填写一行" in response.json()["address"][0]


def test_multi_line_text_keeps_its_line_breaks(world):
    response = api(world.village_cadre).post(
        "/api/cases/",
        {
            "household": world.household_a1.pk,
            "channel": "cadre_visit",
            "discovered_on": "2026-01-01",
            "reason": "户主突发大病\n住院两个月",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_import_refuses_a_row_with_a_control_character_and_says_why(world):
    head = f.valid_id()
    lines = [
        "户编号,村,住址,户类型,姓名,身份证号码,与户主关系",
        f"H-IMP-1,东山村,一组,一般农户,张\x07三,{head},户主",
    ]
    report = import_registry(io.BytesIO("\r\n".join(lines).encode()), "x.csv", user=world.village_cadre)
    assert not Household.objects.filter(number="H-IMP-1").exists()
    assert any("控制字符" in issue.message for issue in report.errors), [i.message for i in report.errors]


@pytest.mark.parametrize(
    "value, stored",
    [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("+86 139-1234-5678", "13912345678"),
        ("１３９１２３４５６７８", "13912345678"),
        ("0371-12345678", "0371-12345678"),
        ("037112345678", "0371-12345678"),
        ("010-1234567", "010-1234567"),
        ("6123456", "6123456"),
    ],
)
def test_phone_accepts_mobiles_and_landlines_in_one_stored_form(world, value, stored):
    response = api(world.village_cadre).patch(
        f"/api/households/{world.household_a1.pk}/", {"phone": value}, format="json"
    )
    assert response.status_code == 200, response.json()
    world.household_a1.refresh_from_db()
    assert world.household_a1.phone == stored


@pytest.mark.parametrize("value", ["12345", "1391234567", "139123456789", "abc", "23912345678", "110"])
def test_phone_refuses_what_is_neither_a_mobile_nor_a_landline(world, value):
    member = world.household_a1.members.first()
    response = api(world.village_cadre).patch(f"/api/members/{member.pk}/", {"phone": value}, format="json")
    assert response.status_code == 400
    assert "电话号码格式不正确" in response.json()["phone"][0]
    assert Member.objects.get(pk=member.pk).phone != value


def test_the_rule_itself_names_the_character():
    with pytest.raises(ValidationError) as exc:
        text.validate_text("a\u202eb")
    assert "U+202E" in exc.value.messages[0]
    text.validate_text("第一行\n第二行", multiline=True)
    with pytest.raises(ValidationError):
        text.validate_text("第一行\n第二行")
