"""The installable field app (issue 12 point 6): web app manifest, service worker, offline page.

- `/manifest.webmanifest`: name, icons (static/icons/, drawn by scripts/make_icons.py), start
  page 我的待办, standalone display, so a cadre adds the system to the phone's home screen.
- `/sw.js`: static/js/sw.js with its version and precache list in front. Served from the root
  (with `Service-Worker-Allowed: /`) so its scope is the whole site. The version is a hash of
  the worker and of every file it precaches: any change to one of them is a new worker, which
  installs, drops the previous version's cache and takes over.
- `/offline/`: what a page not yet opened on this phone shows without a signal; the same for
  everyone (no user data), fetched by the worker without cookies.

What the worker keeps and for how long is described at the top of static/js/sw.js and in the
README (section *In the field*).
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse

STATIC_DIR = Path(settings.BASE_DIR) / "static"
# Everything the app's own pages load from static/ (the admin's and the API docs' files are
# not needed in the field).
PRECACHED_DIRS = ("css", "js", "icons", "img")
WORKER = "js/sw.js"
OFFLINE_URL = "/offline/"


def _precached_files() -> list[str]:
    names = []
    for folder in PRECACHED_DIRS:
        for path in sorted((STATIC_DIR / folder).rglob("*")):
            relative = path.relative_to(STATIC_DIR).as_posix()
            if path.is_file() and relative != WORKER:
                names.append(relative)
    return names


def _worker_source() -> tuple[str, str]:
    """(the worker's script, its version)."""
    files = _precached_files()
    digest = hashlib.sha256()
    worker = (STATIC_DIR / WORKER).read_bytes()
    digest.update(worker)
    for name in files:
        digest.update(name.encode())
        digest.update((STATIC_DIR / name).read_bytes())
    version = digest.hexdigest()[:16]
    precache = [static(name) for name in files] + [OFFLINE_URL]
    head = f"var FANPIN_VERSION = {json.dumps(version)};\nvar FANPIN_PRECACHE = {json.dumps(precache)};\n"
    return head + worker.decode(), version


# In production the files do not change while the process runs; in development they do.
_cached_worker_source = lru_cache(maxsize=1)(_worker_source)


def service_worker(request: HttpRequest) -> HttpResponse:
    source, version = _worker_source() if settings.DEBUG else _cached_worker_source()
    response = HttpResponse(source, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["X-Fanpin-Worker-Version"] = version
    return response


def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {"src": static(f"icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"}
        for size in (192, 512)
    ] + [
        {
            "src": static(f"icons/icon-maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    body = {
        "name": "防止返贫监测帮扶",
        "short_name": "防返贫监测",
        "description": "村干部走访、申报和农户信息，没有信号时也能录入，有网络时自动上传。",
        "lang": "zh-CN",
        "id": "/",
        "start_url": reverse("monitoring:inbox"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#156534",
        "icons": icons,
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json; charset=utf-8"
    return response


def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "offline.html")
