"""County-scale pages: build a county of 100,000 households (or ten of them in one database)
through the product's bulk paths, then time every page a user opens most, signed in as each
role, with DEBUG off as in production.

    createdb -h 127.0.0.1 -U postgres fanpin_bench_pages
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_bench_pages \\
        flock /tmp/fanpin-bench.lock .venv/bin/python bench/pages.py            # build, then time
    ... bench/pages.py --keep                 # time the database built earlier
    ... bench/pages.py --keep --counties 10   # add nine more counties (1,000,000 households), time the first

What is built (kept across runs; `--keep` builds only what is missing):
- the demo county (`fanpin.demo.build_demo`: the registry by bulk_create, the demo's cases,
  plans and warnings through the services) at 8,334 households a village (100,008 households),
  topped up to 350,000 members (bulk_create, as bench/screening.py does);
- 20,000 monitoring cases with their timelines and visits (bench/monitoring.py `build_cases`,
  bulk_create), a plan of 1–3 measures for every case under or past monitoring, a monthly
  visit over the last year for every monitored case, and 50,000 warnings in every state and
  tier over the county's households (bulk_create);
- with `--counties N`, N-1 more counties copied from the first in SQL (INSERT … SELECT with
  new area codes, household numbers and ID numbers; their numbers sort before and after the
  first county's, so its pages cannot profit from lying at one end). The timed users are the
  first county's.

Each page is requested `--repeat` times (at least 50 for the figures) per user; the table
shows the server time (the request through the whole middleware stack, Django's test client,
no network) p50 and p95 and the SQL query count. On PostgreSQL it runs `VACUUM ANALYZE` first,
as autovacuum would have on a live database.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
# Production settings: DEBUG off (no query log, cached templates).
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "bench-pages-not-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from fanpin import demo  # noqa: E402
from households import demo as households_demo  # noqa: E402
from households.models import Household, Member  # noqa: E402
from monitoring.models import MonitoringCase, State, Visit  # noqa: E402

HOUSEHOLDS_PER_VILLAGE = 8334  # x 12 villages = 100,008 households
MEMBERS = 350_000
CASES = 20_000
WARNINGS = 50_000
SEED = 20261202
ROLES = ("county", "town", "village", "helper")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- building ------------------------------------------------------------------------------


def build_county():
    county = households_demo.demo_county()
    if county is None:
        started = time.perf_counter()
        demo.build_demo(households_per_village=HOUSEHOLDS_PER_VILLAGE)
        county = households_demo.demo_county()
        log(f"build_demo: {Household.objects.count():,} households in {time.perf_counter() - started:.0f} s")
    members = Member.objects.filter(household__village__path__startswith=county.path).count()
    if members < MEMBERS:
        from bench.screening import top_up_members

        top_up_members(county, MEMBERS)
    return county


def build_cases(county):
    from bench import monitoring as monitoring_bench

    existing = MonitoringCase.objects.filter(household__village__path__startswith=county.path).count()
    if existing >= CASES:
        return
    started = time.perf_counter()
    cases, events, visits, _ = monitoring_bench.build_cases(
        CASES - existing, get_user_model().objects.get(username="village")
    )
    log(f"bulk: {cases:,} cases, {events:,} events, {visits:,} visits in {time.perf_counter() - started:.0f} s")


def build_plans(county):
    """1–3 measures for every case under monitoring or past it that has none (bulk_create)."""
    from assistance.models import Measure, MeasureType

    cases = list(
        MonitoringCase.objects.filter(
            household__village__path__startswith=county.path,
            state__in=[State.MONITORED, *monitoring_states_after()],
            measures__isnull=True,
        ).values_list("pk", "determined_on", "primary_risk", "contact_person_id")
    )
    if not cases:
        return
    rng = random.Random(SEED)
    types = list(MeasureType.objects.values_list("code", "risk_types"))
    today = timezone.localdate()
    rows = []
    for pk, determined, risk, helper in cases:
        start = determined or today - datetime.timedelta(days=200)
        fitting = [code for code, risks in types if risk in (risks or [])] or [code for code, _ in types]
        for n in range(rng.randint(1, 3)):
            begins = min(today, start + datetime.timedelta(days=5 + 20 * n))
            status = rng.choice([Measure.Status.PLANNED, Measure.Status.IN_PROGRESS, Measure.Status.DONE])
            rows.append(
                Measure(
                    case_id=pk,
                    measure_type_id=rng.choice(fitting),
                    contact_person_id=helper,
                    starts_on=begins,
                    ends_on=begins + datetime.timedelta(days=90) if status == Measure.Status.DONE else None,
                    amount=Decimal(rng.randrange(500, 8000, 100)),
                    funding_source="衔接推进乡村振兴补助资金",
                    status=status,
                    outcome="已落实。" if status == Measure.Status.DONE else "",
                )
            )
    Measure.objects.bulk_create(rows, batch_size=2000)
    log(f"bulk: {len(rows):,} measures for {len(cases):,} cases")


def monitoring_states_after():
    from monitoring.models import ELIMINATION_STATES

    return [*ELIMINATION_STATES, State.ELIMINATED]


def build_year_of_visits(county):
    """A visit a month over the last year for every monitored case (bulk_create)."""
    today = timezone.localdate()
    year_ago = today - datetime.timedelta(days=365)
    monitored = MonitoringCase.objects.filter(household__village__path__startswith=county.path, state=State.MONITORED)
    if Visit.objects.filter(case__in=monitored, visited_on__gte=year_ago).count() > 10 * monitored.count():
        return
    rng = random.Random(SEED + 1)
    actors = list(get_user_model().objects.filter(username__in=["village", "village_b", "town"]))
    rows = [
        Visit(
            household_id=household,
            case_id=pk,
            visited_on=year_ago + datetime.timedelta(days=30 * month + rng.randint(0, 20)),
            visitors="张三、李四",
            recorded_by=rng.choice(actors),
            findings="入户走访，家庭情况稳定，帮扶措施落实。",
        )
        for pk, household in monitored.values_list("pk", "household_id")
        for month in range(12)
    ]
    Visit.objects.bulk_create(rows, batch_size=2000)
    from bench.monitoring import refresh_last_visits

    refresh_last_visits(county)
    log(f"bulk: {len(rows):,} visits over the last year")


def build_warnings(county):
    """WARNINGS warnings over the county's households, every state, tier and risk type."""
    from screening.models import RiskWarning, Tier, WarningRisk, WarningState

    existing = RiskWarning.objects.filter(county=county).count()
    if existing >= WARNINGS:
        return
    rng = random.Random(SEED + 2)
    today = timezone.localdate()
    households = list(
        Household.objects.filter(village__path__startswith=county.path).values_list(
            "pk", "village_id", "village__parent_id"
        )
    )
    verifier = get_user_model().objects.get(username="village")
    risks = [r for r in WarningRisk.values if r != WarningRisk.REGISTRATION]
    taken = set(RiskWarning.objects.filter(county=county).values_list("household_id", "risk_type", "period"))
    rows = []
    while len(rows) < WARNINGS - existing:
        pk, village, town = rng.choice(households)
        months_back = rng.randint(1, 12)
        period = (today.replace(day=1) - datetime.timedelta(days=28 * months_back)).replace(day=1)
        risk = rng.choice(risks)
        if (pk, risk, period) in taken:
            continue
        taken.add((pk, risk, period))
        state = rng.choices(WarningState.values, [2, 3, 2, 6])[0]
        verified = state in (WarningState.INCLUDED, WarningState.EXCLUDED)
        raised = period + datetime.timedelta(days=35)
        rows.append(
            RiskWarning(
                county=county,
                town_id=town,
                village_id=village,
                household_id=pk,
                period=period,
                risk_type=risk,
                rule=f"{risk}_bench",
                department="medical_insurance",
                severity=rng.choice(Tier.values),
                figure="个人自付医疗费用 28,600 元，超过上年农村居民人均可支配收入的 50%",
                evidence=[{"upload": 0, "row": 1, "amount": "28600.00"}],
                state=state,
                raised_on=min(raised, today),
                dispatched_at=timezone.now() if state != WarningState.NEW else None,
                verified_at=timezone.now() if verified else None,
                verified_by=verifier if verified else None,
                reason="经入户核实。" if verified else "",
            )
        )
    RiskWarning.objects.bulk_create(rows, batch_size=2000)
    log(f"bulk: {len(rows):,} warnings")


