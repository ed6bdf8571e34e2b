"""The dashboard's figures against the hand-counted county of tests/reports/conftest.py, for each
role's scope; every figure links to a list that shows the same number; a constant number of
queries whatever the size of the data (issue 11 point 1); the page reads the figures stored by
the last count, shows when that was and counts again on demand (issue 15)."""

import datetime
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fanpin.models import DashboardSummary
from fanpin.reports import selectors, services
from tests import factories as f
from tests.reports.county import T, days, make_case


def month(n):
    return f"{days(n):%Y-%m}"


def values(chart):
    return {s.key: s.value for s in chart.segments if s.value}


def test_county_officer_sees_the_whole_county(board):
    d = selectors.dashboard(board.county_officer, T)
    assert values(d.states) == {"monitored": 3, "elimination_appraisal": 1, "eliminated": 1, "reported": 2, "closed": 1}
    assert values(d.categories) == {"edge": 2, "unstable": 1, "sudden": 1}
    assert values(d.primary_risks) == {"illness": 2, "disability": 1, "disaster": 1}
    assert values(d.secondary_risks) == {"disability": 1, "employment": 1, "illness": 1}
    assert values(d.areas) == {str(board.town_a.pk): 3, str(board.town_b.pk): 1}
    assert d.areas.title == "监测对象按乡镇"
    determined = {s.key: s.value for s in d.trend.determined if s.value}
    assert determined == dict(Counter(month(n) for n in (10, 60, 90, 40, 240)))
    assert {s.key: s.value for s in d.trend.eliminated if s.value} == {month(20): 1}
    assert len(d.trend.months) == 12 and d.trend.months[-1] == f"{T:%Y-%m}"
    # 4 households under monitoring of 11 registered in the county: far past the 10 % maximum.
    assert (d.scale.monitored, d.scale.registered, str(d.scale.percent), d.scale.status) == (4, 11, "36.36", "over")
    assert {s.key: s.value for s in d.overdue} == {"determination": 1, "plan": 1, "visit": 1}
    assert d.warnings.total.value == 3
    table = {label: [c.value for c in cells] for label, cells, _ in d.warnings.rows}
    # w3 was yellow, unverified for 20 days: two tiers up, red.
    assert table == {"住建": [1, 0, 0], "医保": [1, 1, 0]}
    assert d.alerts_total == 1 and d.alerts[0].households == 4


def test_town_official_sees_the_town_by_village(board):
    d = selectors.dashboard(board.town_official, T)
    assert values(d.states) == {"monitored": 2, "elimination_appraisal": 1, "eliminated": 1, "reported": 1}
    assert values(d.categories) == {"edge": 1, "unstable": 1, "sudden": 1}
    assert values(d.primary_risks) == {"illness": 2, "disability": 1}
    assert d.areas.title == "监测对象按村"
    assert values(d.areas) == {str(board.village_a1.pk): 2, str(board.village_a2.pk): 1}
    assert (d.scale.monitored, d.scale.registered, str(d.scale.percent)) == (3, 7, "42.86")
    assert {s.key: s.value for s in d.overdue} == {"determination": 1, "plan": 1, "visit": 1}
    assert {label: [c.value for c in cells] for label, cells, _ in d.warnings.rows} == {"医保": [1, 1, 0]}
    assert d.alerts is None  # scale alerts are the county's


def test_village_cadre_sees_the_village_and_only_dispatched_warnings(board):
    d = selectors.dashboard(board.village_cadre, T)
    assert values(d.states) == {"monitored": 2, "eliminated": 1}
    assert values(d.areas) == {str(board.village_a1.pk): 2}
    assert (d.scale.monitored, d.scale.registered, str(d.scale.percent)) == (2, 4, "50.00")
    assert {s.key: s.value for s in d.overdue} == {"determination": 0, "plan": 1, "visit": 1}
    assert d.warnings.total.value == 1  # w2; w1 is still the town's to dispatch
    assert {s.key: s.value for s in d.trend.eliminated if s.value} == {month(20): 1}


