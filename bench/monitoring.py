"""Monitoring benchmark: a demo county with many monitoring cases, then the pages and
endpoints a county officer (the widest scope) and a village cadre open most, timed with
their SQL query counts.

    DEBUG=1 SQLITE_PATH=/tmp/bench_mon.sqlite3 .venv/bin/python bench/monitoring.py --cases 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_bench_mon .venv/bin/python bench/monitoring.py --cases 5000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_bench_mon .venv/bin/python bench/monitoring.py --keep

It writes to the configured database (migrating it and rebuilding the demo county with
--reset), so point it at a scratch database, never a real one. With --keep it builds
nothing and times the database as it is.

A shortcut, on purpose: beyond the demo's own cases (written through the workflow services),
the --cases extra cases are written set-based, with bulk_create: MonitoringCase rows in every
state with the step fields each state implies, about ten CaseEvent rows each (the path that
led there, objections, visits) and visits for the cases under monitoring. Going through the
services for 20,000 cases would take far longer than the timing itself. This benchmark
measures reads; the test suite proves the writes (and that only the services move a state).
"""

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.timing import time_pages  # noqa: E402
from fanpin import demo  # noqa: E402
from households import demo as households_demo  # noqa: E402
from households.models import Household  # noqa: E402
from monitoring.models import (  # noqa: E402
    ELIMINATION_STATES,
    IDENTIFICATION_STATES,
    OPEN_STATES,
    CaseEvent,
    Category,
    Channel,
    MonitoringCase,
    RiskType,
    State,
    Visit,
)
from monitoring.services import transition_label  # noqa: E402

SEED = 20261124
LONG_TIMELINE_EVENTS = 120
LONG_TIMELINE_VISITS = 36

# Share of the extra cases in each state: most under monitoring or ended, as in a county a
# few years into monitoring, with enough identification cases for the inbox and deadlines.
STATE_WEIGHTS = {
    State.REPORTED: 3,
    State.VILLAGE_APPRAISAL: 3,
    State.PUBLIC_NOTICE: 3,
    State.TOWN_REVIEW: 3,
    State.COUNTY_REVIEW: 3,
    State.MONITORED: 30,
    State.ELIMINATION_APPRAISAL: 2,
    State.ELIMINATION_NOTICE: 2,
    State.ELIMINATION_TOWN_REVIEW: 2,
    State.ELIMINATION_COUNTY_REVIEW: 2,
    State.ELIMINATED: 30,
    State.REJECTED: 8,
    State.WITHDRAWN: 5,
    State.CLOSED: 4,
}
IDENTIFICATION_PATH = ["start_appraisal", "publish_notice", "close_notice", "town_approve", "county_approve"]
ELIMINATION_PATH = [
    "propose_elimination",
    "publish_elimination_notice",
    "close_elimination_notice",
    "town_accept_elimination",
    "county_approve_elimination",
]
PATH_STATES = [*IDENTIFICATION_STATES, State.MONITORED, *ELIMINATION_STATES, State.ELIMINATED]


def _steps_to(state):
    """(action, from, to) of the transitions that lead from 已申报 to `state`."""
    ending = {State.REJECTED: "reject", State.WITHDRAWN: "withdraw", State.CLOSED: "close"}
    if state in ending:
        before = State.MONITORED if state == State.CLOSED else IDENTIFICATION_STATES[2]
        return [*_steps_to(before), (ending[state], before, state)]
    path = [*IDENTIFICATION_PATH, *ELIMINATION_PATH]
    index = PATH_STATES.index(state)
    return [(path[i], PATH_STATES[i], PATH_STATES[i + 1]) for i in range(index)]


