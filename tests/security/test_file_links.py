"""Finding 7 of issue 14: the API gives the scoped addresses of uploaded files, which work
for their owner and are 404 outside scope; media is never served under /media/."""

import datetime

import pytest
from django.test import Client
from rest_framework.test import APIClient

from monitoring import services
from monitoring.models import VisitPhoto
from tests import factories as f


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def page(user):
    client = Client()
    client.force_login(user)
    return client


def _path(url):
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_visit_photos_in_the_api_are_scoped_addresses_that_work(world, media):
    created = api(world.village_cadre).post(
        "/api/visits/",
        {"household": world.household_a1.pk, "visitors": "张三、李四", "photos": [f.jpeg_upload("a.jpg")]},
        format="multipart",
    )
    assert created.status_code == 201
    visit = api(world.village_cadre).get(f"/api/visits/{created.json()['id']}/").json()
    [url] = visit["photos"]
    path = _path(url)
    assert path.startswith("/visits/photos/") and "/media/" not in url
    assert page(world.village_cadre).get(path).status_code == 200
    assert page(world.village_cadre_b).get(path).status_code == 404
    photo = VisitPhoto.objects.get()
    assert page(world.village_cadre).get("/media/" + photo.image.name).status_code == 404


def test_timeline_attachment_and_commitment_scan_are_scoped_addresses(world, media):
    case = services.case_create(
        user=world.village_cadre,
        household=world.household_a1,
        channel="cadre_visit",
        discovered_on=datetime.date.today(),
        reason="突发大病",
    )
    response = api(world.village_cadre).post(
        f"/api/cases/{case.pk}/transitions/start_appraisal/",
        {
            "home_check_on": datetime.date.today().isoformat(),
            "home_checkers": "张三、李四",
            "commitment_signed_on": datetime.date.today().isoformat(),
            "commitment_scan": f.pdf_upload("承诺书.pdf"),
            "attachment": f.pdf_upload("记录.pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    detail = response.json()
    urls = [detail["commitment_scan"]] + [i["attachment"] for i in detail["timeline"] if i["attachment"]]
    assert len(urls) == 2
    for url in urls:
        assert "/media/" not in url
        path = _path(url)
        assert page(world.village_cadre).get(path).status_code == 200
        assert page(world.town_official).get(path).status_code == 200
        assert page(world.village_cadre_b).get(path).status_code == 404
        assert page(world.department_staff).get(path).status_code == 404
