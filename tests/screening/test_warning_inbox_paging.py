"""The warnings inbox reads a page in two steps (its ids sorted on the warnings alone, then
those rows) and, unfiltered, takes its total from the counts by state (issue 15): the order,
the rows and the numbers stay those of the one-query list."""

import datetime

import pytest

from screening import warning_selectors
from screening.models import RiskWarning
from tests import factories as f


def _warnings(world, n):
    w = world
    for index in range(n):
        household = f.make_household(w.village_a1 if index % 3 else w.village_a2, members=1)
        RiskWarning.objects.create(
            county=w.county,
            town=household.village.parent,
            village=household.village,
            household=household,
            risk_type="illness",
            period=datetime.date(2026, 1, 1),
            rule="x",
            department=w.department.kind,
            severity=("yellow", "orange", "red")[index % 3],
            figure="x",
            raised_on=datetime.date.today() - datetime.timedelta(days=index % 17),
        )


@pytest.mark.django_db
def test_warning_pages_keep_the_order_and_the_total(world, client):
    _warnings(world, 70)
    client.force_login(world.county_officer)
    expected = list(warning_selectors.inbox(world.county_officer).values_list("pk", flat=True))
    assert len(expected) == 70
    seen = []
    for number in (1, 2, 3):
        page = client.get("/screening/warnings/", {"page": number}).context["page"]
        assert page.paginator.count == 70
        seen += [warning.pk for warning in page.object_list]
        for warning in page.object_list:
            assert warning.tier in ("yellow", "orange", "red") and warning.village.name
    assert seen == expected
    red = client.get("/screening/warnings/", {"tier": "red"}).context["page"]
    assert red.paginator.count == warning_selectors.inbox(world.county_officer).filter(tier="red").count() > 0
