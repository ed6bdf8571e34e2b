"""Who may take each transition (DOMAIN.md §3 table), for every role: allowed, forbidden in
scope (PermissionDenied → 403) or out of scope (Http404 → 404, the case's existence is not
revealed). The administrator sees everything but takes no part in the workflow."""

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from monitoring import selectors, services
from monitoring.models import CaseEvent, MonitoringCase, State
from tests.monitoring.cases import STEP_DATA, T_LATE, add_users, case_at, dissolve, make_eligible, step_files

pytestmark = pytest.mark.django_db

ROLES = [
    "village_cadre",  # cadre of the household's village
    "village_cadre_b",  # cadre of a village in the other town
    "town_official",  # official of the household's town
    "town_official_b",  # official of the other town
    "county_officer",
    "other_county_officer",  # officer of the neighbouring county
    "department_staff",
    "admin",
    "contact",  # the case's contact person, no area role
    "nobody",
]
OUT_OF_SCOPE = {"village_cadre_b", "town_official_b", "other_county_officer", "department_staff", "nobody"}

VILLAGE, TOWN, COUNTY, CONTACT = "village_cadre", "town_official", "county_officer", "contact"

# (transition, from state, roles allowed, state reached)
MATRIX = [
    ("start_appraisal", State.REPORTED, {VILLAGE}, State.VILLAGE_APPRAISAL),
    ("publish_notice", State.VILLAGE_APPRAISAL, {VILLAGE}, State.PUBLIC_NOTICE),
    ("close_notice", State.PUBLIC_NOTICE, {VILLAGE}, State.TOWN_REVIEW),
    ("town_approve", State.TOWN_REVIEW, {TOWN}, State.COUNTY_REVIEW),
    ("town_return", State.TOWN_REVIEW, {TOWN}, State.VILLAGE_APPRAISAL),
    ("county_approve", State.COUNTY_REVIEW, {COUNTY}, State.MONITORED),
    ("county_return", State.COUNTY_REVIEW, {COUNTY}, State.TOWN_REVIEW),
    ("propose_elimination", State.MONITORED, {VILLAGE, CONTACT}, State.ELIMINATION_APPRAISAL),
    ("close", State.MONITORED, {COUNTY}, State.CLOSED),
    ("publish_elimination_notice", State.ELIMINATION_APPRAISAL, {VILLAGE}, State.ELIMINATION_NOTICE),
    ("close_elimination_notice", State.ELIMINATION_NOTICE, {VILLAGE}, State.ELIMINATION_TOWN_REVIEW),
    ("town_accept_elimination", State.ELIMINATION_TOWN_REVIEW, {TOWN}, State.ELIMINATION_COUNTY_REVIEW),
    ("county_approve_elimination", State.ELIMINATION_COUNTY_REVIEW, {COUNTY}, State.ELIMINATED),
    ("elimination_return", State.ELIMINATION_APPRAISAL, {VILLAGE, CONTACT}, State.MONITORED),
    ("elimination_return", State.ELIMINATION_NOTICE, {VILLAGE}, State.MONITORED),
    ("elimination_return", State.ELIMINATION_TOWN_REVIEW, {TOWN}, State.MONITORED),
    ("elimination_return", State.ELIMINATION_COUNTY_REVIEW, {COUNTY}, State.MONITORED),
    ("reject", State.REPORTED, {VILLAGE}, State.REJECTED),
    ("reject", State.VILLAGE_APPRAISAL, {VILLAGE}, State.REJECTED),
    ("reject", State.PUBLIC_NOTICE, {VILLAGE}, State.REJECTED),
    ("reject", State.TOWN_REVIEW, {TOWN}, State.REJECTED),
    ("reject", State.COUNTY_REVIEW, {COUNTY}, State.REJECTED),
    ("withdraw", State.REPORTED, {VILLAGE}, State.WITHDRAWN),
    ("withdraw", State.VILLAGE_APPRAISAL, {VILLAGE}, State.WITHDRAWN),
    ("withdraw", State.PUBLIC_NOTICE, {VILLAGE}, State.WITHDRAWN),
    ("withdraw", State.TOWN_REVIEW, {VILLAGE}, State.WITHDRAWN),
    ("withdraw", State.COUNTY_REVIEW, {VILLAGE}, State.WITHDRAWN),
]


def expected(role, allowed):
    if role in allowed:
        return "allowed"
    return "404" if role in OUT_OF_SCOPE else "403"


class RollBack(Exception):
    """Undo one role's attempt so the next role meets the case in the same state."""


