"""The demo's plans (issue 8): every monitored demo case has a realistic plan, some complete
enough to eliminate and some not, and the demo contact persons have their own work lists."""

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction

from assistance import selectors
from assistance.models import Measure
from fanpin import demo
from monitoring.models import ELIMINATION_STATES, CaseEvent, MonitoringCase, State


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        logins = demo.build_demo(households_per_village=25, password="demo-pass")
        yield logins
        transaction.set_rollback(True)


def test_every_monitored_case_has_a_plan_with_its_history(seeded, db):
    cases = MonitoringCase.objects.filter(state__in=[State.MONITORED, *ELIMINATION_STATES, State.ELIMINATED])
    assert cases.count() >= 10
    for case in cases:
        measures = list(case.measures.all())
        assert measures, case.pk
        for measure in measures:
            assert measure.progress.exists()
        assert CaseEvent.objects.filter(case=case, action="measure_added").count() == len(measures)
        # Dated in the past and in order: the plan is made after the determination.
        added = CaseEvent.objects.filter(case=case, action="measure_added").order_by("at").first()
        assert added.at.date() >= case.determined_on


def test_some_monitored_plans_are_complete_enough_to_eliminate_and_some_are_not(seeded, db):
    measure_met = []
    for case in MonitoringCase.objects.filter(state=State.MONITORED):
        criterion = next(c for c in case.elimination_criteria() if c.code == "measures")
        measure_met.append(criterion.met)
    assert True in measure_met and False in measure_met
    eliminable = [
        c for c in MonitoringCase.objects.filter(state=State.MONITORED) if all(x.met for x in c.elimination_criteria())
    ]
    assert eliminable
    warnings = {
        w.code for c in MonitoringCase.objects.filter(state=State.MONITORED) for w in selectors.plan_for(c).warnings
    }
    assert "developmental_missing" in warnings
    assert Measure.objects.filter(status=Measure.Status.STOPPED).exclude(stop_reason="").exists()


def test_a_measure_continues_after_elimination_somewhere(seeded, db):
    eliminated = MonitoringCase.objects.filter(state=State.ELIMINATED)
    assert any(selectors.continuing_measures(c) for c in eliminated)


def test_demo_contact_persons_sign_in_and_have_their_own_work_lists(seeded, db):
    rows = {login.username: login for login in seeded}
    for username in ("helper", "helper_b"):
        assert rows[username].role == "帮扶联系人"
        user = get_user_model().objects.get(username=username)
        assert user.has_usable_password()
        mine = selectors.my_assistance(user)
        assert mine, username
        assert all(c.case.contact_person_id == user.pk for c in mine)
    helper = get_user_model().objects.get(username="helper")
    assert {c.case.state for c in selectors.my_assistance(helper)} == {State.MONITORED}


def test_seed_demo_prints_the_contact_persons_logins(settings, db):
    settings.FANPIN_DEMO_PASSWORD = "demo-pass-2"
    out = io.StringIO()
    call_command("seed_demo", "--households-per-village", "3", stdout=out)
    printed = out.getvalue()
    assert "helper " in printed and "helper_b" in printed and "帮扶联系人" in printed
    assert authenticate(username="helper_b", password="demo-pass-2") is not None
