"""Registry benchmark: build the demo county, then time the pages and endpoints a county
officer opens most (the largest scope), with their SQL query counts.

    DEBUG=1 SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/registry.py --households-per-village 500
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_bench .venv/bin/python bench/registry.py

It writes to the configured database (migrating it and rebuilding the demo county with
--reset), so point it at a scratch database, never a real one.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from households import demo  # noqa: E402

PAGES = [
    ("household list", "/households/"),
    ("household list, search", "/households/?q=王"),
    ("household list, special group", "/households/?group=severe_disability"),
    ("quality report", "/households/quality/"),
    ("API household list", "/api/households/"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households-per-village", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    logins = demo.build_demo(households_per_village=args.households_per_village, reset=True)
    seconds = time.perf_counter() - started
    households = 12 * args.households_per_village
    print(f"database: {connection.vendor}; build_demo: {households} households in {seconds:.1f} s")

    client = Client(HTTP_HOST="127.0.0.1")
    county = next(login for login in logins if login.username == "county")
    if not client.login(username="county", password=county.password):
        sys.exit("login as county failed")
    print(f"{'page':34} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for label, url in PAGES:
        timings, queries = [], 0
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{url}: HTTP {response.status_code}")
            queries = len(captured.captured_queries)
        print(f"{label:34} {statistics.median(timings):10.1f} {max(timings):8.1f} {queries:8d}")


if __name__ == "__main__":
    main()