class Builder:
    def __init__(self, rng, today, actors):
        self.rng, self.today, self.actors = rng, today, actors
        self.labels = {}

    def label(self, name):
        if name not in self.labels:
            self.labels[name] = transition_label(name)
        return self.labels[name]

    def case(self, household, state):
        rng, today = self.rng, self.today
        if state in IDENTIFICATION_STATES:
            # Up to 40 days back: some within the 15-day limit, many past it.
            discovered = today - datetime.timedelta(days=rng.randint(0, 40))
        else:
            discovered = today - datetime.timedelta(days=rng.randint(60, 1000))
        risks = rng.sample([c for c, _ in RiskType.choices if c != RiskType.OTHER], 3)
        fields = dict(
            household=household,
            state=state,
            channel=rng.choice(Channel.values),
            discovered_on=discovered,
            reason="家庭成员患病，医疗支出大，收入下降。",
            category=rng.choice(Category.values),
            primary_risk=risks[0],
            secondary_risks=risks[1 : rng.randint(1, 3)],
            contact_person=rng.choice(self.actors) if rng.random() < 0.5 else None,
            reported_by=self.actors[0],
        )
        steps = _steps_to(state)
        if len(steps) >= 5:
            fields.update(
                home_check_on=discovered + datetime.timedelta(days=1),
                home_checkers="张三、李四",
                commitment_signed_on=discovered + datetime.timedelta(days=1),
                appraisal_on=discovered + datetime.timedelta(days=2),
                appraisal_attendance=20,
                appraisal_result="approved",
                notice_start=discovered + datetime.timedelta(days=3),
                notice_end=discovered + datetime.timedelta(days=8),
                town_reviewed_on=discovered + datetime.timedelta(days=10),
                determined_on=discovered + datetime.timedelta(days=12),
                document_number="县防返贫〔2025〕1号",
            )
        if state in (State.ELIMINATED,):
            fields.update(
                eliminated_on=discovered + datetime.timedelta(days=50),
                elimination_reason="stable",
                ended_on=discovered + datetime.timedelta(days=50),
            )
        if state in (State.REJECTED, State.WITHDRAWN, State.CLOSED):
            fields.update(
                ended_on=min(today, discovered + datetime.timedelta(days=20)), end_reason="经核实不符合条件。"
            )
        return MonitoringCase(**fields), steps

    def events(self, case, steps, extra=0):
        rng = self.rng
        at = timezone.make_aware(datetime.datetime.combine(case.discovered_on, datetime.time(9)))
        span = max((self.today - case.discovered_on).days, 1)
        rows = [
            CaseEvent(
                case=case,
                action="report",
                label="申报监测对象",
                to_state=State.REPORTED,
                actor=self.actors[0],
                at=at,
                comment="农户申请。",
            )
        ]
        # The path, then objections and visits spread over the case's life: about ten rows a case.
        for name, source, target in steps:
            at += datetime.timedelta(days=rng.randint(0, 2), hours=1)
            rows.append(
                CaseEvent(
                    case=case,
                    action=name,
                    label=self.label(name),
                    from_state=source,
                    to_state=target,
                    actor=rng.choice(self.actors),
                    at=at,
                    comment="同意。",
                    payload={"note": "—"},
                )
            )
        for _ in range(max(0, 10 - len(rows)) + extra):
            at_visit = at + datetime.timedelta(days=rng.randint(0, span), hours=2)
            rows.append(
                CaseEvent(
                    case=case,
                    action="visit",
                    label="走访",
                    from_state=case.state,
                    to_state=case.state,
                    actor=rng.choice(self.actors),
                    at=at_visit,
                    comment="走访，情况稳定。",
                )
            )
        return rows

    def visits(self, case, count):
        rng, rows = self.rng, []
        start = case.determined_on or case.discovered_on
        span = max((self.today - start).days, 1)
        for _ in range(count):
            rows.append(
                Visit(
                    household_id=case.household_id,
                    case=case,
                    visited_on=start + datetime.timedelta(days=rng.randint(0, span)),
                    visitors="张三、李四",
                    recorded_by=rng.choice(self.actors),
                    findings="情况稳定。",
                )
            )
        return rows