def copy_counties(first, total):
    """Counties 2..total copied from the first in SQL (PostgreSQL only)."""
    from households.models import Area

    if connection.vendor != "postgresql":
        sys.exit("--counties > 1 needs PostgreSQL")
    code = first.code  # 440983
    # Codes on both sides of the first county's: its household numbers sort in the middle.
    codes = [c for c in (f"{int(code) + d}" for d in (-4, -3, -2, -1, 1, 2, 3, 4, 5, 6)) if c != code][: total - 1]
    for new_code in codes:
        if Area.objects.filter(code=new_code, level=Area.Level.COUNTY).exists():
            continue
        started = time.perf_counter()
        with transaction.atomic():
            county = Area.objects.create(name=f"复制{new_code}县", code=new_code, level=Area.Level.COUNTY)
            area_map = {first.pk: county.pk}
            for town in Area.objects.filter(parent=first).order_by("code"):
                copy = Area.objects.create(
                    name=town.name, code=new_code + town.code[6:], level=town.level, parent=county
                )
                area_map[town.pk] = copy.pk
                for village in Area.objects.filter(parent=town).order_by("code"):
                    area_map[village.pk] = Area.objects.create(
                        name=village.name, code=new_code + village.code[6:], level=village.level, parent=copy
                    ).pk
            _copy_rows(first, new_code, area_map)
        log(f"copied county {new_code} in {time.perf_counter() - started:.0f} s")
    # The copies' cases and measures have no contact person: the first county's helpers (and
    # officers, who are contact persons of some of its cases) would otherwise see the copies'
    # cases too (cases_visible_to adds the cases a user is the contact person of).
    first_villages = "SELECT id FROM households_area WHERE path LIKE %s"
    with connection.cursor() as c:
        c.execute(
            "UPDATE monitoring_monitoringcase SET contact_person_id = NULL WHERE contact_person_id IS NOT NULL "
            "AND household_id IN (SELECT id FROM households_household WHERE village_id NOT IN "
            f"({first_villages}))",
            [first.path + "%"],
        )
        c.execute(
            "UPDATE assistance_measure SET contact_person_id = NULL WHERE contact_person_id IS NOT NULL "
            "AND case_id IN (SELECT x.id FROM monitoring_monitoringcase x JOIN households_household h "
            f"ON h.id = x.household_id WHERE h.village_id NOT IN ({first_villages}))",
            [first.path + "%"],
        )


