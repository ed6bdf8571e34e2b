"""Query counts of the monitoring pages with every panel full (issue 15). tests/test_query_counts.py
requests every page on a world where most of 我的待办's panels are empty (an empty panel skips
its row query); here each panel holds rows, at two sizes, so a query per row in any panel (the
rejection panel once read the county settings once per case) fails, and the page stays within
its ceiling."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring.declarations import services as declaration_services
from monitoring.models import MonitoringCase, State
from tests import factories as f

# 3 (session, user, roles) + the county settings (counties, versions) + one grouped COUNT for
# every panel + the rows of every panel (their ids, then their cases: monitoring.selectors.
# inbox_rows) + the declarations (villages with their counts, rows).
INBOX_MAX = {"county": 10, "town": 10, "village": 10}
CASE_PAGE_MAX = 10


def _fill(world, n, start):
    """n households in village a1 (and n in a2) for each panel: waiting at each role's step,
    monitored without visit or plan for months, rejected and never told, declared."""
    w = world
    today = timezone.localdate()
    long_ago = today - datetime.timedelta(days=200)
    for index in range(start, start + n):
        for village in (w.village_a1, w.village_a2):
            for state in (State.REPORTED, State.TOWN_REVIEW, State.COUNTY_REVIEW, State.MONITORED, State.REJECTED):
                MonitoringCase.objects.create(
                    household=f.make_household(village, members=2),
                    state=state,
                    channel="cadre_visit",
                    discovered_on=long_ago,
                    reason="突发大病",
                    reported_by=w.village_cadre,
                    determined_on=long_ago if state == State.MONITORED else None,
                    ended_on=long_ago if state == State.REJECTED else None,
                )
            declaration_services.declaration_submit(
                client=f"192.0.2.{index}",
                village=village,
                name=f"申报人{index}",
                id_number=f.valid_id(
                    datetime.date(1970, 1, 1) + datetime.timedelta(days=index + 400 * (village == w.village_a2))
                ),
                phone="13912345678",
                situation="看病花钱多",
                rate_limited=False,
            )


def _inbox_queries(client):
    client.get("/inbox/")  # the first request of a process loads templates
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/inbox/")
    assert response.status_code == 200
    return response.content.decode(), len(captured.captured_queries)


@pytest.mark.django_db
def test_inbox_with_every_panel_full_stays_within_its_queries(world, client):
    w = world
    users = {"county": w.county_officer, "town": w.town_official, "village": w.village_cadre}
    _fill(world, 2, 0)
    small = {}
    for role, user in users.items():
        client.force_login(user)
        small[role] = _inbox_queries(client)[1]
    _fill(world, 10, 2)
    # Each panel the role sees holds rows (what is counted is the larger world's).
    panels = {
        "county": [
            "等待我办理的监测对象（24）",
            "走访超期的监测户（24）",
            "不予纳入超期未告知（24）",
            "待记录信息比对结果（24）",
            "帮扶计划超期的监测户（24）",
        ],
        "town": [
            "等待我办理的监测对象（24）",
            "走访超期的监测户（24）",
            "不予纳入超期未告知（24）",
            "待核实的农户自主申报（24 人）",
            "帮扶计划超期的监测户（24）",
        ],
        "village": [
            "等待我办理的监测对象（12）",
            "走访超期的监测户（12）",
            "待核实的农户自主申报（12 人）",
            "帮扶计划超期的监测户（12）",
        ],
    }
    for role, user in users.items():
        client.force_login(user)
        html, queries = _inbox_queries(client)
        for heading in panels[role]:
            assert heading in html, (role, heading)
        assert queries <= small[role], f"{role}: {small[role]} → {queries} queries as the panels grew"
        assert queries <= INBOX_MAX[role], f"{role}: {queries} queries (at most {INBOX_MAX[role]})"


@pytest.mark.django_db
def test_case_page_reads_members_incomes_and_comparisons_once(world, client):
    """The case page's head, size, incomes against the line and data-quality findings share
    one read of the members and incomes (one query: the household joined to both); the asset
    section reads no comparisons when none was recorded (no comparison event on the timeline)."""
    w = world
    today = timezone.localdate()
    case = MonitoringCase.objects.create(
        household=w.household_a1,
        state=State.COUNTY_REVIEW,
        channel="cadre_visit",
        discovered_on=today - datetime.timedelta(days=3),
        reason="突发大病",
        reported_by=w.village_cadre,
    )
    for year in (2023, 2024, 2025):
        f.make_income(w.household_a1, year=year, wage_income=1000 * year)
    client.force_login(w.county_officer)
    url = f"/cases/{case.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    members = [q for q in sql if '"households_member"' in q and "head_name" not in q]
    incomes = [q for q in sql if '"households_incomerecord"' in q]
    assert len(members) == 1 and members == incomes, sql
    assert not [q for q in sql if '"screening_assetcomparison"' in q], sql
    assert len(captured.captured_queries) <= CASE_PAGE_MAX
    assert "尚未记录信息比对结果" in response.content.decode()  # the determination's condition, still said
    # The incomes against the line: the three years, newest first.
    years = [line.year for line in response.context["income_lines"]]
    assert years == [2025, 2024, 2023]
