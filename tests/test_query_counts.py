"""Query counts do not grow with the data (issue 15): every page and every API GET operation,
discovered as tests/test_route_matrix.py discovers them, is requested by each role at two
data sizes, and the second (many more households, members, cases, events, visits, measures
and warnings, on the same objects and around them) may not take one query more than the
first. An N+1 (a query per row, per event, per member) fails here whatever page it is on.

A page also stays within MAX_QUERIES (issue 15's target: ≤ 10); the pages that take more
today are listed in OVER_TEN with their ceiling, so none can get worse unnoticed.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assistance.models import Measure
from households.models import Household, Member
from monitoring.models import CaseEvent, MonitoringCase, State, Visit
from screening.models import RiskWarning
from tests import factories as f
from tests.test_route_matrix import (  # noqa: F401  (objects is a fixture)
    API_OPERATIONS,
    PAGE_ROUTES,
    _client,
    _fill_api,
    _fill_page,
    objects,
)

MAX_QUERIES = 10
# Pages and operations above MAX_QUERIES today, with the ceiling they may not pass (the
# query count is still independent of the data: asserted for them too).
OVER_TEN: dict[str, int] = {}  # none since the inbox's and the case page's went (issue 15)
ROLES = ("county", "town", "village")
# Downloads and pages that only answer forms are timed elsewhere or take no GET.
SKIP = {"accounts/logout/", "healthz"}


def _users(w):
    return {"county": w.county_officer, "town": w.town_official, "village": w.village_cadre}


def _grow(world, made, n):
    """n more households of three in the village (each with a case, events and visits), n more
    events, visits, measures and warnings on the objects' own case and household."""
    w = world
    today = timezone.localdate()
    case = MonitoringCase.objects.get(pk=made["case"])
    for index in range(n):
        household = f.make_household(w.village_a1, members=3)
        f.make_income(household, year=2025, wage_income=1000 + index)
        if index % 2:  # a data-quality finding: an income that does not add up
            household.incomes.update(total_net_income=1)
        other = MonitoringCase.objects.create(
            household=household,
            state=State.REPORTED,
            channel=case.channel,
            discovered_on=today - datetime.timedelta(days=25 + index % 30),  # past the 15-workday limit
            reason="突发大病",
            reported_by=w.village_cadre,
        )
        CaseEvent.objects.create(case=other, action="report", label="申报", to_state=State.REPORTED)
        RiskWarning.objects.create(
            county=w.county,
            town=w.village_a1.parent,
            village=w.village_a1,
            household=household,
            risk_type="illness",
            period=datetime.date(2026, 1, 1) - datetime.timedelta(days=31 * (index % 3)),
            rule="x",
            department=w.department.kind,
            severity="red",
            figure="x",
        )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(case=case, action="visit", label="走访", to_state=case.state, actor=w.village_cadre)
            for _ in range(n)
        ]
    )
    taken = Measure.objects.filter(case=case).count()
    Visit.objects.bulk_create(
        [
            Visit(
                household=case.household,
                case=case,
                visited_on=today - datetime.timedelta(days=40 + taken + i),
                visitors="张三",
                recorded_by=w.village_cadre,
            )
            for i in range(n)
        ]
    )
    Measure.objects.bulk_create(
        [
            Measure(case=case, measure_type_id="dibao", starts_on=today - datetime.timedelta(days=taken + i))
            for i in range(n)
        ]
    )
    Member.objects.bulk_create(
        [
            Member(
                household=case.household,
                id_number=f.valid_id(datetime.date(2001, 1, 1) + datetime.timedelta(days=i)),
                name=f"成员{i}",
                relation=Member.Relation.CHILD,
                birth_date=datetime.date(2001, 1, 1) + datetime.timedelta(days=i),
                sex="M",
            )
            for i in range(n)
        ]
    )


def _counts(world, made, requests):
    counts = {}
    for role, user in _users(world).items():
        for key, (kind, url) in requests.items():
            client = _client(user, api=kind == "api")
            client.get(url)  # the first request of a process loads templates, caches
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)
            counts[(role, key)] = (response.status_code, len(captured.captured_queries))
    return counts


def _requests(made):
    requests = {}
    for route in PAGE_ROUTES:
        if route in SKIP:
            continue
        url, _ = _fill_page(route, made)
        requests[route] = ("page", url)
    for path, method in API_OPERATIONS:
        if method == "get" and not path.startswith(("/api/schema", "/api/docs")):
            url, _ = _fill_api(path, made)
            requests[path] = ("api", url)
    return requests


@pytest.mark.django_db
def test_no_page_or_api_read_grows_with_the_data(world, objects):  # noqa: F811 (the fixture)
    requests = _requests(objects)
    # Two sizes that both have rows on every list (an empty list skips its page's queries).
    _grow(world, objects, 3)
    small = _counts(world, objects, requests)
    _grow(world, objects, 30)
    large = _counts(world, objects, requests)
    grew, over = [], []
    for (role, key), (status, queries) in large.items():
        before_status, before = small[(role, key)]
        if status != 200 or before_status != 200:
            continue  # forms that answer GET with 405, downloads refused to a role: nothing to count
        if queries > before:
            grew.append(f"{role} {key}: {before} → {queries} queries")
        ceiling = OVER_TEN.get(key, MAX_QUERIES)
        if queries > ceiling:
            over.append(f"{role} {key}: {queries} queries (at most {ceiling})")
    assert not grew, "query count grows with the data:\n" + "\n".join(sorted(grew))
    assert not over, "too many queries:\n" + "\n".join(sorted(over))


@pytest.mark.django_db
def test_pages_read_in_two_steps_keep_the_order_and_the_figures(world):
    """A page is its ids, then its rows (households.paging): the rows of page 2 are the 21st
    to 40th of the list's order, each with its own head and size."""
    for members in range(1, 40):
        f.make_household(world.village_a1, members=1 + members % 4)
    client = _client(world.county_officer)
    expected = list(
        Household.objects.filter(village__path__startswith=world.county.path)
        .order_by("village_id", "number")
        .values_list("number", flat=True)
    )
    page = client.get("/households/", {"page": 2}).context["page"]
    assert [h.number for h in page.object_list] == expected[20:40]
    for household in page.object_list:
        assert household.size == household.members.filter(status=Member.Status.ACTIVE).count()
        assert household.head_name == household.members.get(relation=Member.Relation.HEAD).name
    api = _client(world.county_officer, api=True).get("/api/households/", {"page": 3, "page_size": 7}).json()
    assert [row["number"] for row in api["results"]] == expected[14:21]
    assert api["count"] == len(expected)
