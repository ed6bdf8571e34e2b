"""Timing of pages through Django's test client, shared by the benchmarks."""

import statistics
import sys
import time

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext


def time_pages(client, pages, repeat, width=34):
    """Print median and worst milliseconds and the SQL query count of each (label, url)."""
    # DEBUG keeps the last 9,000 queries; once a build has filled that log, a capture
    # would count none.
    reset_queries()
    print(f"{'page':{width}} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for label, url in pages:
        timings, queries = [], 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{url}: HTTP {response.status_code}")
            queries = len(captured.captured_queries)
        print(f"{label:{width}} {statistics.median(timings):10.1f} {max(timings):8.1f} {queries:8d}")
