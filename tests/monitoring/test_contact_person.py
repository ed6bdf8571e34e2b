"""Who may be a case's 帮扶联系人: assigning someone opens the case and its household to them,
so nobody working for another county may be chosen, through the page, the API or the service."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from households.models import Role
from monitoring import services
from monitoring.models import MonitoringCase
from tests import factories as f


def report(world, contact, household=None):
    return services.case_create(
        user=world.village_cadre,
        household=household or world.household_a1,
        channel="cadre_visit",
        discovered_on=datetime.date.today(),
        reason="突发大病",
        contact_person=contact,
    )


def test_people_of_the_village_town_county_and_unbound_helpers_may_be_contacts(world):
    helper = f.UserFactory(username="helper")  # a paired cadre from a bureau, no area role
    for contact in (world.village_cadre, world.town_official, world.county_officer, world.department_staff, helper):
        case = report(world, contact, household=f.make_household(world.village_a1))
        assert case.contact_person == contact


def test_an_officer_of_another_county_cannot_be_made_contact_person(world):
    outsider = f.user_with_role("outsider", Role.COUNTY_OFFICER, area=world.other_county)
    with pytest.raises(ValidationError) as exc:
        report(world, outsider)
    assert "帮扶联系人" in exc.value.message_dict["contact_person"][0]
    assert not MonitoringCase.objects.exists()


def test_the_api_refuses_another_countys_user_exactly_like_a_missing_one(world):
    outsider = f.user_with_role("outsider", Role.VILLAGE_CADRE, area=world.other_village)
    client = APIClient()
    client.force_authenticate(world.village_cadre)
    body = {
        "household": world.household_a1.pk,
        "channel": "cadre_visit",
        "discovered_on": datetime.date.today().isoformat(),
        "reason": "突发大病",
    }
    foreign = client.post("/api/cases/", {**body, "contact_person": outsider.pk}, format="json")
    missing = client.post("/api/cases/", {**body, "contact_person": 987654}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["contact_person"] == missing.json()["contact_person"]
    assert not MonitoringCase.objects.exists()


def test_the_report_page_offers_only_local_people(world, client):
    outsider = f.user_with_role("outsider", Role.COUNTY_OFFICER, area=world.other_county)
    client.force_login(world.village_cadre)
    page = client.get(f"/cases/new/?household={world.household_a1.pk}").content.decode()
    assert f'value="{world.town_official.pk}"' in page
    assert f'value="{outsider.pk}"' not in page
