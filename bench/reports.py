"""Reports benchmark (issue 11): the dashboard for each role and a 20,000-case ledger export, at
county size (100,000 households), DEBUG off, PostgreSQL.

    createdb -h 127.0.0.1 -U postgres fanpin_bench_reports
    flock /tmp/fanpin-bench.lock env DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_bench_reports \\
        .venv/bin/python bench/reports.py
    ... bench/reports.py --keep          # time the database as it is, build nothing

It builds the demo county at 100,000 households (fanpin.demo.build_demo), adds the extra cases
set-based with bench/monitoring.py's builder (every state, events, visits) and one or two
measures per determined case, then times, as the county officer, town official and village
cadre, the dashboard page through Django's test client (median and worst of --repeat, with the
SQL query count), and the ledger: the whole county's cases written by the export task's own
code (fanpin.reports.services.export_job_run), its rows, its time and its peak of Python
memory (tracemalloc, a second run: tracing slows it). Point it at a scratch database.

The timing functions (`time_dashboard`, `time_ledger`) take a signed-in client or a user and
print one line each, for bench/pages.py to call.
"""

import argparse
import math
import os
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("MEDIA_ROOT", str(Path(tempfile.gettempdir()) / "fanpin-bench-reports-media"))
os.environ.pop("REDIS_URL", None)  # the export task runs in this process (eager)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from assistance.catalogue import install_default_catalogue  # noqa: E402
from assistance.models import Measure, MeasureType  # noqa: E402
from bench.monitoring import build_cases  # noqa: E402
from bench.timing import time_pages  # noqa: E402
from fanpin import demo  # noqa: E402
from fanpin.models import ExportJob  # noqa: E402
from fanpin.reports import services  # noqa: E402
from households.models import Household  # noqa: E402
from monitoring.models import MonitoringCase, State  # noqa: E402

DASHBOARD = [("dashboard", "/dashboard/"), ("monthly report", "/reports/monthly/")]


def time_dashboard(client, repeat=5, width=20):
    """The dashboard and the monthly report as the client's user sees them."""
    time_pages(client, DASHBOARD, repeat, width=width)


def time_ledger(user, query="", memory=True):
    """Write the ledger of `user`'s cases (the list's `query`) as the export task does; print
    rows, seconds and, with `memory`, the peak of Python memory in a second, traced run."""
    job = ExportJob.objects.create(user=user, query=query)
    started = time.perf_counter()
    services.export_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != ExportJob.Status.DONE:
        sys.exit(f"ledger export failed: {job.error_message}")
    size = job.file.size
    line = f"ledger ({user.username}): {job.rows_done:,} rows, {seconds:.1f} s, {size / 1e6:.1f} MB file"
    if memory:
        traced = ExportJob.objects.create(user=user, query=query)
        tracemalloc.start()
        services.export_job_run(job_id=traced.pk)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        line += f", peak Python memory {peak / 1e6:.1f} MB"
    print(line)
    return job.rows_done, seconds


def add_measures(rng):
    """One or two measures per determined case without any (bulk_create, as the builders do)."""
    install_default_catalogue()
    types = list(MeasureType.objects.values_list("code", flat=True))
    determined = MonitoringCase.objects.filter(determined_on__isnull=False, measures__isnull=True).values_list(
        "pk", "determined_on", "state"
    )
    rows = []
    for pk, day, state in determined.iterator(chunk_size=5000):
        for code in rng.sample(types, rng.randint(1, 2)):
            status = Measure.Status.DONE if state == State.ELIMINATED else rng.choice(Measure.Status.values[:3])
            rows.append(Measure(case_id=pk, measure_type_id=code, starts_on=day, status=status))
    Measure.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=20_000, help="cases in the county (demo + bulk)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="time the database as it is, build nothing")
    args = parser.parse_args()
    users = get_user_model().objects
    if not args.keep:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        demo.build_demo(households_per_village=math.ceil(args.households / 12), reset=True)
        print(f"build_demo: {Household.objects.count():,} households in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        extra = max(0, args.cases - MonitoringCase.objects.count())
        cases, events, visits, _ = build_cases(extra, users.get(username="village"))
        measures = add_measures(random.Random(11))
        print(
            f"bulk: {cases:,} cases, {events:,} events, {visits:,} visits, {measures:,} measures "
            f"in {time.perf_counter() - started:.0f} s"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"database: {connection.vendor}, DEBUG={settings.DEBUG}; {Household.objects.count():,} households, "
        f"{MonitoringCase.objects.count():,} cases, {Measure.objects.count():,} measures; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for username in ("county", "town", "village"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(users.get(username=username))
        print(f"\nsigned in as {username}")
        time_dashboard(client, args.repeat)
    print()
    time_ledger(users.get(username="county"))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
