"""Finding 9 of issue 14: the transition schema and the validation agree. Bodies generated
from the schema's TransitionRequest for each step are answered with a documented code, and a
400 only ever names a field the step reads (the schema is shared by every step)."""

import datetime

import pytest
import time_machine
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from monitoring.forms import STEP_FORMS
from monitoring.models import State
from monitoring.serializers import TRANSITION_NAMES
from tests.monitoring.cases import T_ELIM, T_ELIM_REVIEW, T_REPORT, T_REVIEW, case_at

# step -> (state it starts from, who takes it, when)
STEPS = {
    "start_appraisal": (State.REPORTED, "village_cadre", T_REPORT),
    "publish_notice": (State.VILLAGE_APPRAISAL, "village_cadre", T_REPORT),
    "close_notice": (State.PUBLIC_NOTICE, "village_cadre", T_REVIEW),
    "town_approve": (State.TOWN_REVIEW, "town_official", T_REVIEW),
    "town_return": (State.TOWN_REVIEW, "town_official", T_REVIEW),
    "county_approve": (State.COUNTY_REVIEW, "county_officer", T_REVIEW),
    "county_return": (State.COUNTY_REVIEW, "county_officer", T_REVIEW),
    "propose_elimination": (State.MONITORED, "village_cadre", T_ELIM),
    "publish_elimination_notice": (State.ELIMINATION_APPRAISAL, "village_cadre", T_ELIM),
    "close_elimination_notice": (State.ELIMINATION_NOTICE, "village_cadre", T_ELIM_REVIEW),
    "town_accept_elimination": (State.ELIMINATION_TOWN_REVIEW, "town_official", T_ELIM_REVIEW),
    "county_approve_elimination": (State.ELIMINATION_COUNTY_REVIEW, "county_officer", T_ELIM_REVIEW),
    "elimination_return": (State.ELIMINATION_COUNTY_REVIEW, "county_officer", T_ELIM_REVIEW),
    "reject": (State.REPORTED, "village_cadre", T_REPORT),
    "withdraw": (State.REPORTED, "village_cadre", T_REPORT),
    "close": (State.MONITORED, "county_officer", T_ELIM),
}
DOCUMENTED = {200, 400, 403, 404, 409}


def test_every_transition_is_exercised():
    assert set(STEPS) == set(TRANSITION_NAMES)


def _request_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/cases/{id}/transitions/{name}/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][name], schema["components"]["schemas"]


def _strategy(prop, components):
    if "$ref" in prop:
        prop = components[prop["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in prop:
        return _strategy(prop["allOf"][0], components)
    if "oneOf" in prop:
        return st.one_of(*[_strategy(p, components) for p in prop["oneOf"]])
    if "enum" in prop:
        return st.sampled_from(prop["enum"])
    kind = prop.get("type")
    if kind == "array":
        return st.lists(_strategy(prop["items"], components), max_size=3)
    if kind == "integer":
        return st.integers(min_value=prop.get("minimum", -(2**31)), max_value=prop.get("maximum", 2**31))
    if kind == "boolean":
        return st.booleans()
    if prop.get("format") == "date":
        return st.dates(datetime.date(2025, 1, 1), datetime.date(2027, 12, 31)).map(str)
    return st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Cf"]), max_size=30)


def _bodies():
    schema, components = _request_schema()
    props = {
        name: _strategy(prop, components)
        for name, prop in schema["properties"].items()
        if prop.get("format") != "binary"  # files go by multipart, not in a JSON body
    }
    return st.fixed_dictionaries({}, optional=props)


@pytest.mark.parametrize("step", sorted(STEPS))
def test_bodies_generated_from_the_schema_get_documented_answers(world, step):
    state, actor, when = STEPS[step]
    case = case_at(world, state)
    client = APIClient()
    client.force_authenticate(getattr(world, actor))
    read = set(STEP_FORMS[step]().fields) | {"comment", "reason", "non_field_errors", "detail"}

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(body=_bodies())
    def check(body):
        with transaction.atomic(), time_machine.travel(when, tick=False):
            response = client.post(f"/api/cases/{case.pk}/transitions/{step}/", body, format="json")
            assert response.status_code in DOCUMENTED, (body, response.status_code, response.content[:300])
            if response.status_code == 400:
                named = set(response.json())
                assert named <= read, (body, response.json())
            transaction.set_rollback(True)

    check()


@pytest.mark.parametrize("step", sorted(STEPS))
def test_an_empty_list_for_secondary_risks_fits_every_step(world, step):
    state, actor, when = STEPS[step]
    case = case_at(world, state)
    client = APIClient()
    client.force_authenticate(getattr(world, actor))
    with time_machine.travel(when, tick=False):
        response = client.post(f"/api/cases/{case.pk}/transitions/{step}/", {"secondary_risks": []}, format="json")
    assert response.status_code in DOCUMENTED
    assert "secondary_risks" not in (response.json() if response.status_code == 400 else {})
