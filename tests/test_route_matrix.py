"""Every page and every API operation × every kind of user (issue 14 "What to build" item 2).

The routes are discovered, not listed: page routes from the URLconf, API operations from the
OpenAPI schema. A route whose path parameters this file cannot fill fails with its name, so
a new route is covered as soon as its parameter is known here (usually at once: parameters
are filled by the object the route's prefix names). For each route:
- anonymous: pages redirect to the login page, API operations answer 401;
- each role with an object in its scope: never a server error, only a designed answer;
- users outside the object's scope (another village's cadre, another county's officer, a
  user without a role, department staff for registry and case objects): 404.
"""

import datetime
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from assistance.catalogue import install_default_catalogue
from assistance.models import Measure
from fanpin.models import ExportJob
from households.models import ImportJob, Role
from monitoring import services
from monitoring.declarations import services as declaration_services
from monitoring.models import CaseEvent, Objection, VisitPhoto
from screening.models import RiskWarning, ScreeningUpload
from tests import factories as f
from tests.monitoring.cases import HOME_CHECK

PUBLIC_PAGES = {"", "healthz", "accounts/login/", "favicon.ico"}  # "" redirects to the login page itself
# A scanned household card (一户一码) answers everyone who may not see the household with the
# same "请联系村干部" page (200), never 404: tests/monitoring/test_household_cards.py.
PUBLIC_PAGES |= {"q/<str:token>/"}
# The installable app's manifest, service worker and offline page: the same for everyone.
PUBLIC_PAGES |= {"sw.js", "manifest.webmanifest", "offline/"}
PUBLIC_API = {("/api/auth/token/", "post"), ("/api/schema/", "get")}
# Public by design (issue 12): households declare hardship themselves, without an account, and
# look up their own declaration by its reference and ID number; the village lists are names.
PUBLIC_PAGES |= {"declare/", "declare/done/", "declare/status/"}
PUBLIC_API |= {
    ("/api/declarations/", "post"),
    ("/api/declarations/status/", "get"),
    ("/api/declarations/areas/", "get"),
}
DESIGNED = {200, 204, 302, 400, 403, 404, 405, 409}


def _page_routes():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    routes = []
    for route in walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/", "^api/")):
            continue  # the admin is Django's; the API is covered operation by operation below
        routes.append(route)
    return routes


def _api_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            # The body is sent as the operation documents it (JSON unless it takes files only).
            FORMATS[(path, method)] = "json" if not content or "application/json" in content else "multipart"
            operations.append((path, method))
    return operations


FORMATS = {}


PAGE_ROUTES = _page_routes()
API_OPERATIONS = _api_operations()