def _copy_rows(first, new_code, area_map):
    """Households, members, incomes, cases, events, visits, measures and warnings of the first
    county into the new areas. New keys come from the sequences; the old → new maps live in
    temporary tables."""
    pairs = ",".join(f"({old},{new})" for old, new in area_map.items())
    prefix = first.code
    with connection.cursor() as c:
        c.execute(f"CREATE TEMP TABLE area_map (old int, new int) ON COMMIT DROP; INSERT INTO area_map VALUES {pairs}")
        columns = _columns("households_household", skip={"id", "village_id", "number", "card_token"})
        c.execute(
            "CREATE TEMP TABLE hh_map ON COMMIT DROP AS SELECT h.id AS old, nextval(pg_get_serial_sequence("
            "'households_household', 'id')) AS new FROM households_household h JOIN area_map m ON m.old = h.village_id"
        )
        c.execute(
            f"INSERT INTO households_household (id, village_id, number, card_token, {columns}) "
            f"SELECT hm.new, m.new, %s || substr(h.number, 7), substr(md5(random()::text || hm.new::text), 1, 22), "
            f"{_prefixed(columns, 'h')} FROM households_household h "
            "JOIN hh_map hm ON hm.old = h.id JOIN area_map m ON m.old = h.village_id",
            [new_code],
        )
        columns = _columns("households_member", skip={"id", "household_id", "id_number"})
        # A new ID number: the new county's area code, the same birth date and sequence, and a
        # check digit that no longer matches (the copies are only read, never validated).
        c.execute(
            f"INSERT INTO households_member (household_id, id_number, {columns}) "
            f"SELECT hm.new, %s || substr(x.id_number, 7), {_prefixed(columns, 'x')} FROM households_member x "
            "JOIN hh_map hm ON hm.old = x.household_id WHERE left(x.id_number, 6) = %s",
            [new_code, prefix],
        )
        columns = _columns("households_incomerecord", skip={"id", "household_id"})
        c.execute(
            f"INSERT INTO households_incomerecord (household_id, {columns}) SELECT hm.new, {_prefixed(columns, 'x')} "
            "FROM households_incomerecord x JOIN hh_map hm ON hm.old = x.household_id"
        )
        columns = _columns(
            "monitoring_monitoringcase",
            skip={"id", "household_id", "village_id", "previous_case_id", "merged_into_id"},
        )
        c.execute(
            "CREATE TEMP TABLE case_map ON COMMIT DROP AS SELECT x.id AS old, nextval(pg_get_serial_sequence("
            "'monitoring_monitoringcase', 'id')) AS new, hm.new AS household FROM monitoring_monitoringcase x "
            "JOIN hh_map hm ON hm.old = x.household_id"
        )
        c.execute(
            f"INSERT INTO monitoring_monitoringcase (id, household_id, village_id, {columns}) "
            f"SELECT cm.new, cm.household, m.new, {_prefixed(columns, 'x')} FROM monitoring_monitoringcase x "
            "JOIN case_map cm ON cm.old = x.id JOIN area_map m ON m.old = x.village_id"
        )
        for table in ("monitoring_caseevent", "assistance_measure"):
            columns = _columns(table, skip={"id", "case_id"})
            c.execute(
                f"INSERT INTO {table} (case_id, {columns}) SELECT cm.new, {_prefixed(columns, 'x')} "
                f"FROM {table} x JOIN case_map cm ON cm.old = x.case_id"
            )
        columns = _columns("monitoring_visit", skip={"id", "household_id", "case_id", "client_uuid"})
        c.execute(
            f"INSERT INTO monitoring_visit (household_id, case_id, {columns}) "
            f"SELECT hm.new, cm.new, {_prefixed(columns, 'x')} FROM monitoring_visit x "
            "JOIN hh_map hm ON hm.old = x.household_id LEFT JOIN case_map cm ON cm.old = x.case_id"
        )
        columns = _columns(
            "screening_riskwarning", skip={"id", "county_id", "town_id", "village_id", "household_id", "case_id"}
        )
        c.execute(
            f"INSERT INTO screening_riskwarning (county_id, town_id, village_id, household_id, case_id, {columns}) "
            f"SELECT %s, mt.new, mv.new, hm.new, cm.new, {_prefixed(columns, 'x')} FROM screening_riskwarning x "
            "JOIN hh_map hm ON hm.old = x.household_id JOIN area_map mt ON mt.old = x.town_id "
            "JOIN area_map mv ON mv.old = x.village_id LEFT JOIN case_map cm ON cm.old = x.case_id",
            [area_map[first.pk]],
        )


