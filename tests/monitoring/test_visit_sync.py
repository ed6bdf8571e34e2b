"""Offline visits synced by the phone's script (static/js/offline.js, DOMAIN.md §8).

The script posts a visit kept on the phone to /api/visits/ as multipart form data, with the
logged-in session and the CSRF token it reads from the csrftoken cookie in the X-CSRFToken
header, exactly as here. A visit synced twice (a lost answer, two open tabs) is stored once.
"""

import uuid

import pytest
from django.conf import settings
from django.test import Client

from monitoring.models import Visit

pytestmark = pytest.mark.django_db


def _phone(user):
    """A browser session as the script sees it: logged in, CSRF checks on, cookie from a page."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/inbox/")
    assert page.status_code == 200
    return client, page.cookies[settings.CSRF_COOKIE_NAME]


def _offline_form(household, client_uuid, **extra):
    # What offline.js sends: every 两不愁三保障 item explicitly, as the cadre saw it on the form.
    return {
        "household": str(household.pk),
        "visited_on": "2026-03-02",
        "visitors": "张三",
        "food_secure": "true",
        "clothing_secure": "true",
        "education_secure": "true",
        "medical_secure": "true",
        "housing_secure": "false",
        "water_secure": "true",
        "findings": "房屋漏雨",
        "new_risks": ["housing"],
        "open_case": "false",
        "client_uuid": client_uuid,
        **extra,
    }


def test_the_csrf_cookie_is_readable_by_the_page_script(world):
    _, cookie = _phone(world.village_cadre)
    assert not settings.CSRF_COOKIE_HTTPONLY and not cookie["httponly"]
    assert cookie.value


def test_offline_visit_synced_twice_through_the_session_is_stored_once(world):
    client, cookie = _phone(world.village_cadre)
    body = _offline_form(world.household_a1, str(uuid.uuid4()))

    first = client.post("/api/visits/", body, HTTP_X_CSRFTOKEN=cookie.value)
    second = client.post("/api/visits/", body, HTTP_X_CSRFTOKEN=cookie.value)

    assert first.status_code == 201, first.content
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert Visit.objects.filter(household=world.household_a1).count() == 1
    world.household_a1.refresh_from_db()
    assert world.household_a1.housing_secure is False and world.household_a1.food_secure is True
    assert first.json()["problems"] == ["住房安全"] and first.json()["visited_on"] == "2026-03-02"


def test_offline_sync_without_the_csrf_header_is_refused_and_stores_nothing(world):
    client, _ = _phone(world.village_cadre)
    response = client.post("/api/visits/", _offline_form(world.household_a1, str(uuid.uuid4())))
    assert response.status_code == 403
    assert not Visit.objects.exists()


def test_offline_visit_with_a_bad_field_answers_400_in_chinese_and_stores_nothing(world):
    client, cookie = _phone(world.village_cadre)
    body = _offline_form(world.household_a1, str(uuid.uuid4()), visited_on="2999-01-01")
    response = client.post("/api/visits/", body, HTTP_X_CSRFTOKEN=cookie.value)
    assert response.status_code == 400
    assert response.json()["visited_on"] == ["走访日期不能晚于今天。"]
    assert not Visit.objects.exists()


def test_offline_visit_for_a_household_of_another_village_is_404(world):
    client, cookie = _phone(world.village_cadre)
    body = _offline_form(world.household_b1, str(uuid.uuid4()))
    response = client.post("/api/visits/", body, HTTP_X_CSRFTOKEN=cookie.value)
    assert response.status_code == 404 and response.json()["detail"]
    assert not Visit.objects.exists()
