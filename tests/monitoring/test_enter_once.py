"""Enter each fact once (issue 12 point 8; DOMAIN.md §8): a case reported after a visit starts
from what the visit found, and the visit is the case's home check, as with 据此申报 on the visit
form. (The visit form starts from the household's last state, the income form from last
year's figures, a declaration's case from its facts: tests in test_visits.py,
tests/households and test_declarations.py.)"""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from monitoring import services
from monitoring.models import MonitoringCase
from tests import factories as f

pytestmark = pytest.mark.django_db


def _visit(world, **extra):
    data = {
        "visited_on": timezone.localdate() - datetime.timedelta(days=2),
        "visitors": "张三、李四",
        "findings": "户主住院，医疗费用大",
        "new_risks": ["illness", "disability"],
        "housing_secure": True,
    }
    data.update(extra)
    return services.visit_create(user=world.village_cadre, household=world.household_a1, **data)


def _cadre(world):
    client = Client()
    client.force_login(world.village_cadre)
    return client


def test_the_report_form_starts_from_the_last_visit(world):
    visit = _visit(world)
    page = _cadre(world).get(f"/cases/new/?household={world.household_a1.pk}")
    form = page.context["form"]
    assert form["reason"].value() == "户主住院，医疗费用大"
    assert form["discovered_on"].value() == visit.visited_on
    assert form["primary_risk"].value() == "illness" and form["secondary_risks"].value() == ["disability"]
    assert form["channel"].value() == "cadre_visit"
    text = page.content.decode()
    assert f'name="visit" value="{visit.pk}"' in text and "已带入" in text


def test_reporting_as_filled_makes_the_visit_the_home_check_and_the_first_visit(world):
    visit = _visit(world)
    client = _cadre(world)
    form = client.get(f"/cases/new/?household={world.household_a1.pk}").context["form"]
    data = {name: form[name].value() for name in ("household", "channel", "discovered_on", "reason", "primary_risk")}
    data["secondary_risks"] = form["secondary_risks"].value()
    data["visit"] = str(visit.pk)
    answer = client.post("/cases/new/", data)
    assert answer.status_code == 302
    case = MonitoringCase.objects.get()
    assert case.reason == visit.findings and case.discovered_on == visit.visited_on
    assert case.primary_risk == "illness" and case.secondary_risks == ["disability"]
    visit.refresh_from_db()
    assert visit.case == case
    # The start_appraisal step starts from the visit: nobody types the home check again.
    page = client.get(f"/cases/{case.pk}/actions/start_appraisal/")
    step = page.context["form"]
    assert step["home_check_on"].value() == visit.visited_on and step["home_checkers"].value() == "张三、李四"


def test_no_visit_or_a_visit_already_in_a_case_leaves_the_form_as_before(world):
    page = _cadre(world).get(f"/cases/new/?household={world.household_a1.pk}")
    assert not page.context["form"]["reason"].value() and 'name="visit"' not in page.content.decode()
    _visit(world, findings="", new_risks=[])  # a visit that found nothing
    page = _cadre(world).get(f"/cases/new/?household={world.household_a1.pk}")
    assert 'name="visit"' not in page.content.decode()


def test_a_visit_out_of_scope_is_not_found_and_a_visit_decides_the_household(world):
    visit = _visit(world)
    today = timezone.localdate()
    other = services.visit_create(
        user=world.village_cadre_b, household=world.household_b1, visitors="王五", findings="房屋漏雨", visited_on=today
    )
    client = _cadre(world)
    base = {"channel": "cadre_visit", "discovered_on": visit.visited_on.isoformat(), "reason": "x"}
    answer = client.post("/cases/new/", {**base, "household": world.household_a1.pk, "visit": other.pk})
    assert answer.status_code == 404 and not MonitoringCase.objects.exists()
    # A visit of another household in scope reports that household (the visit decides).
    neighbour = f.make_household(world.village_a1, members=1)
    theirs = services.visit_create(
        user=world.village_cadre, household=neighbour, visitors="赵", findings="病", visited_on=today
    )
    answer = client.post("/cases/new/", {**base, "household": world.household_a1.pk, "visit": theirs.pk})
    assert answer.status_code == 302
    assert list(MonitoringCase.objects.values_list("household", flat=True)) == [neighbour.pk]
