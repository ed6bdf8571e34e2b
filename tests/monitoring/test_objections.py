"""Objections (异议) during a public notice (issue 3 item 4; DOMAIN.md §3): recorded with who
raised them and what they say; upheld → the case goes back for re-check; dismissed → noted and
the notice may close; every step audited."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from monitoring import services
from monitoring.forms import ObjectionResolveForm
from monitoring.models import CaseEvent, MonitoringCase, Objection, State
from tests import factories as f
from tests.monitoring.cases import APPRAISAL, T_ELIM, T_LATE, T_REPORT, T_REVIEW, add_users, case_at

pytestmark = pytest.mark.django_db


def record(user, case, when=T_REPORT, **data):
    data = {"raised_by": "村民王五", "raised_on": when.date(), "content": "该户家中有小轿车一辆", **data}
    with time_machine.travel(when, tick=False):
        return services.objection_record(user=user, case_id=case.pk, **data)


def resolve(user, objection, upheld, resolution="经核实，车辆为其亲戚所有", when=T_REPORT):
    with time_machine.travel(when, tick=False):
        return services.objection_resolve(user=user, objection_id=objection.pk, upheld=upheld, resolution=resolution)


def close_notice(w, case, when=T_REVIEW):
    with time_machine.travel(when, tick=False):
        return services.case_transition(user=w.village_cadre, case_id=case.pk, name="close_notice", data={})


def test_objection_is_recorded_with_who_raised_it_and_audited(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    objection = record(w.village_cadre, case)
    assert (objection.raised_by, objection.content, objection.status) == ("村民王五", "该户家中有小轿车一辆", "open")
    assert objection.notice == State.PUBLIC_NOTICE and objection.recorded_by == w.village_cadre
    event = CaseEvent.objects.get(case=case, action="objection_recorded")
    assert (event.actor, event.comment, event.payload) == (
        w.village_cadre,
        "该户家中有小轿车一辆",
        {"objection": objection.pk, "raised_by": "村民王五"},
    )
    assert event.from_state == event.to_state == State.PUBLIC_NOTICE


def test_town_official_may_record_an_objection_too(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    assert record(w.town_official, case, raised_by="匿名").recorded_by == w.town_official


def test_who_may_not_record_an_objection(world):
    w = add_users(world)
    case = case_at(w, State.PUBLIC_NOTICE, contact_person=w.contact)
    for user in (w.county_officer, w.admin, w.contact):
        with pytest.raises(PermissionDenied):
            record(user, case)
    for user in (w.village_cadre_b, w.town_official_b, w.department_staff, w.nobody):
        with pytest.raises(Http404):
            record(user, case)
    assert not Objection.objects.exists()


@pytest.mark.parametrize("state", [State.VILLAGE_APPRAISAL, State.TOWN_REVIEW, State.MONITORED])
def test_objection_outside_a_notice_is_a_conflict(world, state):
    case = case_at(world, state)
    with pytest.raises(services.Conflict) as exc:
        record(world.village_cadre, case, when=T_LATE)
    assert exc.value.message.startswith("只有在公示期间才能登记异议")


def test_objection_needs_content_and_a_date_not_in_the_future(world):
    case = case_at(world, State.PUBLIC_NOTICE)
    with pytest.raises(ValidationError) as exc:
        record(world.village_cadre, case, content="", raised_by="")
    assert {"content", "raised_by"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        record(world.village_cadre, case, raised_on=datetime.date(2026, 3, 3))
    assert exc.value.message_dict == {"raised_on": ["提出日期不能晚于今天。"]}
    assert not Objection.objects.exists()


def test_dismissed_objection_is_noted_and_the_notice_may_close(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    objection = record(w.village_cadre, case)
    with pytest.raises(services.Conflict):
        close_notice(w, case)
    resolve(w.town_official, objection, upheld=False)
    objection.refresh_from_db()
    assert objection.status == Objection.Status.DISMISSED
    assert (objection.resolved_by, objection.resolution) == (w.town_official, "经核实，车辆为其亲戚所有")
    assert MonitoringCase.objects.get(pk=case.pk).state == State.PUBLIC_NOTICE
    event = CaseEvent.objects.get(case=case, action="objection_resolved")
    assert event.label == "异议处理：异议不成立" and event.payload == {"objection": objection.pk, "upheld": False}
    assert close_notice(w, case).state == State.TOWN_REVIEW


def test_upheld_objection_sends_the_case_back_for_re_check(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    objection = record(w.village_cadre, case)
    resolve(w.village_cadre, objection, upheld=True, resolution="该户确有车辆，需重新核实收入")
    case = MonitoringCase.objects.get(pk=case.pk)
    assert case.state == State.VILLAGE_APPRAISAL
    assert case.notice_start is None and case.notice_end is None and case.appraisal_result == ""
    events = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("action", "from_state", "to_state"))
    assert events[-2:] == [
        ("objection_resolved", State.PUBLIC_NOTICE, State.PUBLIC_NOTICE),
        ("return_for_recheck", State.PUBLIC_NOTICE, State.VILLAGE_APPRAISAL),
    ]
    assert (
        CaseEvent.objects.get(case=case, action="return_for_recheck").comment
        == "异议成立：该户确有车辆，需重新核实收入"
    )
    # A fresh appraisal and notice follow.
    with time_machine.travel(T_REVIEW, tick=False):
        case = services.case_transition(
            user=w.village_cadre,
            case_id=case.pk,
            name="publish_notice",
            data={**APPRAISAL, "appraisal_on": "2026-03-09", "notice_start": "2026-03-09"},
        )
    assert case.state == State.PUBLIC_NOTICE and case.notice_end == datetime.date(2026, 3, 13)


def test_upheld_objection_during_the_elimination_notice_returns_to_monitoring(world):
    w = world
    case = case_at(w, State.ELIMINATION_NOTICE)
    objection = record(w.village_cadre, case, when=T_ELIM, content="该户户主仍在住院")
    assert objection.notice == State.ELIMINATION_NOTICE
    with time_machine.travel(T_LATE, tick=False), pytest.raises(services.Conflict) as exc:
        services.case_transition(user=w.village_cadre, case_id=case.pk, name="close_elimination_notice", data={})
    assert exc.value.reasons == ["还有 1 条异议未处理，处理完毕后才能结束公示。"]
    resolve(w.town_official, objection, upheld=True, resolution="属实，继续帮扶", when=T_LATE)
    case = MonitoringCase.objects.get(pk=case.pk)
    assert case.state == State.MONITORED and case.elimination_notice_end is None
    assert CaseEvent.objects.filter(case=case, action="elimination_return").get().actor == w.town_official


def test_objection_is_resolved_once(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    objection = record(w.village_cadre, case)
    resolve(w.village_cadre, objection, upheld=False)
    with pytest.raises(services.Conflict):
        resolve(w.town_official, objection, upheld=True)
    assert Objection.objects.get(pk=objection.pk).status == Objection.Status.DISMISSED
    assert MonitoringCase.objects.get(pk=case.pk).state == State.PUBLIC_NOTICE
    assert CaseEvent.objects.filter(case=case, action="objection_resolved").count() == 1


def test_resolution_needs_the_finding_and_the_right_people(world):
    w = add_users(world)
    case = case_at(w, State.PUBLIC_NOTICE)
    objection = record(w.village_cadre, case)
    with pytest.raises(ValidationError) as exc:
        resolve(w.village_cadre, objection, upheld=False, resolution="")
    assert exc.value.message_dict == {"resolution": ["请填写核实情况。"]}
    for user in (w.county_officer, w.admin):
        with pytest.raises(PermissionDenied):
            resolve(user, objection, upheld=True)
    for user in (w.village_cadre_b, w.town_official_b, w.nobody):
        with pytest.raises(Http404):
            resolve(user, objection, upheld=True)
    assert Objection.objects.get(pk=objection.pk).status == Objection.Status.OPEN


def test_a_second_objection_left_open_still_blocks_the_next_notice(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    first, second = record(w.village_cadre, case), record(w.village_cadre, case, raised_by="村民赵六")
    resolve(w.village_cadre, first, upheld=True)
    with time_machine.travel(T_REVIEW, tick=False):
        services.case_transition(
            user=w.village_cadre,
            case_id=case.pk,
            name="publish_notice",
            data={**APPRAISAL, "appraisal_on": "2026-03-09", "notice_start": "2026-03-09"},
        )
    with pytest.raises(services.Conflict):
        close_notice(w, case, when=T_LATE)
    resolve(w.village_cadre, second, upheld=False, when=T_LATE)  # noted; the case stays on notice
    assert MonitoringCase.objects.get(pk=case.pk).state == State.PUBLIC_NOTICE
    assert close_notice(w, case, when=T_LATE).state == State.TOWN_REVIEW


@pytest.mark.parametrize("value, upheld", [("1", True), ("0", False)])
def test_resolve_form_reads_the_choice(value, upheld):
    form = ObjectionResolveForm({"upheld": value, "resolution": "核实"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["upheld"] is upheld


def test_case_page_lists_an_objection_after_its_notice_closed_and_asks_none_before_a_notice(world, client):
    """The page reads objections only for a case whose events touched a notice (they are
    recorded only then); one resolved during the notice is still listed once the case moved on."""
    w = world
    client.force_login(w.town_official)
    before = case_at(w, State.VILLAGE_APPRAISAL, household=f.make_household(w.village_a1))
    client.get(f"/cases/{before.pk}/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/cases/{before.pk}/").status_code == 200
    assert [q["sql"][:200] for q in captured.captured_queries if "monitoring_objection" in q["sql"]] == []
    case = case_at(w, State.PUBLIC_NOTICE)
    objection = record(w.village_cadre, case, content="该户在县城有商品房")
    resolve(w.town_official, objection, upheld=False)
    close_notice(w, case)
    assert MonitoringCase.objects.get(pk=case.pk).state == State.TOWN_REVIEW
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "该户在县城有商品房" in page