@pytest.fixture
def objects(world, settings, tmp_path):
    """One object of each kind, all in village a1 (or the world's department)."""
    settings.MEDIA_ROOT = tmp_path
    w = world
    w.other_county_officer = f.user_with_role("other_county", Role.COUNTY_OFFICER, area=w.other_county)
    case = services.case_create(
        user=w.village_cadre,
        household=w.household_a1,
        channel="cadre_visit",
        discovered_on=datetime.date.today(),
        reason="突发大病",
    )
    services.case_transition(
        user=w.village_cadre,
        case_id=case.pk,
        name="start_appraisal",
        data={**HOME_CHECK, "home_check_on": datetime.date.today(), "commitment_signed_on": datetime.date.today()},
        files={"attachment": f.pdf_upload("记录.pdf"), "commitment_scan": f.pdf_upload("承诺书.pdf")},
    )
    event = CaseEvent.objects.filter(case=case).exclude(attachment="").get()
    objection = Objection.objects.create(
        case=case, raised_by="匿名", raised_on=datetime.date.today(), content="情况不实", recorded_by=w.village_cadre
    )
    visit = services.visit_create(
        user=w.village_cadre,
        household=w.household_a1,
        visited_on=datetime.date.today(),
        visitors="张三、李四",
        photos=[f.jpeg_upload()],
    )
    job = ImportJob.objects.create(user=w.village_cadre, file=ContentFile(b"x", name="a.csv"), original_name="a.csv")
    export = ExportJob.objects.create(user=w.village_cadre, query="stage=open", rows_total=1)
    upload = ScreeningUpload.objects.create(
        department=w.department,
        period=datetime.date(2026, 1, 1),
        file=ContentFile(b"x", name="m.csv"),
        original_name="m.csv",
        uploaded_by=w.department_staff,
    )
    install_default_catalogue()
    measure = Measure.objects.create(case=case, measure_type_id="dibao")
    warning = RiskWarning.objects.create(
        county=w.county,
        household=w.household_a1,
        risk_type="illness",
        period=datetime.date(2026, 1, 1),
        rule="x",
        department=w.department.kind,
        severity="red",
        figure="x",
    )
    member = w.household_a1.members.first()
    income = f.make_income(w.household_a1)
    declaration = declaration_services.declaration_submit(
        client="192.0.2.1",
        village=w.village_a1,
        name="李秀英",
        id_number=f.valid_id(),
        phone="13912345678",
        situation="看病花钱多",
        photos=[f.jpeg_upload()],
    )
    return {
        "household": w.household_a1.pk,
        "member": member.pk,
        "income": income.pk,
        "case": case.pk,
        "event": event.pk,
        "objection": objection.pk,
        "visit": visit.pk,
        "photo": VisitPhoto.objects.get(visit=visit).pk,
        "job": job.pk,
        "export": export.pk,
        "upload": upload.pk,
        "measure": measure.pk,
        "warning": warning.pk,
        "declaration": declaration.pk,
        "declaration_photo": declaration.photos.get().pk,
        "village": w.village_a1.pk,
        "kind": w.department.kind,
        "fmt": "csv",
        "name": "town_approve",
        "card_token": w.household_a1.card_token,
    }


# (prefix of the route, parameter) -> kind of object; the longest matching prefix wins.
PAGE_PARAMS = {
    ("households/import/jobs/", "pk"): "job",
    ("exports/", "pk"): "export",
    ("households/import/template/", "fmt"): "fmt",
    ("households/", "pk"): "household",
    ("households/", "member_pk"): "member",
    ("households/", "income_pk"): "income",
    ("cases/notice/", "village_pk"): "village",
    ("cards/village/", "village_pk"): "village",
    ("q/", "token"): "card_token",
    ("cases/", "pk"): "case",
    ("cases/", "event_pk"): "event",
    ("cases/", "objection_pk"): "objection",
    ("cases/", "name"): "name",
    ("visits/photos/", "pk"): "photo",
    ("visits/", "household_pk"): "household",
    ("screening/uploads/", "pk"): "upload",
    ("screening/cases/", "pk"): "case",
    ("screening/templates/", "kind"): "kind",
    ("screening/warnings/", "pk"): "warning",
    ("measures/", "pk"): "measure",
    ("declarations/", "pk"): "declaration",
    ("declarations/", "photo_pk"): "declaration_photo",
    ("declarations/poster/", "village_pk"): "village",
}
API_PARAMS = {
    ("/api/households/", "id"): "household",
    ("/api/members/", "id"): "member",
    ("/api/income-records/", "id"): "income",
    ("/api/cases/", "id"): "case",
    ("/api/cases/", "name"): "name",
    ("/api/objections/", "id"): "objection",
    ("/api/visits/", "id"): "visit",
    ("/api/screening/uploads/", "id"): "upload",
    ("/api/screening/uploads/", "pk"): "upload",
    ("/api/screening/templates/", "kind"): "kind",
    ("/api/warnings/", "id"): "warning",
    ("/api/warnings/", "pk"): "warning",
    ("/api/measures/", "id"): "measure",
    ("/api/measures/", "pk"): "measure",
    ("/api/declarations/", "id"): "declaration",
}
SCREENING_KINDS = {"upload", "kind", "warning"}


