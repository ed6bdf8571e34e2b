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


@pytest.mark.django_db
def test_tiers_counted_and_selected_by_dates_are_the_tiers_computed_in_sql(world):
    """counts() works the tier out per group of stored columns and tier_q() selects a tier by
    comparisons of days: both agree with with_tier's rank for every severity, state, tier
    frozen at verification and age, in a county with its own escalation days and one without."""
    from django.utils import timezone

    from screening.models import WarningSettings

    w = world
    today = timezone.localdate()
    WarningSettings.objects.create(
        county=w.county, effective_from=today - datetime.timedelta(days=400), tier_escalate_days=5
    )
    index = 0
    for village in (w.village_a1, w.other_village):
        household = f.make_household(village, members=1)
        for severity in ("yellow", "orange", "red"):
            for state in ("new", "dispatched", "included", "excluded"):
                for verified_tier in ("", "yellow", "red"):
                    for age in (0, 4, 5, 9, 10, 14, 15, 30):
                        index += 1
                        RiskWarning.objects.create(
                            county=village.parent.parent,
                            town=village.parent,
                            village=village,
                            household=household,
                            risk_type="illness",
                            period=datetime.date(1900 + index // 12, index % 12 + 1, 1),
                            rule="x",
                            department=w.department.kind,
                            severity=severity,
                            figure="x",
                            state=state,
                            verified_tier=verified_tier,
                            verified_at=timezone.now() if state in ("included", "excluded") else None,
                            raised_on=today - datetime.timedelta(days=age),
                        )
    everything = RiskWarning.objects.all()
    in_sql = dict(warning_selectors.with_tier(everything).values_list("pk", "tier"))
    expected = {tier: sum(1 for t in in_sql.values() if t == tier) for tier in ("yellow", "orange", "red")}
    assert all(expected.values())  # every tier is there
    assert warning_selectors.counts(everything)["tier"] == expected
    for tier in ("yellow", "orange", "red"):
        selected = set(everything.filter(warning_selectors.tier_q(tier)).values_list("pk", flat=True))
        assert selected == {pk for pk, t in in_sql.items() if t == tier}, tier
