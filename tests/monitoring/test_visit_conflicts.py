"""A visit synced after the household changed on the server (issue 12 point 6): the conflict is
shown to the cadre, never silently overwritten, and a retried sync still stores nothing twice.

The visit form carries `household_version` (monitoring.selectors.household_version_of: the
household's last change and its 两不愁三保障 items when the form was loaded). An item someone
else changed meanwhile that the visit would set otherwise is a conflict: 409 with the items,
nothing stored; sent again with the returned version, the visit is the cadre's decision.
"""

import re
import uuid

import pytest
from django.conf import settings
from django.test import Client

from monitoring.models import Visit

pytestmark = pytest.mark.django_db


def _phone(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/inbox/")
    return client, page.cookies[settings.CSRF_COOKIE_NAME].value


def _loaded_version(client, household):
    page = client.get(f"/visits/{household.pk}/new/").content.decode()
    return re.search(r'name="household_version" value="([^"]+)"', page).group(1)


def _visit(household, version, client_uuid, **items):
    body = {
        "household": str(household.pk),
        "visitors": "张三",
        "findings": "走访正常",
        "client_uuid": str(client_uuid),
        "household_version": version,
    }
    for key in ("food", "clothing", "education", "medical", "housing", "water"):
        body[f"{key}_secure"] = "true" if items.get(key, True) else "false"
    return body


def _sync(client, token, body):
    return client.post("/api/visits/", body, HTTP_X_CSRFTOKEN=token, HTTP_ACCEPT="application/json")


def test_an_item_changed_by_someone_else_is_a_conflict_and_nothing_is_stored(world):
    household = world.household_a1
    client, token = _phone(world.village_cadre)
    version = _loaded_version(client, household)
    # Meanwhile the town official records the house as unsafe.
    household.housing_secure = False
    household.save()

    first = uuid.uuid4()
    answer = _sync(client, token, _visit(household, version, first))
    assert answer.status_code == 409
    body = answer.json()
    assert body["conflicts"] == [{"field": "housing_secure", "label": "住房安全有保障", "server": False, "yours": True}]
    assert "住房安全有保障：现在为“有问题”，本次走访为“有保障”" in body["detail"]
    assert not Visit.objects.exists()
    household.refresh_from_db()
    assert household.housing_secure is False

    # The cadre keeps the server's state: sent again with it and the new version.
    again = _visit(household, body["household_version"], first, housing=False)
    assert _sync(client, token, again).status_code == 201
    household.refresh_from_db()
    assert household.housing_secure is False and Visit.objects.count() == 1
    # And a retried sync of that visit, whatever version it carries, stores nothing twice.
    assert _sync(client, token, _visit(household, version, first)).status_code == 200
    assert Visit.objects.count() == 1


def test_the_cadre_may_decide_for_the_visit(world):
    household = world.household_a1
    client, token = _phone(world.village_cadre)
    version = _loaded_version(client, household)
    household.water_secure = False
    household.save()
    answer = _sync(client, token, _visit(household, version, uuid.uuid4()))
    assert answer.status_code == 409
    mine = _visit(household, answer.json()["household_version"], uuid.uuid4())
    assert _sync(client, token, mine).status_code == 201
    household.refresh_from_db()
    assert household.water_secure is True


def test_changes_that_do_not_collide_are_no_conflict(world):
    household = world.household_a1
    client, token = _phone(world.village_cadre)
    version = _loaded_version(client, household)
    # Someone edits the phone and, like this visit, marks the house unsafe.
    household.phone = "13900139000"
    household.housing_secure = False
    household.save()
    # The cadre found a problem with food: an item nobody else touched.
    answer = _sync(client, token, _visit(household, version, uuid.uuid4(), food=False, housing=False))
    assert answer.status_code == 201
    household.refresh_from_db()
    assert household.food_secure is False and household.housing_secure is False and household.phone == "13900139000"


def test_a_visit_without_a_version_is_taken_as_before_and_a_bad_version_is_refused(world):
    household = world.household_a1
    client, token = _phone(world.village_cadre)
    body = _visit(household, "", uuid.uuid4())
    del body["household_version"]
    assert _sync(client, token, body).status_code == 201
    bad = _sync(client, token, _visit(household, "12345-xyz", uuid.uuid4()))
    assert bad.status_code == 400 and "household_version" in bad.json()


def test_the_page_shows_the_conflict_and_the_next_save_is_the_cadres_decision(world):
    household = world.household_a1
    client = Client()
    client.force_login(world.village_cadre)
    version = _loaded_version(client, household)
    household.housing_secure = False
    household.save()
    form = _visit(household, version, uuid.uuid4())
    form.update({"visited_on": "2026-01-05", "food_secure": "on", "clothing_secure": "on", "education_secure": "on"})
    form.update({"medical_secure": "on", "housing_secure": "on", "water_secure": "on"})
    page = client.post(f"/visits/{household.pk}/new/", form)
    assert page.status_code == 200
    text = page.content.decode()
    assert "该户的情况已被他人修改" in text and "住房安全有保障：现在为“有问题”" in text
    assert not Visit.objects.exists()
    newer = re.search(r'name="household_version" value="([^"]+)"', text).group(1)
    assert newer != version
    assert "东屋" not in text and 'name="findings"' in text  # the typing is kept on screen
    form["household_version"] = newer
    saved = client.post(f"/visits/{household.pk}/new/", form)
    assert saved.status_code == 302 and Visit.objects.count() == 1
    household.refresh_from_db()
    assert household.housing_secure is True