def attempt(case, user, name):
    """What happens when `user` takes step `name`: "allowed", "403", "404" or another error;
    whatever it was, the database is left as it was."""
    before = CaseEvent.objects.filter(case=case).count()
    try:
        with transaction.atomic():
            try:
                moved = services.case_transition(
                    user=user, case_id=case.pk, name=name, data=dict(STEP_DATA[name]), files=step_files(name)
                )
            except Http404:
                outcome = "404"
            except PermissionDenied:
                outcome = "403"
            except Exception as exc:  # noqa: BLE001 - reported as the outcome, so the test says which
                outcome = f"{type(exc).__name__}: {exc}"
            else:
                event = CaseEvent.objects.filter(case=case).latest("id")
                outcome = "allowed" if (event.actor, event.action) == (user, name) else "no audit row"
                outcome = (outcome, moved.state)
            if outcome[0] != "allowed" and CaseEvent.objects.filter(case=case).count() != before:
                outcome = "refused but recorded an event"
            raise RollBack
    except RollBack:
        pass
    return outcome


@pytest.mark.parametrize(
    "name, state, allowed, target", [pytest.param(*row, id=f"{row[0]}-from-{row[1]}") for row in MATRIX]
)
def test_transition_is_allowed_only_for_the_role_acting_at_that_step(world, name, state, allowed, target):
    """Each role in turn, every attempt rolled back: allowed → the target state and an audit
    row by that user; in scope but another role → 403; out of scope → 404; and the page's
    and the API's list of offered actions agrees."""
    w = add_users(world)
    case = case_at(w, state, contact_person=w.contact)
    if state == State.MONITORED:
        make_eligible(w, case)
    if name == "close":
        dissolve(case.household)  # 自然减少 needs the household dissolved (issue 7 point 3)

    got, want = {}, {}
    with time_machine.travel(T_LATE, tick=False):
        for role in ROLES:
            user = getattr(w, role)
            want[role] = ("allowed", target) if role in allowed else expected(role, allowed)
            got[role] = attempt(case, user, name)
            offered = name in services.available_transitions(MonitoringCase.objects.get(pk=case.pk), user)
            if offered != (role in allowed):
                got[role] = f"offered={offered}"
    assert got == want
    assert MonitoringCase.objects.get(pk=case.pk).state == state


def test_every_transition_of_the_model_is_covered_by_the_matrix():
    names = {t.name for t in MonitoringCase._meta.get_field("state").get_all_transitions(MonitoringCase)}
    # Internal transitions, taken only by their own services: an upheld objection's return, and the
    # re-check request's reopening (tests/monitoring/test_rejections.py covers who may record it).
    assert names - {"return_for_recheck", "reopen_for_recheck"} == {name for name, *_ in MATRIX}


@pytest.mark.parametrize(
    "role, outcome",
    [
        ("village_cadre", "visible"),
        ("town_official", "visible"),
        ("county_officer", "visible"),
        ("admin", "visible"),
        ("contact", "visible"),
        ("village_cadre_b", "404"),
        ("town_official_b", "404"),
        ("other_county_officer", "404"),
        ("department_staff", "404"),
        ("nobody", "404"),
    ],
)
def test_case_is_visible_exactly_to_users_in_scope(world, role, outcome):
    w = add_users(world)
    case = case_at(w, State.REPORTED, contact_person=w.contact)
    user = getattr(w, role)
    if outcome == "visible":
        assert selectors.case_for(user, case.pk) == case
        assert list(selectors.cases_visible_to(user)) == [case]
    else:
        with pytest.raises(Http404):
            selectors.case_for(user, case.pk)
        assert not selectors.cases_visible_to(user).exists()


def test_anonymous_user_sees_no_case_and_cannot_act(world):
    from django.contrib.auth.models import AnonymousUser

    case = case_at(world, State.REPORTED)
    assert not selectors.cases_visible_to(AnonymousUser()).exists()
    with pytest.raises(Http404):
        services.case_transition(user=AnonymousUser(), case_id=case.pk, name="withdraw", data={"comment": "x"})


def test_an_unknown_case_id_is_404(world):
    with pytest.raises(Http404):
        services.case_transition(user=world.village_cadre, case_id=999999, name="withdraw", data={"comment": "x"})
    with pytest.raises(Http404):
        services.case_transition(user=world.village_cadre, case_id="abc", name="withdraw", data={"comment": "x"})


def test_actions_for_explains_why_an_offered_step_is_not_yet_possible(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    import datetime

    from tests.monitoring.cases import CST

    with time_machine.travel(datetime.datetime(2026, 3, 4, 10, tzinfo=CST), tick=False):
        actions = {a.name: a for a in services.actions_for(case, w.village_cadre)}
    assert set(actions) == {"close_notice", "reject", "withdraw"}
    assert not actions["close_notice"].enabled
    assert actions["close_notice"].reasons == ["公示期未满：公示至 2026-03-06，期满后才能进入下一步。"]
    assert actions["reject"].enabled and actions["withdraw"].enabled
    assert services.actions_for(case, w.town_official) == []
    assert services.actions_for(case, w.admin) == []
