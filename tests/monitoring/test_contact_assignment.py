"""Assigning a case's contact person (帮扶联系人): by a cadre of its place, from the pool, audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from monitoring import services
from monitoring.models import CaseEvent, State
from tests.monitoring.cases import add_users, case_at


@pytest.fixture
def w(world):
    add_users(world)
    world.case = case_at(world, State.MONITORED)
    return world


def test_village_cadre_assigns_a_contact_person_and_the_timeline_says_who_before_and_after(w):
    services.case_contact_person_set(user=w.village_cadre, case_id=w.case.pk, contact_person=w.contact)
    w.case.refresh_from_db()
    assert w.case.contact_person == w.contact
    event = CaseEvent.objects.get(case=w.case, action="contact_person_set")
    assert (event.label, event.comment, event.actor) == ("指定帮扶联系人", "（未指定） → contact", w.village_cadre)
    assert event.payload == {"before": None, "after": w.contact.pk}


def test_someone_of_another_county_cannot_be_assigned(w):
    with pytest.raises(ValidationError):
        services.case_contact_person_set(user=w.village_cadre, case_id=w.case.pk, contact_person=w.other_county_officer)


def test_only_cadres_of_the_place_assign(w):
    with pytest.raises(Http404):
        services.case_contact_person_set(user=w.village_cadre_b, case_id=w.case.pk, contact_person=w.contact)
    services.case_contact_person_set(user=w.village_cadre, case_id=w.case.pk, contact_person=w.contact)
    with pytest.raises(PermissionDenied):
        services.case_contact_person_set(user=w.contact, case_id=w.case.pk, contact_person=w.contact)