def test_scale_within_the_usual_band(world, settings):
    settings.FANPIN_SCALE_USUAL_PERCENT = 5
    for _ in range(30):
        f.make_household(world.village_a1)
    make_case(world.village_a1, "monitored", category="edge", primary_risk="illness", determined_on=days(3))
    d = selectors.dashboard(world.county_officer, T)
    assert (d.scale.monitored, d.scale.registered, d.scale.status) == (1, 34, "ok")
    settings.FANPIN_SCALE_USUAL_PERCENT = 2
    assert selectors.dashboard(world.county_officer, T).scale.status == "high"


@pytest.mark.parametrize("role", ["county_officer", "town_official", "village_cadre"])
def test_every_figure_links_to_a_list_showing_the_same_number(board, client, role):
    user = getattr(board, role)
    client.force_login(user)
    d = selectors.dashboard(user, T)
    segments = [
        *d.states.segments,
        *d.categories.segments,
        *d.primary_risks.segments,
        *d.secondary_risks.segments,
        *d.areas.segments,
        *d.trend.determined,
        *d.trend.eliminated,
        *d.overdue,
    ]
    segments = [s for s in segments if s.value] + [s for s in segments if not s.value][:3]
    for segment in segments:
        page = client.get(segment.url).content.decode()
        assert f"<strong>{segment.value}</strong> 个监测对象" in page, (segment, segment.url)
    warning_cells = [c for _, cells, total in d.warnings.rows for c in (*cells, total)] + [d.warnings.total]
    for cell in warning_cells:
        page = client.get(cell.url).content.decode()
        assert f"预警（{cell.value}）" in page, (cell, cell.url)
    page = client.get(d.scale.registered_url).content.decode()
    assert f"<strong>{d.scale.registered}</strong> 户" in page, d.scale.registered_url


def test_page_renders_figures_links_and_chart_data(board, client):
    client.force_login(board.county_officer)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="dashboard-data" type="application/json"' in html
    assert "vendor/echarts/echarts.min.js" in html and "js/dashboard.js" in html
    assert "<script>" not in html  # CSP: no inline script, the data travels as JSON
    assert 'href="/cases/?overdue=true" data-figure="overdue:determination"' in html
    assert "/screening/warnings/?pending=true&amp;department=housing&amp;tier=red" in html
    assert "规模性返贫风险预警" in html and "统计看板" in html
    charts = {c["id"]: c for c in response.context["charts"]}
    assert set(charts) == {"states", "categories", "primary_risks", "secondary_risks", "areas", "trend", "warnings"}
    assert charts["trend"]["series"][0]["name"] == "新增认定"


def test_who_may_open_the_dashboard(world, client):
    for user, status in [
        (world.county_officer, 200),
        (world.town_official, 200),
        (world.village_cadre, 200),
        (world.admin, 200),
        (world.department_staff, 403),
        (world.nobody, 403),
    ]:
        client.force_login(user)
        assert client.get("/dashboard/").status_code == status, user
    client.logout()
    assert client.get("/dashboard/").status_code == 302


def test_navigation_offers_the_dashboard_to_area_roles_only(world, client):
    client.force_login(world.town_official)
    assert 'href="/dashboard/"' in client.get("/cases/").content.decode()
    client.force_login(world.department_staff)
    assert 'href="/dashboard/"' not in client.get("/screening/").content.decode()


def _grow(w, n):
    """n more cases of every kind in new villages of a new town: more rows, more groups."""
    town = f.make_town(w.county, f"新镇{n}")
    for i in range(n):
        village = f.make_village(town, f"新村{n}-{i}")
        make_case(
            village,
            "monitored",
            category="edge",
            primary_risk="illness",
            secondary_risks=["loan"],
            determined_on=days(50 + i),
        )
        make_case(
            village,
            "eliminated",
            category="sudden",
            primary_risk="water",
            determined_on=days(200),
            eliminated_on=days(i + 1),
        )
        make_case(village, "reported", discovered_on=days(30 + i))


