"""Household picker benchmark (issue 13 point 4): the report form's search as a village cadre,
at county size, on a database already built (e.g. bench/reports.py's). Read only.

    flock /tmp/fanpin-bench.lock env DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_bench_reports \\
        .venv/bin/python bench/picker.py

Times monitoring.selectors.household_pick (median and worst of --repeat) for a name, a household
number fragment, an ID number fragment and a term that matches nothing (the worst case: every
household of the scope is looked at). i15's trigram indexes speed the substring matches on
PostgreSQL; this reads whatever indexes the database has.
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

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from households.models import Household, Member  # noqa: E402
from monitoring import selectors  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    user = get_user_model().objects.get(username="village")
    scope = selectors.reportable_households(user)
    member = Member.objects.filter(household__in=scope).order_by("-id").first()
    terms = {
        "name": member.name,
        "number fragment": member.household.number[-6:],
        "ID fragment": member.id_number[6:14],
        "no match": "无此人甲乙",
    }
    print(
        f"database: {connection.vendor}; {Household.objects.count():,} households, "
        f"{scope.count():,} in the cadre's scope; load average {os.getloadavg()[0]:.2f}"
    )
    for label, term in terms.items():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            pick = selectors.household_pick(user, term)
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"{label:16} {term!r:14} median {statistics.median(times):7.1f} ms  worst {max(times):7.1f} ms  "
            f"rows {len(pick.choosable) + len(pick.with_open_case)}{'+' if pick.more else ''}"
        )


if __name__ == "__main__":
    main()
