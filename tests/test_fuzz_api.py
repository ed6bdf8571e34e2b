"""Fuzzing in CI (issue 14 "What to build" item 3): schemathesis generates requests from
/api/schema/ for every operation and sends them as a village cadre, a town official and a
county officer. Any 5xx, an undocumented status code, content type or a body that does not
fit the documented schema fails. Bounded (FUZZ_EXAMPLES per operation and role, default 3)
so it stays at a couple of minutes on two cores; FUZZ_EXAMPLES=50 for a deeper local run."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test.utils import override_settings
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fanpin.wsgi import application

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

with override_settings(ALLOWED_HOSTS=["localhost"]):  # schemathesis' WSGI client says Host: localhost
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Django closes the database connection when a request starts and ends; its test client
    disconnects that, but schemathesis calls the WSGI application directly. Without this the
    first request closes the connection holding the test's transaction (PostgreSQL: every
    later query answers 500 "connection already closed")."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(world, settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    return {
        "village": Token.objects.create(user=world.village_cadre).key,
        "town": Token.objects.create(user=world.town_official).key,
        "county": Token.objects.create(user=world.county_officer).key,
    }


@pytest.mark.parametrize("role", ["village", "town", "county"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[
        Phase.generate
    ],  # explicit would add schemathesis' coverage phase: every case the schema defines, minutes per operation
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, role, tokens):
    case.call_and_validate(headers={"Authorization": f"Token {tokens[role]}"}, checks=CHECKS)
