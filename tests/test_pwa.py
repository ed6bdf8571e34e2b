"""The installable field app's server side (issue 12 point 6): manifest, service worker and
offline page (fanpin/pwa.py). The worker's behaviour on a phone is tested in
tests/browser/test_field_app.py."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from PIL import Image

from fanpin import pwa

pytestmark = pytest.mark.django_db


def _worker(client=None):
    return (client or Client()).get("/sw.js")


def _version(response):
    return re.search(r'FANPIN_VERSION = "(\w+)"', response.content.decode()).group(1)


def test_the_worker_is_served_from_the_root_for_the_whole_site():
    response = _worker()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    # The browser checks for a new worker on every visit; no HTTP cache keeps an old one.
    assert "no-store" in response["Cache-Control"]
    assert response["X-Fanpin-Worker-Version"] == _version(response)


def test_the_worker_precaches_the_apps_files_and_the_offline_page():
    source = _worker().content.decode()
    precache = json.loads(re.search(r"FANPIN_PRECACHE = (\[.*\]);", source).group(1))
    for url in ("/static/js/offline.js", "/static/js/visit.js", "/static/js/app.js", "/static/css/app.css"):
        assert url in precache
    assert "/static/icons/icon-192.png" in precache and "/offline/" in precache
    assert "/static/js/sw.js" not in precache  # the worker itself is /sw.js


def test_a_changed_file_is_a_new_version(tmp_path, monkeypatch, settings):
    settings.DEBUG = True  # development: files change while the server runs
    for folder in ("css", "js", "icons"):
        (tmp_path / folder).mkdir()
    (tmp_path / "js" / "sw.js").write_text("// worker")
    (tmp_path / "js" / "visit.js").write_text("var a = 1;")
    monkeypatch.setattr(pwa, "STATIC_DIR", tmp_path)
    first = _version(_worker())
    assert _version(_worker()) == first
    (tmp_path / "js" / "visit.js").write_text("var a = 2;")
    assert _version(_worker()) != first


def test_the_manifest_makes_the_app_installable():
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    body = json.loads(response.content)
    assert body["start_url"] == "/inbox/" and body["scope"] == "/" and body["display"] == "standalone"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in body["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in body["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        with Image.open(path) as image:
            assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]


def test_the_offline_page_is_the_same_for_everyone(world):
    signed_in = Client()
    signed_in.force_login(world.village_cadre)
    mine = signed_in.get("/offline/").content.decode()
    anonymous = Client().get("/offline/").content.decode()
    assert "现在没有网络" in mine
    assert mine == anonymous and "village" not in mine


def test_pages_name_their_user_for_the_worker_and_anonymous_pages_do_not(world):
    client = Client()
    assert "X-Fanpin-User" not in client.get("/accounts/login/")
    client.force_login(world.village_cadre)
    page = client.get(f"/households/{world.household_a1.pk}/")
    assert page["X-Fanpin-User"] == str(world.village_cadre.pk)
    assert "no-store" in page["Cache-Control"]  # still no HTTP cache (issue 14)
    text = page.content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in text
    assert f'<script src="/static/js/app.js" data-user="{world.village_cadre.pk}" defer>' in text
    assert "<script>" not in text  # no inline script (CSP)