def _columns(table, skip):
    with connection.cursor() as c:
        names = [col.name for col in connection.introspection.get_table_description(c, table)]
    return ", ".join(name for name in names if name not in skip)


def _prefixed(columns, alias):
    return ", ".join(f"{alias}.{name.strip()}" for name in columns.split(","))


# --- timing --------------------------------------------------------------------------------


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_page(client, url, repeat):
    """p50, p95 in ms and the query count of `repeat` requests (after one warm-up)."""
    response = client.get(url)
    if response.status_code != 200:
        sys.exit(f"{url}: HTTP {response.status_code}")
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        if getattr(response, "streaming", False):
            for _chunk in response.streaming_content:
                pass
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if getattr(response, "streaming", False):
            for _chunk in response.streaming_content:
                pass
    return statistics.median(timings), percentile(timings, 0.95), len(captured.captured_queries)


def _route(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def pages_for(username, county):
    """(label, url or None) of the pages this role opens; None: the page is not built yet."""
    village_user = get_user_model().objects.get(username="village")
    village = village_user.roles.get().area
    long_case = (
        MonitoringCase.objects.filter(household__village=village, state=State.MONITORED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    plan_case = (
        MonitoringCase.objects.filter(household__village=village, state=State.MONITORED, measures__isnull=False)
        .values_list("pk", flat=True)
        .first()
    )
    household = Household.objects.filter(village=village).order_by("number")[5]
    head = household.members.filter(relation=Member.Relation.HEAD).first()
    full_id = head.id_number
    fragment = full_id[6:14]  # the birth date part: many matches
    name = head.name
    pages = [
        ("household list", "/households/"),
        ("household list, page 500", "/households/?page=500"),
        ("search: full ID number", f"/households/?q={full_id}"),
        ("search: part of an ID number", f"/households/?q={fragment}"),
        ("search: name", f"/households/?q={name}"),
        ("household detail", f"/households/{household.pk}/"),
        ("case list", "/cases/"),
        ("case list, filtered", "/cases/?overdue=true&risk=illness"),
        ("case detail with timeline", f"/cases/{long_case}/"),
        ("inbox", "/inbox/"),
        ("warnings inbox", "/screening/warnings/"),
        ("plan page", f"/cases/{plan_case}/plan/"),
        ("dashboard", _route("reports:dashboard")),
        ("API household list", "/api/households/"),
        ("API case list", "/api/cases/"),
    ]
    if username == "helper":
        helper = get_user_model().objects.get(username=username)
        mine = MonitoringCase.objects.filter(contact_person=helper, state=State.MONITORED).order_by("pk")
        case = mine.filter(measures__isnull=False).values_list("pk", flat=True).first()
        pages = [
            ("my assistance", "/my-assistance/"),
            ("case detail with timeline", f"/cases/{case}/"),
            ("plan page", f"/cases/{case}/plan/"),
        ]
    if username == "village" and not households_in_page_500(village):
        pages = [(label, url) for label, url in pages if "page 500" not in label]
    return pages


def households_in_page_500(area):
    return Household.objects.filter(village__path__startswith=area.path).count() > 500 * 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counties", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="build only what is missing")
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument(
        "--pages", default="", help="only the pages whose label starts with one of these (comma-separated)"
    )
    parser.add_argument("--no-ledger", action="store_true", help="skip the ledger export")
    parser.add_argument("--build-only", action="store_true", help="build (under a shared lock), time nothing")
    parser.add_argument("--scale", type=float, default=1.0, help="a fraction of the county (quick trial runs)")
    args = parser.parse_args()
    global HOUSEHOLDS_PER_VILLAGE, MEMBERS, CASES, WARNINGS
    HOUSEHOLDS_PER_VILLAGE, MEMBERS, CASES, WARNINGS = (
        max(20, round(n * args.scale)) for n in (HOUSEHOLDS_PER_VILLAGE, MEMBERS, CASES, WARNINGS)
    )

    call_command("migrate", verbosity=0)
    if not args.keep and households_demo.demo_county() is not None:
        log("a demo county exists: reusing it (drop the database to rebuild from nothing)")
    county = build_county()
    build_cases(county)
    build_plans(county)
    build_year_of_visits(county)
    build_warnings(county)
    if args.counties > 1:
        copy_counties(county, args.counties)
    if connection.vendor == "postgresql":
        log("VACUUM ANALYZE")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    if args.build_only:
        log(f"built: {Household.objects.count():,} households")
        return
    from households.models import Area

    log(
        f"database: {connection.vendor}, DEBUG={settings.DEBUG}; "
        f"{Area.objects.filter(level=Area.Level.COUNTY).count()} counties, {Household.objects.count():,} households, "
        f"{Member.objects.count():,} members, {MonitoringCase.objects.count():,} cases, {Visit.objects.count():,} visits; "
        f"timed county: {county.name}; uptime: {os.popen('uptime').read().strip()}"
    )
    users = get_user_model().objects
    rows = {}
    roles = args.roles.split(",")
    for username in roles:
        client = Client()
        client.force_login(users.get(username=username))
        for label, url in pages_for(username, county):
            if args.pages and not label.startswith(tuple(p.strip() for p in args.pages.split(","))):
                continue
            if url is None:
                rows.setdefault(label, {})[username] = "not built yet"
                continue
            p50, p95, queries = time_page(client, url, args.repeat)
            rows.setdefault(label, {})[username] = f"{p50:.1f} / {p95:.1f} / {queries}"
            log(f"{username:8} {label:34} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {queries:3d} queries")
    print(
        f"\n{args.counties} count{'y' if args.counties == 1 else 'ies'}; p50 / p95 ms / queries, {args.repeat} requests"
    )
    print("| page | " + " | ".join(roles) + " |")
    print("|---|" + "---|" * len(roles))
    for label, cells in rows.items():
        print(f"| {label} | " + " | ".join(cells.get(role, "—") for role in roles) + " |")
    if not args.no_ledger:
        ledger(users.get(username="county"))
    print(f"uptime: {os.popen('uptime').read().strip()}")


def ledger(user):
    """The county's ledger export of every case, written as the export task writes it
    (bench/reports.py, issue 11): rows, seconds, peak Python memory."""
    try:
        from bench.reports import time_ledger
    except ImportError:
        print("ledger export, 20,000 cases: not built yet")
        return
    time_ledger(user)


if __name__ == "__main__":
    main()
