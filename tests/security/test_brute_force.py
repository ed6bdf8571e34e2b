"""Finding 2 of issue 14: repeated failed logins lock the account and the address, on the
login page and on the API token endpoint; the answer says when to retry (Retry-After on the
API); the lock-out is logged and an administrator can lift it."""

import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from tests import factories as f

LIMIT = 5


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def page_login(password, username="village", ip="10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post("/accounts/login/", {"username": username, "password": password})


def api_login(password, username="village", ip="10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post(
        "/api/auth/token/", {"username": username, "password": password}, content_type="application/json"
    )


def test_login_page_locks_out_after_repeated_failures_even_with_the_right_password(world):
    for _ in range(LIMIT - 1):
        assert page_login("wrong-password").status_code == 200
    assert page_login("wrong-password").status_code == 429  # the failure that reaches the limit
    response = page_login(f.PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "登录失败次数过多" in page and "分钟后" in page
    assert "_auth_user_id" not in response.client.session


def test_the_lock_out_is_logged(world, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        for _ in range(LIMIT):
            page_login("wrong-password")
    assert any("Locking out" in record.getMessage() for record in caplog.records)


def test_api_token_locks_out_with_429_and_retry_after(world, settings):
    for _ in range(LIMIT - 1):
        response = api_login("wrong-password")
        assert response.status_code == 400
        assert "用户名或密码不正确" in str(response.json())
    assert api_login("wrong-password").status_code == 429
    response = api_login(f.PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert "分钟后" in response.json()["detail"]
    assert "token" not in response.json()


def test_one_address_trying_many_accounts_is_locked_out(world):
    for n in range(LIMIT):
        page_login("wrong-password", username=f"guess{n}", ip="10.0.0.7")
    assert api_login(f.PASSWORD, ip="10.0.0.7").status_code == 429
    # The account itself had no failures: from another address it logs in.
    assert api_login(f.PASSWORD, ip="10.0.0.8").status_code == 200


def test_one_account_tried_from_many_addresses_is_locked_out(world):
    for n in range(LIMIT):
        api_login("wrong-password", ip=f"10.0.1.{n}")
    assert page_login(f.PASSWORD, ip="10.0.2.1").status_code == 429
    assert api_login(f.PASSWORD, username="town", ip="10.0.2.1").status_code == 200


def test_a_forged_forwarded_for_header_does_not_change_the_address(world):
    for n in range(LIMIT):
        Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").post(
            "/accounts/login/", {"username": f"guess{n}", "password": "x"}
        )
    response = Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="192.0.2.200").post(
        "/accounts/login/", {"username": "town", "password": f.PASSWORD}
    )
    assert response.status_code == 429


def test_an_administrator_lifts_the_lock_out_in_the_admin(world):
    for _ in range(LIMIT):
        page_login("wrong-password")
    assert page_login(f.PASSWORD).status_code == 429
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "root-pass-1")
    admin = Client()
    admin.force_login(superuser)
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    assert attempts
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert page_login(f.PASSWORD).status_code == 302


def test_a_successful_login_before_the_limit_clears_the_count(world):
    for _ in range(LIMIT - 1):
        page_login("wrong-password")
    assert page_login(f.PASSWORD).status_code == 302
    for _ in range(LIMIT - 1):
        page_login("wrong-password")
    assert page_login(f.PASSWORD).status_code == 302