def _queries(client):
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/dashboard/").status_code == 200
    return len(captured.captured_queries)


def _refresh_queries(user):
    with CaptureQueriesContext(connection) as captured:
        services.dashboard_refresh(user=user)
    return len(captured.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_data(board, client, django_assert_max_num_queries):
    client.force_login(board.county_officer)
    _refresh_queries(board.county_officer)  # the first loads the user's roles and scope
    counting = _refresh_queries(board.county_officer)
    small = _queries(client)  # the stored figures
    assert small <= 10
    _grow(board, 12)
    assert _refresh_queries(board.county_officer) == counting
    with django_assert_max_num_queries(small):
        assert client.get("/dashboard/").status_code == 200
    assert _queries(client) == small


def test_the_page_shows_the_stored_figures_with_their_time_and_counts_again_on_demand(board, client, settings):
    client.force_login(board.county_officer)
    first = client.get("/dashboard/")
    summary = DashboardSummary.objects.get(scope=selectors.dashboard_scope(board.county_officer))
    assert first.context["refreshed_at"] == summary.refreshed_at
    html = first.content.decode()
    assert f"统计于 {timezone.localtime(summary.refreshed_at):%H:%M}" in html and 'action="/dashboard/refresh/"' in html
    before = first.context["board"].scale.monitored
    make_case(board.village_a1, "monitored", category="edge", primary_risk="illness", determined_on=days(3))
    # Within FANPIN_DASHBOARD_MAX_AGE the page reads the stored figures...
    assert client.get("/dashboard/").context["board"].scale.monitored == before
    # ...the 立即刷新 button counts them again...
    response = client.post("/dashboard/refresh/", follow=True)
    assert "已重新统计" in response.content.decode()
    assert response.context["board"].scale.monitored == before + 1
    assert DashboardSummary.objects.get(pk=summary.pk).refreshed_at > summary.refreshed_at
    # ...and figures older than the maximum age, or of another day, are counted again.
    make_case(board.village_a1, "monitored", category="edge", primary_risk="illness", determined_on=days(4))
    DashboardSummary.objects.filter(pk=summary.pk).update(
        refreshed_at=timezone.now() - datetime.timedelta(seconds=settings.FANPIN_DASHBOARD_MAX_AGE + 1)
    )
    assert client.get("/dashboard/").context["board"].scale.monitored == before + 2
    make_case(board.village_a1, "monitored", category="edge", primary_risk="illness", determined_on=days(5))
    DashboardSummary.objects.filter(pk=summary.pk).update(as_of=days(1))
    assert client.get("/dashboard/").context["board"].scale.monitored == before + 3


def test_stored_figures_make_the_same_dashboard_as_a_count(board):
    for user in (board.county_officer, board.town_official, board.village_cadre):
        summary = services.dashboard_refresh(user=user)
        stored = selectors.dashboard(user, summary.as_of, summary.figures)
        counted = selectors.dashboard(user, summary.as_of)
        assert stored == counted, user


def test_the_beat_task_counts_every_opened_dashboard_again(board, client):
    from fanpin.tasks import refresh_dashboards

    services.dashboard_refresh(user=board.county_officer)
    services.dashboard_refresh(user=board.village_cadre)
    services.dashboard_refresh(user=board.town_official)
    DashboardSummary.objects.update(refreshed_at=timezone.now() - datetime.timedelta(hours=1))
    board.village_cadre.roles.all().delete()  # no longer a cadre: the stored figures go
    # Moved to town B: the figures counted for town A are not counted again as town B's.
    board.town_official.roles.update(area=board.town_b)
    assert refresh_dashboards() == 1
    summary = DashboardSummary.objects.get()
    assert summary.scope == selectors.dashboard_scope(board.county_officer)
    assert summary.counted_for == board.county_officer
    assert timezone.now() - summary.refreshed_at < datetime.timedelta(minutes=1)


def _colleague(user, username):
    """Another user with exactly the same roles and areas."""
    colleague = f.UserFactory(username=username)
    for role in user.roles.all():
        colleague.roles.create(role=role.role, area=role.area, department=role.department)
    return colleague


def test_users_with_the_same_scope_share_one_count(board, client):
    colleague = _colleague(board.county_officer, "county2")
    client.force_login(board.county_officer)
    counted = client.get("/dashboard/").context["refreshed_at"]
    before = client.get("/dashboard/").context["board"].scale.monitored
    make_case(board.village_a1, "monitored", category="edge", primary_risk="illness", determined_on=days(3))
    client.force_login(colleague)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/dashboard/")
    # The colleague reads the figures counted for the officer: same time, same numbers, no count.
    assert response.context["refreshed_at"] == counted
    assert response.context["board"].scale.monitored == before
    assert not any("monitoring_monitoringcase" in q["sql"] and "GROUP BY" in q["sql"] for q in captured)
    assert DashboardSummary.objects.count() == 1
    # The colleague's 立即刷新 counts them again for both.
    client.post("/dashboard/refresh/")
    client.force_login(board.county_officer)
    assert client.get("/dashboard/").context["board"].scale.monitored == before + 1
    assert DashboardSummary.objects.count() == 1
    # Another scope (a town) has its own figures: town A's three and the new one.
    client.force_login(board.town_official)
    assert client.get("/dashboard/").context["board"].scale.monitored == 4
    assert DashboardSummary.objects.count() == 2


def test_a_user_whose_scope_shrank_sees_the_new_scope_at_once(board, client):
    client.force_login(board.county_officer)
    assert client.get("/dashboard/").context["board"].scale.registered == 11
    # Now only a village cadre of village A1, well within FANPIN_DASHBOARD_MAX_AGE: the stored
    # county figures are not theirs any more.
    board.county_officer.roles.update(role="village_cadre", area=board.village_a1)
    board_now = client.get("/dashboard/").context["board"]
    assert (board_now.scale.monitored, board_now.scale.registered) == (2, 4)
    assert board_now.warnings.total.value == 1  # a cadre's warnings: the new one is not theirs
    assert board_now.areas.title == "监测对象按村"


def test_a_contact_person_of_cases_elsewhere_has_figures_of_their_own(board, client):
    colleague = _colleague(board.village_cadre, "village2")
    assert selectors.dashboard_scope(colleague) == selectors.dashboard_scope(board.village_cadre)
    # The cadre is the contact person of a case in village B1, outside the village: their
    # figures count it (as their case list does), the colleague's do not.
    board.c4.contact_person = board.village_cadre
    board.c4.save(update_fields=["contact_person"])
    assert selectors.dashboard_scope(colleague) != selectors.dashboard_scope(board.village_cadre)
    client.force_login(colleague)
    assert values(client.get("/dashboard/").context["board"].states) == {"monitored": 2, "eliminated": 1}
    client.force_login(board.village_cadre)
    assert values(client.get("/dashboard/").context["board"].states) == {"monitored": 3, "eliminated": 1}
    assert DashboardSummary.objects.count() == 2
    # A contact person of a case inside their own village needs no figures of their own.
    board.c4.contact_person = None
    board.c4.save(update_fields=["contact_person"])
    board.c1.contact_person = board.village_cadre
    board.c1.save(update_fields=["contact_person"])
    assert selectors.dashboard_scope(colleague) == selectors.dashboard_scope(board.village_cadre)


def test_only_dashboard_roles_count_figures(world, client):
    with pytest.raises(PermissionDenied):
        services.dashboard_refresh(user=world.department_staff)
    client.force_login(world.department_staff)
    assert client.post("/dashboard/refresh/").status_code == 403
    assert client.get("/dashboard/refresh/").status_code == 405
    assert not DashboardSummary.objects.exists()
