"""Finding 6 of issue 14: nothing tells a user whether an ID number, household number or
village exists outside their scope; duplicates are still refused and the county sees the
clash in the data-quality report."""

import io

import pytest
from django.test import Client
from rest_framework.test import APIClient

from households import services
from households.importer import import_registry
from households.models import Household, Member, RegistryClash
from tests import factories as f


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _errors(response):
    return str(response.json())


def test_an_id_number_registered_in_another_village_gets_no_telling_answer(world):
    taken = world.household_b1.members.first().id_number
    response = api(world.village_cadre).post(
        "/api/members/",
        {"household": world.household_a1.pk, "id_number": taken, "name": "王五", "relation": "child"},
        format="json",
    )
    assert response.status_code == 400
    message = response.json()["id_number"][0]
    assert message == services.CLASH_MESSAGES["id_number"]
    for hint in ("已在登记册", "另一农户", world.household_b1.number, world.village_b1.name, "存在"):
        assert hint not in _errors(response)
    assert Member.objects.filter(id_number=taken).count() == 1


def test_a_household_number_used_in_another_village_gets_no_telling_answer(world):
    response = api(world.village_cadre).post(
        "/api/households/", {"number": world.household_b1.number, "village": world.village_a1.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["number"] == [services.CLASH_MESSAGES["number"]]
    assert "已存在" not in _errors(response)


def test_a_duplicate_inside_the_users_scope_still_gets_the_specific_message(world):
    taken = world.household_a1.members.first().id_number
    other = f.make_household(world.village_a1, members=1)
    response = api(world.village_cadre).patch(
        f"/api/members/{other.members.first().pk}/", {"id_number": taken}, format="json"
    )
    assert response.status_code == 400
    assert "已在登记册" in response.json()["id_number"][0]
    assert not RegistryClash.objects.exists()


def test_a_village_outside_scope_answers_as_one_that_does_not_exist(world):
    client = api(world.village_cadre)
    answers = []
    for village in (world.village_b1.pk, world.other_village.pk, 999999):
        response = client.post("/api/households/", {"number": "ORACLE-1", "village": village}, format="json")
        assert response.status_code == 400
        answers.append(response.json()["village"])
    assert answers[0] == answers[1] == answers[2]
    assert not Household.objects.filter(number="ORACLE-1").exists()


def test_the_page_form_gets_the_same_neutral_answer(world):
    from tests.households.test_pages import household_post, member_post

    client = Client()
    client.force_login(world.village_cadre)
    taken = world.household_b1.members.first().id_number
    data = {**household_post(world.village_a1, number="ORACLE-2"), **member_post("head", id_number=taken)}
    response = client.post("/households/new/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "该身份证号不能在此登记" in page and world.household_b1.number not in page
    assert not Household.objects.filter(number="ORACLE-2").exists()


def test_import_refuses_out_of_scope_duplicates_without_naming_them(world):
    taken = world.household_b1.members.first().id_number
    lines = [
        "户编号,村,住址,户类型,姓名,身份证号码,与户主关系",
        f"ORACLE-3,东山村,一组,一般农户,张三,{taken},户主",
        f"{world.household_other.number},东山村,一组,一般农户,李四,{f.valid_id()},户主",
    ]
    report = import_registry(io.BytesIO("\r\n".join(lines).encode()), "x.csv", user=world.village_cadre)
    messages = [issue.message for issue in report.errors]
    assert services.CLASH_MESSAGES["id_number"] in messages
    assert services.CLASH_MESSAGES["number"] in messages
    assert not Household.objects.filter(number="ORACLE-3").exists()
    assert world.household_b1.number not in str(messages)
    assert set(RegistryClash.objects.values_list("field", "channel")) == {("id_number", "import"), ("number", "import")}


def test_the_county_sees_the_clash_in_the_quality_report_and_the_village_does_not(world):
    taken = world.household_b1.members.first().id_number
    api(world.village_cadre).post(
        "/api/members/",
        {"household": world.household_a1.pk, "id_number": taken, "name": "王五", "relation": "child"},
        format="json",
    )
    clash = RegistryClash.objects.get()
    assert clash.existing_household == world.household_b1
    assert clash.attempted_village == world.village_a1 and clash.attempted_by == world.village_cadre
    county = Client()
    county.force_login(world.county_officer)
    page = county.get("/households/quality/").content.decode()
    assert "登记冲突" in page and world.household_b1.number in page and taken not in page
    village = Client()
    village.force_login(world.village_cadre)
    assert "登记冲突" not in village.get("/households/quality/").content.decode()


@pytest.mark.parametrize("url", ["/api/households/{pk}/", "/api/members/?household={pk}"])
def test_reading_out_of_scope_households_is_the_same_as_missing_ones(world, url):
    client = api(world.village_cadre)
    hidden = client.get(url.format(pk=world.household_b1.pk))
    missing = client.get(url.format(pk=999999))
    assert hidden.status_code == missing.status_code
    assert hidden.json() == missing.json()