def build_cases(count, village_user):
    """`count` extra cases in the demo county, set-based (see the module docstring)."""
    rng = random.Random(SEED)
    today = timezone.localdate()
    county = households_demo.demo_county()
    actors = list(get_user_model().objects.filter(username__in=["village", "village_b", "town", "county"]))
    builder = Builder(rng, today, actors)
    households = list(Household.objects.filter(village__path__startswith=county.path).values_list("pk", "village_id"))
    busy = set(MonitoringCase.objects.filter(state__in=OPEN_STATES).values_list("household_id", flat=True))
    free = [pk for pk, _ in households if pk not in busy]
    village_of = dict(households)
    rng.shuffle(free)
    village_id = village_user.roles.get().area_id
    states, weights = list(STATE_WEIGHTS), list(STATE_WEIGHTS.values())
    cases, steps_of = [], []
    for _ in range(count):
        state = rng.choices(states, weights)[0]
        if state in OPEN_STATES:
            if not free:
                state = State.ELIMINATED  # one open case per household: no household left for another
            else:
                household = free.pop()
        if state not in OPEN_STATES:
            household = rng.choice(households)[0]
        case, steps = builder.case(Household(pk=household), state)
        case.household_id = household
        case.village_id = village_of[household]
        cases.append(case)
        steps_of.append(steps)
    # One monitored case in the village cadre's village with a long history.
    still_free = set(free)
    long_household = next((pk for pk, v in households if v == village_id and pk in still_free), None)
    if long_household:
        free.remove(long_household)
        case, steps = builder.case(Household(pk=long_household), State.MONITORED)
        case.village_id = village_id
        case.discovered_on = today - datetime.timedelta(days=1000)
        case.determined_on = case.discovered_on + datetime.timedelta(days=12)
        cases.append(case)
        steps_of.append(steps)
    with transaction.atomic():
        MonitoringCase.objects.bulk_create(cases, batch_size=1000)
        events, visits = [], []
        for i, (case, steps) in enumerate(zip(cases, steps_of, strict=True)):
            long = long_household and i == len(cases) - 1
            events.extend(builder.events(case, steps, extra=LONG_TIMELINE_EVENTS if long else 0))
            if case.state == State.MONITORED:
                visits.extend(builder.visits(case, LONG_TIMELINE_VISITS if long else rng.randint(1, 6)))
        CaseEvent.objects.bulk_create(events, batch_size=2000)
        Visit.objects.bulk_create(visits, batch_size=2000)
        refresh_last_visits(county)
    return len(cases), len(events), len(visits), (cases[-1].pk if long_household else cases[0].pk)


def refresh_last_visits(county):
    """The cases' last visit (MonitoringCase.last_visit_on, which visit_create keeps) after
    visits written by bulk_create: one UPDATE."""
    from django.db.models import Max, OuterRef, Subquery

    last = (
        Visit.objects.filter(household=OuterRef("household_id"))
        .order_by()
        .values("household")
        .annotate(last=Max("visited_on"))
        .values("last")
    )
    MonitoringCase.objects.filter(village__path__startswith=county.path).update(last_visit_on=Subquery(last[:1]))


def long_timeline_case(village_user):
    """The case of the village cadre's village with the most events."""
    from django.db.models import Count

    village_id = village_user.roles.get().area_id
    return (
        MonitoringCase.objects.filter(household__village_id=village_id)
        .annotate(n=Count("events"))
        .order_by("-n")
        .values_list("pk", flat=True)
        .first()
    )


def pages(case_id):
    return [
        ("inbox", "/inbox/"),
        ("case list", "/cases/"),
        ("case list, overdue", "/cases/?overdue=true"),
        ("case list, risk type", "/cases/?risk=illness"),
        ("case detail (long timeline)", f"/cases/{case_id}/"),
        ("API case list", "/api/cases/"),
        ("API case detail", f"/api/cases/{case_id}/"),
        ("API inbox", "/api/inbox/"),
        ("API overdue", "/api/cases/overdue/"),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households-per-village", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=5000, help="extra cases written set-based")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="time the database as it is, build nothing")
    args = parser.parse_args()

    users = get_user_model().objects
    if not args.keep:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        demo.build_demo(households_per_village=args.households_per_village, reset=True)
        print(f"build_demo: {12 * args.households_per_village} households in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        cases, events, visits, _ = build_cases(args.cases, users.get(username="village"))
        print(f"bulk: {cases} cases, {events} events, {visits} visits in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        # A live database has planner statistics; a freshly built one does not until
        # autovacuum gets to it, and the plans (and timings) would be a newborn's.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    village = users.get(username="village")
    case_id = long_timeline_case(village)
    print(
        f"database: {connection.vendor}; {MonitoringCase.objects.count()} cases, "
        f"{CaseEvent.objects.count()} events, {Visit.objects.count()} visits, "
        f"{Household.objects.count()} households; long timeline: case {case_id} "
        f"({CaseEvent.objects.filter(case=case_id).count()} events)"
    )
    for username in ("county", "village"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(users.get(username=username))
        print(f"\nsigned in as {username}")
        time_pages(client, pages(case_id), args.repeat, width=30)


if __name__ == "__main__":
    main()
