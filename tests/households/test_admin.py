"""The admin saves through the same rules as the pages and the API."""

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from households.models import IncomeRecord, Member
from tests import factories as f


@pytest.fixture
def superuser_client(client, world):
    user = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_every_admin_changelist_opens_for_a_superuser(superuser_client):
    failures = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        status = superuser_client.get(url).status_code
        if status != 200:
            failures[url] = status
    assert failures == {}
    assert len(admin.site._registry) >= 7


def test_household_change_page_opens_with_members_and_income(superuser_client, world):
    f.make_income(world.household_a1, year=2025, wage_income=300)
    response = superuser_client.get(reverse("admin:households_household_change", args=[world.household_a1.pk]))
    assert response.status_code == 200


def test_admin_member_save_normalises_id_and_derives_birth_date_and_sex(superuser_client, world):
    number = f.valid_id(datetime.date(1990, 7, 8), "F")
    response = superuser_client.post(
        reverse("admin:households_member_add"),
        {
            "household": world.household_a1.pk,
            "id_number": number[:17] + number[17].lower(),
            "name": "赵六",
            "relation": "spouse",
            "status": "active",
            "health": "healthy",
            "labour_capacity": "normal",
            "work_months": 0,
            "medical_insurance": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member = Member.objects.get(name="赵六")
    assert member.id_number == number.upper()
    assert member.birth_date == datetime.date(1990, 7, 8) and member.sex == "F"


def test_admin_member_with_wrong_check_digit_is_refused(superuser_client, world):
    number = f.valid_id()
    response = superuser_client.post(
        reverse("admin:households_member_add"),
        {
            "household": world.household_a1.pk,
            "id_number": number[:17] + ("1" if number[17] == "0" else "0"),
            "name": "错号",
            "relation": "child",
            "status": "active",
            "health": "healthy",
            "labour_capacity": "normal",
            "work_months": 0,
        },
    )
    assert response.status_code == 200
    assert "身份证号校验位错误" in response.content.decode()
    assert not Member.objects.filter(name="错号").exists()


def income_data(household, **values):
    data = {
        "household": household.pk,
        "year": 2025,
        "month": "",
        "wage_income": "9000",
        "business_income": "3000",
        "business_costs": "0",
        "property_income": "0",
        "transfer_income": "0",
        "policy_transfer_income": "0",
        "medical_expense": "0",
        "education_expense": "0",
        "note": "",
    }
    data.update({k: str(v) for k, v in values.items()})
    return data


def test_admin_income_record_totals_are_computed_by_the_service(superuser_client, world):
    response = superuser_client.post(reverse("admin:households_incomerecord_add"), income_data(world.household_a1))
    assert response.status_code == 302, response.content.decode()[:2000]
    record = IncomeRecord.objects.get()
    assert record.total_net_income == Decimal("12000.00")
    assert record.household_size == 3
    assert record.per_capita_net_income == Decimal("4000.00")
    # Changing a part recomputes the totals.
    superuser_client.post(
        reverse("admin:households_incomerecord_change", args=[record.pk]),
        income_data(world.household_a1, wage_income=0),
    )
    record.refresh_from_db()
    assert record.total_net_income == Decimal("3000.00") and record.per_capita_net_income == Decimal("1000.00")


def test_admin_income_for_household_without_members_is_refused_on_the_form(superuser_client, world):
    empty = f.HouseholdFactory(village=world.village_a1)
    response = superuser_client.post(reverse("admin:households_incomerecord_add"), income_data(empty))
    assert response.status_code == 200
    assert "该户没有在户成员" in response.content.decode()
    assert not IncomeRecord.objects.exists()
