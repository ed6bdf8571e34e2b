"""The elimination checklist is the list of criterion functions named in settings
(FANPIN_ELIMINATION_CRITERIA), each (case, day) -> Criterion; the workflow's transitions read
it, so a criterion added or removed there is checked by page, API and service alike."""

import datetime

import pytest
import time_machine

from monitoring import checklist, services
from monitoring.checklist import Criterion
from monitoring.models import State
from tests.monitoring.cases import T_ELIM, case_at, make_eligible

pytestmark = pytest.mark.django_db

SEEN = []


def always_unmet(case, day):
    SEEN.append((case.pk, day))
    return Criterion("custom", "县定附加条件", False, "未通过县级复核")


def test_the_default_checklist_keeps_the_codes_the_api_exposes(world):
    case = case_at(world, State.MONITORED)
    with time_machine.travel(T_ELIM, tick=False):
        criteria = case.elimination_criteria()
    assert [c.code for c in criteria] == ["months", "measures", "income", "rigid", "security"]
    assert all(isinstance(c, Criterion) for c in criteria)
    assert [f.__module__ for f in checklist.criterion_functions()] == [
        "monitoring.criteria",
        "assistance.criteria",
        "monitoring.criteria",
        "monitoring.criteria",
        "monitoring.criteria",
    ]


def test_a_criterion_named_in_settings_is_checked_with_the_case_and_the_day(world, settings):
    w = world
    case = case_at(w, State.MONITORED)
    make_eligible(w, case)
    settings.FANPIN_ELIMINATION_CRITERIA = [*settings.FANPIN_ELIMINATION_CRITERIA, f"{__name__}.always_unmet"]
    SEEN.clear()
    with time_machine.travel(T_ELIM, tick=False), pytest.raises(services.Conflict) as exc:
        services.case_transition(user=w.village_cadre, case_id=case.pk, name="propose_elimination", data={})
    assert exc.value.reasons == ["风险消除条件未全部满足：县定附加条件（未通过县级复核）。"]
    assert SEEN and SEEN[-1] == (case.pk, datetime.date(2026, 10, 12))


def test_a_criterion_removed_from_settings_no_longer_gates_elimination(world, settings):
    w = world
    case = case_at(w, State.MONITORED)
    make_eligible(w, case)
    case.measures.all().update(status="planned")
    settings.FANPIN_ELIMINATION_CRITERIA = [
        p for p in settings.FANPIN_ELIMINATION_CRITERIA if p != "assistance.criteria.measure_carried_out"
    ]
    with time_machine.travel(T_ELIM, tick=False):
        case = services.case_transition(user=w.village_cadre, case_id=case.pk, name="propose_elimination", data={})
    assert case.state == State.ELIMINATION_APPRAISAL