def _kind(table, path, param):
    matches = [
        (len(prefix), kind) for (prefix, name), kind in table.items() if name == param and path.startswith(prefix)
    ]
    if not matches:
        pytest.fail(
            f"route {path!r}: add its parameter {param!r} to {table is PAGE_PARAMS and 'PAGE_PARAMS' or 'API_PARAMS'}"
        )
    return max(matches)[1]


def _fill_page(route, objects):
    kinds = []

    def value(match):
        param = match.group(2)
        kind = _kind(PAGE_PARAMS, route, param)
        kinds.append(kind)
        return str(objects[kind])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route), kinds


def _fill_api(path, objects):
    kinds = []

    def value(match):
        kind = _kind(API_PARAMS, path, match.group(1))
        kinds.append(kind)
        return str(objects[kind])

    return re.sub(r"\{(\w+)\}", value, path), kinds


def _users(w):
    return {
        "admin": w.admin,
        "county": w.county_officer,
        "town": w.town_official,
        "village": w.village_cadre,
        "village_b": w.village_cadre_b,
        "other_county": w.other_county_officer,
        "medical": w.department_staff,
        "nobody": w.nobody,
    }


def _outsiders(kinds):
    """Who must get 404 for a route reaching these objects."""
    objects_ = set(kinds) - {"fmt", "name", "kind", "card_token"}
    if not objects_:
        return set()
    if objects_ & SCREENING_KINDS:
        return {"village_b", "other_county", "nobody"}
    if objects_ & {"job", "export"}:  # an import or export job is its requester's (and administrators')
        return {"village_b", "other_county", "nobody", "medical", "town", "county"}
    return {"village_b", "other_county", "nobody", "medical"}


def _client(user=None, api=False):
    client = APIClient()
    if user is not None:
        client.force_login(user) if not api else client.force_authenticate(user)
    return client


def test_the_matrix_covers_every_route():
    assert len(PAGE_ROUTES) >= 30 and len(API_OPERATIONS) >= 30
    print(f"route matrix: {len(PAGE_ROUTES)} page routes + {len(API_OPERATIONS)} API operations, × 9 users")


@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_page_route_answers_every_user_as_designed(world, objects, route):
    path, kinds = _fill_page(route, objects)
    # A route that only takes forms (POST) is tried with an empty form.
    method = "post" if _client(world.admin).get(path).status_code == 405 else "get"
    anonymous = getattr(_client(), method)(path)
    if route in PUBLIC_PAGES:
        assert anonymous.status_code in (200, 302), path
    elif route == "accounts/logout/":
        assert anonymous.status_code == 302, path
    else:
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], (
            path,
            anonymous.status_code,
        )
    outsiders = _outsiders(kinds)
    for role, user in _users(world).items():
        response = getattr(_client(user), method)(path)
        assert response.status_code in DESIGNED, (path, role, response.status_code)
        if role in outsiders:
            assert response.status_code == 404, (path, role, response.status_code)


@pytest.mark.parametrize("path, method", API_OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in API_OPERATIONS])
def test_api_operation_answers_every_user_as_designed(world, objects, path, method):
    url, kinds = _fill_api(path, objects)
    body_format = FORMATS[(path, method)]
    anonymous = getattr(_client(api=True), method)(url, {}, format=body_format)
    if (path, method) in PUBLIC_API:
        assert anonymous.status_code in (200, 400), (url, anonymous.status_code)
    else:
        assert anonymous.status_code == 401, (method, url, anonymous.status_code)
        assert "detail" in anonymous.json()
    outsiders = _outsiders(kinds)
    for role, user in _users(world).items():
        response = getattr(_client(user, api=True), method)(url, {}, format=body_format)
        assert response.status_code in DESIGNED, (method, url, role, response.status_code, response.content[:200])
        assert response["Content-Type"].startswith("application/json") or response.status_code in (200, 204), url
        if role in outsiders:
            assert response.status_code == 404, (method, url, role, response.status_code)
