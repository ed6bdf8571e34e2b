"""Registry benchmark: build the demo county, then time the pages and endpoints a county
officer opens most (the largest scope), with their SQL query counts.

    DEBUG=1 SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/registry.py --households-per-village 500
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_bench .venv/bin/python bench/registry.py

It writes to the configured database (migrating it and rebuilding the demo county with
--reset), so point it at a scratch database, never a real one. With --keep it builds
nothing and times the database as it is (one built earlier, or enlarged by hand).
"""

import argparse
import os
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
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.timing import time_pages  # noqa: E402
from fanpin import demo  # noqa: E402
from households.models import Household  # noqa: E402

PAGES = [
    ("household list", "/households/"),
    ("household list, search", "/households/?q=王"),
    ("household list, special group", "/households/?group=severe_disability"),
    ("quality report", "/households/quality/"),
    ("quality report, one check", "/households/quality/?check=student_wage"),
    ("API household list", "/api/households/"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households-per-village", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="time the database as it is, build nothing")
    args = parser.parse_args()

    client = Client(HTTP_HOST="127.0.0.1")
    if args.keep:
        client.force_login(get_user_model().objects.get(username="county"))
    else:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        logins = demo.build_demo(households_per_village=args.households_per_village, reset=True)
        seconds = time.perf_counter() - started
        print(f"build_demo: {12 * args.households_per_village} households in {seconds:.1f} s")
        county = next(login for login in logins if login.username == "county")
        if not client.login(username="county", password=county.password):
            sys.exit("login as county failed")
    if connection.vendor == "postgresql":
        # A live registry has planner statistics; a freshly built one does not until
        # autovacuum gets to it, and the plans (and timings) would be a newborn's.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"database: {connection.vendor}; {Household.objects.count()} households")
    time_pages(client, PAGES, args.repeat)


if __name__ == "__main__":
    main()
