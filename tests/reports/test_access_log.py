"""The access log page (issue 11 point 4): every view of full ID numbers or phones (detail page,
API, edit forms) and every export, for county officers, filterable; nothing editable."""

import datetime

from django.utils import timezone

from households.models import PersonalDataView, Role
from tests import factories as f


def _entries(client, query=""):
    response = client.get(f"/access-log/{query}")
    assert response.status_code == 200
    return list(response.context["page"].object_list)


def test_detail_views_api_views_and_exports_are_listed(world, client):
    client.force_login(world.village_cadre)
    assert client.get(f"/households/{world.household_a1.pk}/").status_code == 200
    client.force_login(world.town_official)
    assert client.get(f"/api/households/{world.household_a1.pk}/").status_code == 200
    client.get("/cases/ledger.xlsx")
    client.force_login(world.county_officer)
    entries = _entries(client)
    assert [(e.user.username, e.action, e.channel) for e in entries] == [
        ("town", "export", "page"),
        ("town", "view", "api"),
        ("village", "view", "page"),
    ]
    html = client.get("/access-log/").content.decode()
    assert world.household_a1.number in html and "监测对象台账" in html and "查看完整证件号/电话" in html


def test_filters_by_user_household_action_and_date(world, client):
    old = PersonalDataView.objects.create(user=world.village_cadre, household=world.household_a2, channel="page")
    PersonalDataView.objects.filter(pk=old.pk).update(viewed_at=timezone.now() - datetime.timedelta(days=40))
    PersonalDataView.objects.create(user=world.village_cadre, household=world.household_a1, channel="page")
    PersonalDataView.objects.create(user=world.town_official, household=world.household_b1, channel="api")
    client.force_login(world.county_officer)
    assert {e.household for e in _entries(client, "?user=village")} == {world.household_a1, world.household_a2}
    assert [e.household for e in _entries(client, f"?household={world.household_b1.number}")] == [world.household_b1]
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    assert len(_entries(client, f"?date_from={since}")) == 2
    until = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    assert [e.pk for e in _entries(client, f"?date_to={until}")] == [old.pk]
    assert _entries(client, "?action=export") == []
    assert _entries(client, "?date_from=not-a-date") == []


def test_a_county_sees_its_own_county_only(world, client):
    other = f.user_with_role("other_county", Role.COUNTY_OFFICER, area=world.other_county)
    PersonalDataView.objects.create(user=world.village_cadre, household=world.household_a1, channel="page")
    PersonalDataView.objects.create(user=other, household=world.household_other, channel="page")
    client.force_login(other)
    client.get("/cases/ledger.xlsx")  # an export in the other county
    client.force_login(world.county_officer)
    assert [e.household for e in _entries(client)] == [world.household_a1]
    client.force_login(other)
    assert {(e.action, e.household) for e in _entries(client)} == {("view", world.household_other), ("export", None)}


def test_only_county_officers_open_it_and_it_is_read_only(world, client):
    for user in (world.town_official, world.village_cadre, world.department_staff, world.nobody):
        client.force_login(user)
        assert client.get("/access-log/").status_code == 403
        assert 'href="/access-log/"' not in client.get("/inbox/").content.decode()
    client.force_login(world.county_officer)
    assert 'href="/access-log/"' in client.get("/inbox/").content.decode()
    assert client.post("/access-log/").status_code == 405


def test_the_admin_cannot_add_change_or_delete_entries(world, client):
    entry = PersonalDataView.objects.create(user=world.village_cadre, household=world.household_a1, channel="page")
    admin = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    base = "/admin/households/personaldataview/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/").status_code == 403
    response = client.post(f"{base}{entry.pk}/change/", {"channel": "api"})
    assert response.status_code in (403, 302) or "readonly" in response.content.decode()
    entry.refresh_from_db()
    assert entry.channel == "page" and PersonalDataView.objects.count() == 1
    assert client.get("/admin/fanpin/exportjob/add/").status_code == 403
