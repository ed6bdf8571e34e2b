"""Reporting a case without a 50-entry dropdown (issue 13 points 4 and 5): the household is found
by name, number or ID fragment within the cadre's villages, households with an open case are
set apart and said to be, and a visit just saved offers 据此申报 with the visit carried."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from monitoring import selectors, services
from monitoring.models import MonitoringCase, Visit
from tests import factories as f
from tests.monitoring.cases import T_REPORT, report

pytestmark = pytest.mark.django_db


def text(response):
    return response.content.decode()


def test_the_picker_finds_by_name_number_or_id_fragment_within_the_cadres_villages(client, world):
    w = world
    head = w.household_a1.members.get(relation="head")
    client.force_login(w.village_cadre)
    url = reverse("monitoring:case-create")
    for term in (head.name, w.household_a1.number[-6:], head.id_number[6:14]):
        page = text(client.get(url, {"q": term}))
        assert f"?household={w.household_a1.pk}" in page, term
    # Another village's household is never offered, whatever the search.
    b_head = w.household_b1.members.get(relation="head")
    assert w.household_b1.number not in text(client.get(url, {"q": b_head.name}))
    # The first visit shows the search only, not a dropdown of every household.
    first = text(client.get(url))
    assert "<select" not in first.split("查找农户")[1].split("</form>")[0]


def test_households_with_an_open_case_are_left_out_and_the_page_says_so(client, world):
    w = world
    case = report(w)
    client.force_login(w.village_cadre)
    page = text(client.get(reverse("monitoring:case-create"), {"q": w.household_a1.number}))
    assert "已有进行中的监测对象，不能重复申报" in page
    assert f"?household={w.household_a1.pk}" not in page
    assert reverse("monitoring:case-detail", args=[case.pk]) in page


def test_the_picker_reads_a_limited_number_of_rows(world):
    w = world
    # Numbers sharing a part of their own (factory numbers run on across tests and decades).
    for n in range(selectors.PICKER_LIMIT + 3):
        f.make_household(w.village_a1, members=1, number=f"PICK{n:03d}")
    pick = selectors.household_pick(w.village_cadre, "PICK")
    assert len(pick.choosable) == selectors.PICKER_LIMIT and pick.more
    assert selectors.household_pick(w.village_cadre, "   ").choosable == []


def test_a_saved_visit_offers_to_report_and_the_report_carries_the_visit(client, world):
    w = world
    client.force_login(w.village_cadre)
    with time_machine.travel(T_REPORT, tick=False):
        visit = services.visit_create(
            user=w.village_cadre,
            household=w.household_a1,
            visited_on=datetime.date(2026, 3, 1),
            visitors="张三、李四",
            findings="户主住院，花费大",
            new_risks=["illness", "labour"],
            medical_secure=False,
        )
        listing = text(client.get(reverse("monitoring:visit-list", args=[w.household_a1.pk]), {"saved": visit.pk}))
        link = f"{reverse('monitoring:case-create')}?visit={visit.pk}"
        assert "据此申报" in listing and link in listing
        form = text(client.get(link))
        assert "户主住院，花费大" in form and 'value="2026-03-01"' in form and "已带入" in form
        response = client.post(
            reverse("monitoring:case-create"),
            {
                "visit": visit.pk,
                "household": w.household_a1.pk,
                "channel": "cadre_visit",
                "discovered_on": "2026-03-01",
                "reason": "户主住院，花费大",
                "primary_risk": "illness",
                "secondary_risks": ["labour"],
            },
        )
    case = MonitoringCase.objects.get(household=w.household_a1)
    assert response.status_code == 302 and response["Location"] == reverse("monitoring:case-detail", args=[case.pk])
    visit.refresh_from_db()
    assert visit.case == case
    assert case.home_check_on == datetime.date(2026, 3, 1) and case.home_checkers == "张三、李四"
    assert case.secondary_risks == ["labour"]
    # The visit now belongs to the case: it cannot start a second report.
    assert client.get(link).status_code == 404
    assert Visit.objects.filter(case=case).count() == 1


def test_no_report_is_offered_for_a_household_that_already_has_a_case(client, world):
    w = world
    report(w)
    client.force_login(w.village_cadre)
    with time_machine.travel(T_REPORT, tick=False):
        visit = services.visit_create(
            user=w.village_cadre, household=w.household_a1, visited_on=datetime.date(2026, 3, 2), visitors="张三、李四"
        )
    listing = text(client.get(reverse("monitoring:visit-list", args=[w.household_a1.pk]), {"saved": visit.pk}))
    assert "据此申报" not in listing and "查看监测对象" in listing
