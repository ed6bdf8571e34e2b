"""The database connection dropped during a workflow step (issue 14, faults survived).

The test's own PostgreSQL connection (the one the request uses: the test client runs the view
in this thread) is ended with pg_terminate_backend from a second connection at a chosen
moment; PostgreSQL itself keeps running (it is shared: never restarted). The step happened
exactly once or not at all, and the answer says which, or says it cannot know and to look.
"""

import psycopg2
import pytest
import time_machine
from django.db import connection

from fanpin.middleware import NOT_SAVED_MESSAGE, UNCONFIRMED_MESSAGE
from monitoring import services
from monitoring.models import CaseEvent, MonitoringCase, State
from tests.monitoring.test_api import MAR_7, at_town_review, client_for

pytestmark = pytest.mark.postgres


def terminate_own_connection():
    """End this process's database session from another one, as a network cut or a server-side
    kill would: the next statement on it fails."""
    pid = connection.connection.get_backend_pid()
    db = connection.settings_dict
    other = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"] or None, port=db["PORT"] or None
    )
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
    finally:
        other.close()


@pytest.fixture
def case_at_town_review(world, transactional_db, postgres_only):
    case = at_town_review(world)
    assert case.state == State.TOWN_REVIEW
    return case


def approve(world, case):
    with time_machine.travel(MAR_7, tick=False):
        return client_for(world.town_official).post(
            f"/api/cases/{case.pk}/transitions/town_approve/", {"comment": "情况属实"}, format="json"
        )


def events(case, action="town_approve"):
    return CaseEvent.objects.filter(case=case, action=action).count()


def test_dropped_inside_the_step_nothing_is_saved_and_the_answer_says_so(world, case_at_town_review, monkeypatch):
    case = case_at_town_review
    audit = services._audit

    def drop_then_audit(*args, **kwargs):  # the state is changed and saved, the event not yet written
        terminate_own_connection()
        return audit(*args, **kwargs)

    monkeypatch.setattr(services, "_audit", drop_then_audit)
    response = approve(world, case)

    assert response.status_code == 503 and response["Retry-After"]
    assert response.json() == {"detail": NOT_SAVED_MESSAGE, "saved": False}
    assert MonitoringCase.objects.get(pk=case.pk).state == State.TOWN_REVIEW  # rolled back, all of it
    assert events(case) == 0
    monkeypatch.setattr(services, "_audit", audit)
    again = approve(world, case)  # the person does it again, as told
    assert again.status_code == 200 and again.json()["state"] == "county_review"
    assert events(case) == 1


def test_dropped_at_the_commit_the_answer_cannot_confirm_and_a_retry_takes_the_step_once(
    world, case_at_town_review, monkeypatch
):
    case = case_at_town_review
    audit = services._audit

    def audit_then_drop(*args, **kwargs):  # everything written; the connection ends before COMMIT
        result = audit(*args, **kwargs)
        terminate_own_connection()
        return result

    monkeypatch.setattr(services, "_audit", audit_then_drop)
    response = approve(world, case)

    assert response.status_code == 503
    assert response.json() == {"detail": UNCONFIRMED_MESSAGE, "saved": None}
    assert MonitoringCase.objects.get(pk=case.pk).state == State.TOWN_REVIEW  # the COMMIT never arrived
    assert events(case) == 0
    monkeypatch.setattr(services, "_audit", audit)
    assert client_for(world.town_official).get(f"/api/cases/{case.pk}/").json()["state"] == "town_review"
    assert approve(world, case).status_code == 200
    assert events(case) == 1


def test_dropped_after_the_commit_the_step_is_kept_once_and_a_retry_is_refused(world, case_at_town_review, monkeypatch):
    case = case_at_town_review
    transition = services.case_transition

    def commit_then_drop(**kwargs):  # committed; the answer is built on a dead connection
        result = transition(**kwargs)
        terminate_own_connection()
        return result

    monkeypatch.setattr(services, "case_transition", commit_then_drop)
    response = approve(world, case)

    assert response.status_code == 503
    assert response.json() == {"detail": UNCONFIRMED_MESSAGE, "saved": None}
    assert MonitoringCase.objects.get(pk=case.pk).state == State.COUNTY_REVIEW  # it happened
    assert events(case) == 1
    monkeypatch.setattr(services, "case_transition", transition)
    again = approve(world, case)  # the person was told to look; if they submit again anyway:
    assert again.status_code == 409 and "不能执行" in again.json()["detail"]
    assert events(case) == 1  # exactly once


def test_a_page_step_whose_connection_drops_says_on_the_page_that_nothing_was_saved(
    client, world, case_at_town_review, monkeypatch
):
    case = case_at_town_review
    audit = services._audit

    def drop_then_audit(*args, **kwargs):
        terminate_own_connection()
        return audit(*args, **kwargs)

    monkeypatch.setattr(services, "_audit", drop_then_audit)
    client.force_login(world.town_official)
    with time_machine.travel(MAR_7, tick=False):
        response = client.post(
            f"/cases/{case.pk}/actions/town_approve/",
            {"comment": "情况属实"},
            HTTP_REFERER=f"http://testserver/cases/{case.pk}/",
        )

    assert response.status_code == 503
    page = response.content.decode()
    assert "没有保存" in page and NOT_SAVED_MESSAGE in page and f'href="http://testserver/cases/{case.pk}/"' in page
    assert MonitoringCase.objects.get(pk=case.pk).state == State.TOWN_REVIEW
    assert events(case) == 0
