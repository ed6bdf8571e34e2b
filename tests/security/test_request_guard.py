"""Findings 1, 5 and 10 of issue 14: bodies no view should see are refused before any view
runs, in Chinese, with JSON under /api/; the documented codes and JSON errors everywhere
under /api/ (oversized body, unknown address, wrong method, server error)."""

import re

import pytest
from django.test import Client
from django.urls import path, reverse
from rest_framework.test import APIClient

from households.models import Household
from tests import factories as f
from tests.households.test_pages import household_post, member_post

CHINESE = re.compile(r"[\u4e00-\u9fff]")

JSON_ENDPOINTS = [
    "/api/auth/token/",
    "/api/households/",
    "/api/members/",
    "/api/income-records/",
    "/api/cases/",
    "/api/visits/",
    "/api/cases/1/transitions/start_appraisal/",
    "/api/objections/1/resolve/",
]


def api_client(user=None):
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_a_chinese_400_on_every_endpoint(world, url, depth):
    body = "[" * depth + "]" * depth
    for user in (None, world.village_cadre):
        response = api_client(user).post(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.status_code)
        assert CHINESE.search(response.json()["detail"])


def test_deeply_nested_json_is_a_400_also_with_debug(world, settings):
    settings.DEBUG = True
    response = api_client().post("/api/auth/token/", '{"a":' * 5000 + "1" + "}" * 5000, content_type="application/json")
    assert response.status_code == 400
    assert len(response.content) < 2000
    assert "嵌套" in response.json()["detail"]


def test_json_of_ordinary_depth_still_reaches_the_view(world):
    response = api_client().post("/api/auth/token/", {"username": "village", "password": f.PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json()["token"]


def _login(user):
    client = Client()
    client.force_login(user)
    return client


def test_gbk_form_post_without_charset_is_refused_and_saves_nothing(world):
    client = _login(world.village_cadre)
    data = household_post(world.village_a1, number="GBK-1", address="甲村二组")
    from urllib.parse import urlencode

    body = urlencode(data, encoding="gbk")
    response = client.post(reverse("households:create"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()
    assert not Household.objects.filter(number="GBK-1").exists()


def _multipart(fields, boundary="XyZ", encoding="utf-8"):
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        body += str(value).encode(encoding) + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def test_gbk_multipart_post_with_declared_charset_is_read_correctly(world):
    client = _login(world.village_cadre)
    data = {**household_post(world.village_a1, number="GBK-2", address="甲村二组"), **member_post("head", name="王五")}
    response = client.generic(
        "POST",
        reverse("households:create"),
        _multipart(data, encoding="gbk"),
        content_type="multipart/form-data; boundary=XyZ; charset=gbk",
    )
    assert response.status_code == 302
    household = Household.objects.get(number="GBK-2")
    assert household.address == "甲村二组"
    assert household.members.get().name == "王五"


def test_urlencoded_form_declaring_another_charset_is_a_chinese_400(world):
    # Django reads url-encoded forms as UTF-8 only; the refusal says so in Chinese.
    from urllib.parse import urlencode

    client = _login(world.village_cadre)
    body = urlencode(household_post(world.village_a1, number="GBK-3", address="甲村二组"), encoding="gbk")
    response = client.post(
        reverse("households:create"), body, content_type="application/x-www-form-urlencoded; charset=gbk"
    )
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()
    assert not Household.objects.filter(number="GBK-3").exists()


def test_undeclarable_charset_is_refused(world):
    client = _login(world.village_cadre)
    response = client.generic(
        "POST",
        reverse("households:create"),
        b"number=1",
        content_type="application/x-www-form-urlencoded; charset=klingon-9",
    )
    assert response.status_code == 400


def test_non_utf8_multipart_field_is_refused(world):
    client = _login(world.village_cadre)
    data = household_post(world.village_a1, number="GBK-4", address="甲村二组")
    response = client.generic(
        "POST",
        reverse("households:create"),
        _multipart(data, encoding="gbk"),
        content_type="multipart/form-data; boundary=XyZ",
    )
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()
    assert not Household.objects.filter(number="GBK-4").exists()


def test_oversized_json_body_is_a_json_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client(world.village_cadre).post(
        "/api/households/", '{"number": "' + "1" * 5000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert CHINESE.search(response.json()["detail"])


def test_unknown_api_address_and_wrong_method_answer_json(world):
    client = api_client(world.village_cadre)
    for response, code in (
        (client.get("/api/no-such-thing/"), 404),
        (client.delete(f"/api/households/{world.household_a1.pk}/"), 405),
        (client.get("/api/households/abc/"), 404),
    ):
        assert response.status_code == code
        assert response["Content-Type"].startswith("application/json")
        assert CHINESE.search(response.json()["detail"])


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("api/boom/", _boom), path("boom/", _boom)]
handler500 = "fanpin.views.server_error"  # as fanpin.urls names it


def test_server_error_under_api_is_json_and_a_page_elsewhere(world, settings):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    response = client.get("/api/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert CHINESE.search(response.json()["detail"])
    page = client.get("/boom/")
    assert page.status_code == 500
    assert "服务器出错" in page.content.decode()
