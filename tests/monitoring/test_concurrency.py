"""Two people pressing the same button at once (issue 3 item 3): exactly one action wins, the
other gets a clear conflict, nothing is recorded twice.

The threaded tests need real row locks, so they run on PostgreSQL only:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_core .venv/bin/pytest tests/monitoring/test_concurrency.py
"""

import threading
import time

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from monitoring import services
from monitoring.models import CaseEvent, MonitoringCase, State
from tests.monitoring.cases import COUNTY_APPROVAL, DISCOVERED, T_REVIEW, case_at

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="并发测试需要 PostgreSQL 的行锁（select_for_update）：设置 DATABASE_URL=postgres://…",
)


def run_together(*calls):
    """Start each call in its own thread at the same moment; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc
        finally:
            # Each thread has its own connection; close it or the test database cannot be dropped.
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return results


@pytest.fixture
def slow_audit(monkeypatch):
    """Hold the winner's transaction open a moment after the transition, so the other thread
    surely arrives while the row is locked and must wait for the outcome."""
    audit = services._audit

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return audit(*args, **kwargs)

    monkeypatch.setattr(services, "_audit", slow)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_county_officers_approving_at_once_exactly_one_wins(world, slow_audit):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)

    def approve():
        return services.case_transition(
            user=w.county_officer, case_id=case.pk, name="county_approve", data=dict(COUNTY_APPROVAL)
        )

    with time_machine.travel(T_REVIEW, tick=False):
        results = run_together(approve, approve)

    won = [r for r in results if isinstance(r, MonitoringCase)]
    lost = [r for r in results if isinstance(r, services.Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    assert won[0].state == State.MONITORED
    assert "不能执行“县级认定”" in lost[0].message and "已被他人处理" in lost[0].message
    assert CaseEvent.objects.filter(case=case, action="county_approve").count() == 1
    assert MonitoringCase.objects.get(pk=case.pk).state == State.MONITORED


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_approve_and_return_at_once_only_one_takes_effect(world, slow_audit):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    with time_machine.travel(T_REVIEW, tick=False):
        results = run_together(
            lambda: services.case_transition(
                user=w.county_officer, case_id=case.pk, name="county_approve", data=dict(COUNTY_APPROVAL)
            ),
            lambda: services.case_transition(
                user=w.county_officer, case_id=case.pk, name="county_return", data={"comment": "材料不全"}
            ),
        )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "MonitoringCase"], results
    final = MonitoringCase.objects.get(pk=case.pk).state
    assert final in (State.MONITORED, State.TOWN_REVIEW)
    assert CaseEvent.objects.filter(case=case, action__in=["county_approve", "county_return"]).count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_reports_of_one_household_at_once_open_one_case(world):
    w = world

    def report():
        return services.case_create(
            user=w.village_cadre,
            household=w.household_a1,
            channel="cadre_visit",
            discovered_on=DISCOVERED,
            reason="突发大病",
        )

    results = run_together(report, report)
    assert sorted(type(r).__name__ for r in results) == ["MonitoringCase", "ValidationError"], results
    error = next(r for r in results if isinstance(r, ValidationError))
    assert error.message_dict == {"household": ["该户已有进行中的监测对象记录，不能重复申报。"]}
    assert MonitoringCase.objects.filter(household=w.household_a1).count() == 1
    assert CaseEvent.objects.filter(action="report").count() == 1


@pytest.mark.django_db
def test_the_same_approval_submitted_twice_is_a_conflict_the_second_time(world):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    with time_machine.travel(T_REVIEW, tick=False):
        services.case_transition(
            user=w.county_officer, case_id=case.pk, name="county_approve", data=dict(COUNTY_APPROVAL)
        )
        with pytest.raises(services.Conflict) as exc:
            services.case_transition(
                user=w.county_officer,
                case_id=case.pk,
                name="county_approve",
                data={**COUNTY_APPROVAL, "document_number": "另一文号"},
            )
    assert "当前状态为“监测帮扶中”" in exc.value.message
    case = MonitoringCase.objects.get(pk=case.pk)
    assert case.document_number == COUNTY_APPROVAL["document_number"]
    assert CaseEvent.objects.filter(case=case, action="county_approve").count() == 1


@pytest.mark.django_db
def test_a_stale_copy_of_the_case_cannot_be_saved_over_a_newer_state(world):
    """Belt and braces under the row lock: a save from an out-of-date instance (the state it
    was loaded in has moved on) fails instead of silently undoing the transition."""
    from django_fsm import ConcurrentTransition

    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    stale = MonitoringCase.objects.get(pk=case.pk)
    with time_machine.travel(T_REVIEW, tick=False):
        services.case_transition(
            user=w.county_officer, case_id=case.pk, name="county_return", data={"comment": "补充材料"}
        )
    stale.county_approve(
        category="edge", primary_risk="illness", secondary_risks=[], determined_on=T_REVIEW.date(), document_number="x"
    )
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert MonitoringCase.objects.get(pk=case.pk).state == State.TOWN_REVIEW
