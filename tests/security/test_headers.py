"""Finding 8 of issue 14: answers with personal data are never cached, a Content-Security-
Policy without inline script, a Permissions-Policy; no template carries inline script."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _page_client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path",
    ["/households/{h}/", "/households/{h}/edit/", "/households/", "/cases/", "/inbox/"],
)
def test_pages_with_personal_data_are_no_store_with_csp_and_permissions_policy(world, path):
    response = _page_client(world.village_cadre).get(path.format(h=world.household_a1.pk))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    csp = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'self'" in script_src
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert "geolocation=(self)" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]


def test_login_page_is_no_store_too(db):
    response = Client().get("/accounts/login/")
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response


def test_api_answers_with_full_id_numbers_are_no_store(world):
    client = APIClient()
    client.force_authenticate(world.village_cadre)
    for path in (f"/api/households/{world.household_a1.pk}/", "/api/members/", "/api/households/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_no_template_has_inline_script_or_event_handler_attributes():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text()
        for match in re.finditer(r"<script\b[^>]*>", source):
            if "src=" not in match.group() and "application/json" not in match.group():
                offenders.append(f"{template.name}: {match.group()}")
        for match in re.finditer(r"\son[a-z]+\s*=", source):
            offenders.append(f"{template.name}: {match.group()}")
        if "javascript:" in source:
            offenders.append(f"{template.name}: javascript: URL")
    assert offenders == []


def test_api_docs_run_without_inline_script(world):
    response = Client().get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>\s*\S", html)
