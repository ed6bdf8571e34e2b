"""seed_demo's self-declarations (issue 12): the demo village cadre finds one of each state."""

import pytest
from django.contrib.auth import get_user_model

from households import demo
from monitoring.declarations import demo as declarations_demo
from monitoring.declarations import selectors
from monitoring.models import Channel, Declaration

pytestmark = pytest.mark.django_db


def test_the_demo_village_has_declarations_in_every_state_and_a_reset_removes_them(settings):
    settings.FANPIN_DEMO_PASSWORD = "demo-pass-1"
    registry = demo.build_registry(households_per_village=5)
    made = declarations_demo.seed_declarations(county=registry.county, users=registry.users)
    assert made == Declaration.objects.count() == 6
    village = get_user_model().objects.get(username="village")
    assert set(Declaration.objects.values_list("state", flat=True)) == {"open", "closed", "case_started"}
    assert {"online", "hotline", "window", "wechat_group"} == set(Declaration.objects.values_list("source", flat=True))
    queue = list(selectors.queue(village))
    assert len(queue) == 3
    [grouped] = [d for d in queue if d.duplicate_count]  # the member who declared twice: one row
    assert grouped.duplicate_count == 1
    assert selectors.suggested_households(village, grouped)
    started = Declaration.objects.get(state="case_started")
    assert started.case.channel == Channel.SELF_DECLARED and started.case.discovered_on == started.declared_on
    assert not selectors.queue(get_user_model().objects.get(username="village_b")).exists()

    declarations_demo.wipe_declarations(registry.county)
    assert not Declaration.objects.exists()
