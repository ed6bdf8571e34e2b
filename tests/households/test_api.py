import datetime
import re
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from households import idnumber
from households.models import Household, IncomeRecord, Member, PersonalDataView
from tests import factories as f


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def numbers(response):
    return {item["number"] for item in results(response)}


# --- authentication -----------------------------------------------------------------------


def test_token_login_returns_a_token_that_authenticates(world):
    client = APIClient()
    response = client.post("/api/auth/token/", {"username": "village", "password": f.PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert numbers(client.get("/api/households/")) == {world.household_a1.number}


def test_token_login_with_wrong_password_is_refused(world):
    response = APIClient().post("/api/auth/token/", {"username": "village", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_session_login_works_for_the_api(world, client):
    assert client.login(username="village", password=f.PASSWORD)
    assert numbers(client.get("/api/households/")) == {world.household_a1.number}


def test_anonymous_requests_are_refused(world):
    client = APIClient()
    assert client.get("/api/households/").status_code == 401
    assert client.get(f"/api/households/{world.household_a1.pk}/").status_code == 401
    assert client.get("/api/members/").status_code == 401
    assert client.post("/api/income-records/", {}, format="json").status_code == 401


def test_invalid_token_is_refused(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/households/").status_code == 401


# --- scoping ------------------------------------------------------------------------------


def test_village_cadre_lists_only_own_village(world):
    assert numbers(client_for(world.village_cadre).get("/api/households/")) == {world.household_a1.number}


@pytest.mark.parametrize("other", ["household_b1", "household_a2", "household_other"])
def test_village_cadre_gets_404_for_another_villages_household(world, other):
    client = client_for(world.village_cadre)
    pk = getattr(world, other).pk
    assert client.get(f"/api/households/{pk}/").status_code == 404
    assert client.patch(f"/api/households/{pk}/", {"address": "改"}, format="json").status_code == 404
    assert (
        client.put(f"/api/households/{pk}/", {"number": "X", "village": world.village_a1.pk}, format="json").status_code
        == 404
    )
    assert Household.objects.get(pk=pk).address != "改"


def test_town_official_sees_its_town(world):
    assert numbers(client_for(world.town_official).get("/api/households/")) == {
        world.household_a1.number,
        world.household_a2.number,
    }
    assert client_for(world.town_official).get(f"/api/households/{world.household_b1.pk}/").status_code == 404


def test_county_officer_sees_its_county_only(world):
    assert numbers(client_for(world.county_officer).get("/api/households/")) == {
        world.household_a1.number,
        world.household_a2.number,
        world.household_b1.number,
    }
    assert client_for(world.county_officer).get(f"/api/households/{world.household_other.pk}/").status_code == 404


def test_administrator_sees_every_household(world):
    assert numbers(client_for(world.admin).get("/api/households/")) == set(
        Household.objects.values_list("number", flat=True)
    )


@pytest.mark.parametrize("who", ["department_staff", "nobody"])
def test_users_without_an_area_role_see_an_empty_registry(world, who):
    client = client_for(getattr(world, who))
    assert results(client.get("/api/households/")) == []
    assert results(client.get("/api/members/")) == []
    assert client.get(f"/api/households/{world.household_a1.pk}/").status_code == 404


def test_members_and_income_records_are_scoped(world):
    f.make_income(world.household_a1, 2025, wage_income=9000)
    f.make_income(world.household_b1, 2025, wage_income=5000)
    client = client_for(world.village_cadre)
    assert {m["household"] for m in results(client.get("/api/members/"))} == {world.household_a1.pk}
    assert {r["household"] for r in results(client.get("/api/income-records/"))} == {world.household_a1.pk}
    other_member = world.household_b1.members.first()
    assert client.get(f"/api/members/{other_member.pk}/").status_code == 404
    assert client.patch(f"/api/members/{other_member.pk}/", {"name": "改"}, format="json").status_code == 404
    other_income = world.household_b1.incomes.get()
    assert client.get(f"/api/income-records/{other_income.pk}/").status_code == 404
    # Filtering by an out-of-scope household gives an empty list, not an error that would
    # reveal that the household exists.
    assert results(client.get(f"/api/members/?household={world.household_b1.pk}")) == []


def test_create_for_out_of_scope_household_looks_like_a_missing_one(world):
    client = client_for(world.village_cadre)
    payload = {"name": "王五", "id_number": f.valid_id(), "relation": "child"}
    hidden = client.post("/api/members/", {**payload, "household": world.household_b1.pk}, format="json")
    missing = client.post("/api/members/", {**payload, "household": 999999}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["household"] == [f"农户 {world.household_b1.pk} 不存在。"]
    assert missing.json()["household"] == ["农户 999999 不存在。"]
    income = client.post("/api/income-records/", {"household": world.household_b1.pk, "year": 2025}, format="json")
    assert income.status_code == 400 and "household" in income.json()
    assert not world.household_b1.members.filter(name="王五").exists()


def test_town_official_may_read_but_not_update(world):
    client = client_for(world.town_official)
    assert client.get(f"/api/households/{world.household_a1.pk}/").status_code == 200
    response = client.patch(f"/api/households/{world.household_a1.pk}/", {"address": "改"}, format="json")
    assert response.status_code == 403
    assert "不能修改" in response.json()["detail"]
    member = world.household_a1.members.first()
    assert client.patch(f"/api/members/{member.pk}/", {"name": "改"}, format="json").status_code == 403
    assert Household.objects.get(pk=world.household_a1.pk).address != "改"


def test_households_cannot_be_deleted(world):
    client = client_for(world.admin)
    assert client.delete(f"/api/households/{world.household_a1.pk}/").status_code == 405
    member = world.household_a1.members.first()
    assert client.delete(f"/api/members/{member.pk}/").status_code == 405
    assert Household.objects.filter(pk=world.household_a1.pk).exists()


# --- list contents, filters, pagination ---------------------------------------------------


def test_list_masks_ids_and_phones_and_shows_computed_fields(world):
    f.make_income(world.household_a1, 2024, wage_income=3000)
    f.make_income(world.household_a1, 2025, wage_income=9000, transfer_income=1000)
    world.household_a1.housing_secure = False
    world.household_a1.save()
    response = client_for(world.village_cadre).get("/api/households/")
    [item] = results(response)
    head = world.household_a1.head
    assert item["head_name"] == head.name
    assert item["head_masked_id"] == idnumber.mask(head.id_number)
    assert item["masked_phone"] == "138****8000"
    assert item["size"] == 3
    assert item["latest_income_year"] == 2025
    assert Decimal(item["latest_per_capita_income"]) == Decimal("3333.33")
    assert item["village"] == world.village_a1.pk and item["village_name"] == "东山村"
    assert item["town"] == world.town_a.pk and item["town_name"] == "东山镇"
    assert item["housing_secure"] is False and item["all_secure"] is False
    body = response.content.decode()
    for member in world.household_a1.members.all():
        assert member.id_number not in body
    assert "13800138000" not in body
    assert not PersonalDataView.objects.exists()


def test_list_shows_special_group_labels(world):
    Member.objects.filter(household=world.household_a1).update(disability_category="physical", disability_level=1)
    [item] = results(client_for(world.village_cadre).get("/api/households/"))
    assert "重度残疾" in item["special_groups"] and "一户多残" in item["special_groups"]


def test_list_rows_are_what_drf_field_by_field_writes(world):
    """HouseholdListSerializer.to_representation reads its fields directly: the same keys,
    order and values as DRF's walk over the declared fields."""
    from rest_framework import serializers

    from households import selectors
    from households.serializers import HouseholdListSerializer

    f.make_income(world.household_a1, 2025, wage_income=9000, transfer_income=1001)
    Member.objects.filter(household=world.household_a2).update(disability_category="physical", disability_level=1)
    Household.objects.filter(pk=world.household_b1.pk).update(
        relocated=True,
        phone="",
        water_secure=False,
        water_note="井水 <浑>",
        household_type=Household.Type.FORMERLY_POOR,
    )
    empty = Household.objects.create(number="EMPTY-1", village=world.village_a1)
    rows = selectors.annotated_households().order_by("pk")
    assert len(rows) == 5 and any(row.pk == empty.pk and row.head_name is None for row in rows)
    for row in rows:
        serializer = HouseholdListSerializer(row)
        walked = serializers.ModelSerializer.to_representation(serializer, row)
        fast = serializer.to_representation(row)
        assert repr(fast) == repr(dict(walked))  # keys, order, values and their types


def test_list_filters_and_search_match_the_page(world):
    client = client_for(world.county_officer)
    assert numbers(client.get(f"/api/households/?town={world.town_b.pk}")) == {world.household_b1.number}
    assert numbers(client.get(f"/api/households/?village={world.village_a2.pk}")) == {world.household_a2.number}
    head = world.household_b1.head
    assert numbers(client.get("/api/households/", {"q": head.name})) == {world.household_b1.number}
    assert numbers(client.get("/api/households/", {"q": head.id_number[-6:]})) == {world.household_b1.number}
    Household.objects.filter(pk=world.household_a2.pk).update(household_type=Household.Type.FORMERLY_POOR)
    assert numbers(client.get("/api/households/?household_type=formerly_poor")) == {world.household_a2.number}
    # A village outside the scope is not a valid choice: the filter cannot widen the scope.
    assert client.get(f"/api/households/?village={world.other_village.pk}").status_code == 400


def test_list_is_paginated(world):
    for _ in range(3):
        f.make_household(world.village_a1)
    client = client_for(world.village_cadre)
    first = client.get("/api/households/?page_size=2").json()
    assert first["count"] == 4 and len(first["results"]) == 2 and first["next"]
    second = client.get("/api/households/?page_size=2&page=2").json()
    assert len(second["results"]) == 2
    assert not {h["id"] for h in first["results"]} & {h["id"] for h in second["results"]}


@pytest.mark.parametrize("count", [5, 40])
def test_list_query_count_does_not_grow_with_page_size(world, count, django_assert_max_num_queries):
    for _ in range(count):
        household = f.make_household(world.village_a1, members=3)
        f.make_income(household, 2025, wage_income=12000)
    client = APIClient()
    token = client.post("/api/auth/token/", {"username": "village", "password": f.PASSWORD}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    # token, roles, the count, the page's ids, its rows (households.paging: read in two steps)
    with django_assert_max_num_queries(5):
        assert len(results(client.get("/api/households/?page_size=100"))) == count + 1
    with django_assert_max_num_queries(4):
        assert len(results(client.get("/api/members/?page_size=500"))) == 3 * count + 3
    with django_assert_max_num_queries(4):
        assert len(results(client.get("/api/income-records/?page_size=100"))) == count


# --- detail -------------------------------------------------------------------------------


def test_detail_shows_full_ids_and_logs_the_view(world):
    f.make_income(world.household_a1, 2025, wage_income=9000)
    response = client_for(world.village_cadre).get(f"/api/households/{world.household_a1.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert {m["id_number"] for m in data["members"]} == set(
        world.household_a1.members.values_list("id_number", flat=True)
    )
    assert data["members"][0]["relation"] == "head"
    assert data["phone"] == "13800138000"
    assert [i["year"] for i in data["incomes"]] == [2025]
    log = PersonalDataView.objects.get()
    assert (log.user, log.household, log.channel) == (world.village_cadre, world.household_a1, "api")


def test_member_detail_shows_full_id_and_logs_the_view(world):
    member = world.household_a1.head
    data = client_for(world.village_cadre).get(f"/api/members/{member.pk}/").json()
    assert data["id_number"] == member.id_number
    assert PersonalDataView.objects.filter(household=world.household_a1, channel="api").count() == 1


def test_member_list_masks_ids(world):
    response = client_for(world.village_cadre).get(f"/api/members/?household={world.household_a1.pk}")
    items = results(response)
    assert len(items) == 3 and all("id_number" not in m for m in items)
    assert world.household_a1.head.id_number not in response.content.decode()


# --- writes -------------------------------------------------------------------------------


def household_payload(world, **extra):
    return {
        "number": "API-0001",
        "village": world.village_a1.pk,
        "address": "三组 2 号",
        "phone": "13912345678",
        "household_type": "formerly_poor",
        "housing_secure": False,
        "housing_note": "C 级危房",
        **extra,
    }


def test_create_household_with_members(world):
    head_id = idnumber.make("440981", datetime.date(1970, 2, 3), 123)
    child_id = idnumber.make("440981", datetime.date(2015, 6, 1), 124)
    response = client_for(world.village_cadre).post(
        "/api/households/",
        household_payload(
            world,
            members=[
                {"name": "赵一", "id_number": head_id, "relation": "head"},
                {
                    "name": "赵二",
                    "id_number": child_id,
                    "relation": "child",
                    "work_place": "in_county",
                    "work_months": 6,
                },
            ],
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    household = Household.objects.get(number="API-0001")
    assert data["id"] == household.pk and data["size"] == 2 and data["head_name"] == "赵一"
    assert data["housing_secure"] is False and data["housing_note"] == "C 级危房"
    head = household.members.get(relation="head")
    assert (head.birth_date, head.sex) == (datetime.date(1970, 2, 3), "M")
    # A child under 16 registered as working is flagged at once.
    assert "child_wage" in {finding["code"] for finding in data["quality_findings"]}


def test_create_with_invalid_member_id_saves_nothing_and_says_why(world):
    good = f.valid_id()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = client_for(world.village_cadre).post(
        "/api/households/",
        household_payload(
            world,
            members=[
                {"name": "赵一", "id_number": good, "relation": "head"},
                {"name": "赵二", "id_number": bad, "relation": "spouse"},
            ],
        ),
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["members"]
    assert errors[0] == {}
    assert errors[1]["id_number"] == ["身份证号校验位错误，请核对号码。"]
    assert not Household.objects.filter(number="API-0001").exists()
    assert not Member.objects.filter(id_number=good).exists()


def test_create_member_with_id_already_registered_is_refused(world):
    existing = world.household_b1.head.id_number
    response = client_for(world.village_cadre).post(
        "/api/members/",
        {
            "household": world.household_a1.pk,
            "name": "重复",
            "id_number": existing.lower(),
            "relation": "child",
        },
        format="json",
    )
    assert response.status_code == 400
    # Held in another village: refused without saying so (issue 14 finding 6).
    assert response.json()["id_number"] == [
        "该身份证号不能在此登记。请核对号码；如号码无误，请联系县乡村振兴局核实处理。"
    ]
    assert world.household_a1.members.count() == 3


def test_create_member_normalises_lowercase_x(world):
    number = next(
        n for n in (idnumber.make("440981", datetime.date(1990, 1, 1), s) for s in range(1, 999)) if n.endswith("X")
    )
    response = client_for(world.village_cadre).post(
        "/api/members/",
        {
            "household": world.household_a1.pk,
            "name": "小明",
            "id_number": number.lower(),
            "relation": "child",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["id_number"] == number
    assert response.json()["birth_date"] == "1990-01-01"
    assert "quality_findings" in response.json()


def test_duplicate_household_number_is_refused(world):
    response = client_for(world.village_cadre).post(
        "/api/households/", household_payload(world, number=world.household_a1.number), format="json"
    )
    assert response.status_code == 400
    assert "number" in response.json()


def test_village_cadre_cannot_register_in_another_village(world):
    response = client_for(world.village_cadre).post(
        "/api/households/", household_payload(world, village=world.village_b1.pk), format="json"
    )
    assert response.status_code == 400
    assert response.json()["village"] == ["该村不存在，或您无权在该村登记或修改农户。"]


def test_update_household_returns_findings(world):
    client = client_for(world.village_cadre)
    response = client.patch(
        f"/api/households/{world.household_a1.pk}/", {"address": "新址 1 号", "water_secure": False}, format="json"
    )
    assert response.status_code == 200, response.content
    world.household_a1.refresh_from_db()
    assert world.household_a1.address == "新址 1 号" and world.household_a1.water_secure is False
    assert response.json()["quality_findings"] == []


def test_member_leaves_by_status_and_stops_counting(world):
    client = client_for(world.village_cadre)
    child = world.household_a1.members.filter(relation="child").first()
    response = client.patch(f"/api/members/{child.pk}/", {"status": "deceased"}, format="json")
    assert response.status_code == 200, response.content
    [item] = results(client.get("/api/households/"))
    assert item["size"] == 2


def test_income_record_computes_totals_and_per_capita(world):
    response = client_for(world.village_cadre).post(
        "/api/income-records/",
        {
            "household": world.household_a1.pk,
            "year": 2025,
            "wage_income": "10000",
            "business_income": "3000",
            "business_costs": "1000",
            "transfer_income": "500",
            "policy_transfer_income": "300",
            "declared_total": "12500",
            "per_capita_net_income": "99999",
            "total_net_income": "1",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert Decimal(data["total_net_income"]) == Decimal("12500")
    assert data["household_size"] == 3
    assert Decimal(data["per_capita_net_income"]) == Decimal("4166.67")
    assert IncomeRecord.objects.get(pk=data["id"]).per_capita_net_income == Decimal("4166.67")


def test_income_total_that_does_not_match_its_parts_is_refused(world):
    response = client_for(world.village_cadre).post(
        "/api/income-records/",
        {
            "household": world.household_a1.pk,
            "year": 2025,
            "wage_income": "10000",
            "declared_total": "12000",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "不一致" in response.json()["total_net_income"][0]
    assert not IncomeRecord.objects.exists()


def test_income_update_recomputes_and_filters_by_year(world):
    record = f.make_income(world.household_a1, 2024, wage_income=3000)
    f.make_income(world.household_a1, 2025, wage_income=6000)
    client = client_for(world.village_cadre)
    response = client.patch(f"/api/income-records/{record.pk}/", {"wage_income": "6000"}, format="json")
    assert response.status_code == 200, response.content
    assert Decimal(response.json()["per_capita_net_income"]) == Decimal("2000.00")
    items = results(client.get(f"/api/income-records/?household={world.household_a1.pk}&year=2024"))
    assert [i["id"] for i in items] == [record.pk]
    second = client.post("/api/income-records/", {"household": world.household_a1.pk, "year": 2025}, format="json")
    assert second.status_code == 400 and "已存在" in second.json()["year"][0]


# --- schema and docs ----------------------------------------------------------------------


def test_schema_lists_the_registry_endpoints(world):
    response = client_for(world.village_cadre).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/auth/token/",
        "/api/households/",
        "/api/households/{id}/",
        "/api/members/",
        "/api/members/{id}/",
        "/api/income-records/",
        "/api/income-records/{id}/",
    ]:
        assert path in paths
    assert "delete" not in paths["/api/households/{id}/"]


def test_docs_page_loads_its_assets_from_this_server(world, client):
    client.force_login(world.village_cadre)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.startswith("/static/") and "swagger-ui" in a for a in assets)
    assert not re.search(r"https?://", html)


def test_member_id_number_typed_with_spaces_is_folded_before_the_length_check(world):
    number = f.valid_id(datetime.date(1990, 5, 6), sex="F")
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    response = client_for(world.village_cadre).post(
        "/api/members/",
        {"household": world.household_a1.pk, "id_number": spaced, "name": "李四", "relation": "child"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Member.objects.get(pk=response.json()["id"]).id_number == number


def test_negative_income_part_is_a_field_error_not_a_server_error(world):
    record = f.make_income(world.household_a1)
    response = client_for(world.village_cadre).patch(
        f"/api/income-records/{record.pk}/", {"business_costs": "-1"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"business_costs": ["生产经营性支出不能为负数。"]}
    record.refresh_from_db()
    assert record.business_costs >= 0
