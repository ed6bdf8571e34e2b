"""Benchmark the registry import: a 10,000-member .xlsx (written with openpyxl), parsed,
validated and imported on a temporary SQLite database (or, with --postgres URL, on that
PostgreSQL database, emptied of the bench's county first), then imported again (all
updates). In the same run it times the floor for the same file (issue 15): calamine reading
the sheet plus loading the same rows into a staging table (COPY on PostgreSQL, executemany
on SQLite), no validation; and prints each import against it.

    DEBUG=1 .venv/bin/python bench/bench_import.py [--members 10000]
    createdb -h 127.0.0.1 -U postgres fanpin_bench_import
    DEBUG=1 .venv/bin/python bench/bench_import.py --members 50000 \
        --postgres postgres://postgres@127.0.0.1:5432/fanpin_bench_import

Prints rows/s for each step (parse, validate, write) and the peak Python memory
(tracemalloc) of a whole import, measured on a separate run.
"""

import argparse
import datetime
import io
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_workbook(members, village_names):
    import openpyxl

    from households import idnumber
    from households.importer import COLUMNS

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append(["某县农户家庭成员信息表"])
    sheet.append([c.header for c in COLUMNS])
    relations = ["户主", "配偶", "子女", "子女", "父母"]
    household = 0
    written = 0
    day = datetime.date(1950, 1, 1)
    while written < members:
        household += 1
        size = 1 + household % 5
        for position in range(min(size, members - written)):
            written += 1
            birth = day + datetime.timedelta(days=written % 20000)
            # Birth day repeats every 20,000 members: shift the sequence so IDs stay unique.
            number = idnumber.make("440981", birth, (written % 1000 + written // 20000) % 1000)
            values = {
                "number": f"B{household:07d}",
                "village": village_names[household % len(village_names)],
                "address": f"{household % 9 + 1}组{household}号",
                "phone": "13800138000",
                "household_type": "脱贫户" if household % 3 == 0 else "一般农户",
                "relocated": "否",
                "name": f"成员{written}",
                "id_number": number,
                "relation": relations[position],
                "status": "在户",
                "health": "健康" if written % 7 else "长期慢性病",
                "labour_capacity": "普通劳动力",
                "medical_insurance": "是",
                "pension_insurance": "是",
                "dibao": "否",
                "tekun": "否",
            }
            sheet.append([values.get(c.key, "") for c in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), household


VILLAGE_NAMES = [f"基准{n}村" for n in range(12)]


def load_workbook(path, members, village_names):
    """The workbook's bytes: from `path` when it holds one of `members` rows, else built (and
    kept at `path` if given)."""
    cached = Path(f"{path}.{members}") if path else None
    if cached is not None and cached.exists():
        data = cached.read_bytes()
        print(f"workbook: {members} members, {len(data) / 2**20:.1f} MiB, read from {cached}")
        return data
    started = time.perf_counter()
    data, households = build_workbook(members, village_names)
    print(
        f"workbook: {members} members, {households} households, {len(data) / 2**20:.1f} MiB, "
        f"written in {time.perf_counter() - started:.1f} s"
    )
    if cached is not None:
        cached.write_bytes(data)
        print(f"  kept in {cached}")
    return data


def floor(data, connection):
    """calamine read of the first sheet + the rows into a staging table (COPY on PostgreSQL)."""
    import python_calamine

    started = time.perf_counter()
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = workbook.get_sheet_by_index(0).to_python()
    header, body = rows[1], rows[2:]
    read = time.perf_counter() - started
    columns = len(header)
    with connection.cursor() as cursor:
        names = ", ".join(f"c{i} text" for i in range(columns))
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TEMP TABLE import_floor ({names})")
            buffer = io.StringIO()
            for row in body:
                buffer.write("\t".join(_copy_text(v) for v in row) + "\n")
            buffer.seek(0)
            cursor.cursor.copy_expert("COPY import_floor FROM STDIN", buffer)
        else:
            cursor.execute(f"CREATE TEMP TABLE import_floor ({names})")
            marks = ", ".join("?" for _ in range(columns))
            cursor.executemany(f"INSERT INTO import_floor VALUES ({marks})", [[str(v) for v in r] for r in body])
        cursor.execute("DROP TABLE import_floor")
    total = time.perf_counter() - started
    print(f"{'floor: calamine read':<24} {read:7.2f} s  {len(body) / read:8.0f} rows/s")
    print(f"{'floor: read + load':<24} {total:7.2f} s  {len(body) / total:8.0f} rows/s ({connection.vendor})")
    return total


def _copy_text(value):
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def timed(label, rows, func):
    started = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - started
    print(f"{label:<24} {elapsed:7.2f} s  {rows / elapsed:8.0f} rows/s")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--postgres", help="a scratch PostgreSQL database URL (default: a temporary SQLite file)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs (a shorter timing hold)")
    parser.add_argument(
        "--workbook",
        help="a file to keep the generated workbook in: read if it exists, else written (building takes ~20 s "
        "for 50,000 members, which need not be inside a timing hold; see --build-only)",
    )
    parser.add_argument("--build-only", action="store_true", help="write --workbook and stop (no database)")
    args = parser.parse_args()

    if args.build_only:
        if not args.workbook:
            parser.error("--build-only needs --workbook")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
        import django

        django.setup()
        load_workbook(args.workbook, args.members, VILLAGE_NAMES)
        return

    workdir = tempfile.mkdtemp(prefix="fanpin-bench-")
    os.environ["SQLITE_PATH"] = os.path.join(workdir, "bench.sqlite3")
    os.environ.pop("DATABASE_URL", None)
    if args.postgres:
        os.environ["DATABASE_URL"] = args.postgres
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from households.importer import RegistryImport, read_table
    from households.models import Area, Household, Member

    call_command("migrate", verbosity=0)
    # A scratch database: the bench's county of an earlier run goes first.
    Member.objects.filter(household__village__code__startswith="BENCH-").delete()
    Household.objects.filter(village__code__startswith="BENCH-").delete()
    for level in (Area.Level.VILLAGE, Area.Level.TOWN, Area.Level.COUNTY):
        Area.objects.filter(code__startswith="BENCH-", level=level).delete()
    county = Area.objects.create(name="基准县", code="BENCH-C", level=Area.Level.COUNTY)
    town = Area.objects.create(name="基准镇", code="BENCH-T", level=Area.Level.TOWN, parent=county)
    names = VILLAGE_NAMES
    for n, name in enumerate(names):
        Area.objects.create(name=name, code=f"BENCH-V{n}", level=Area.Level.VILLAGE, parent=town)

    data = load_workbook(args.workbook, args.members, names)
    print(f"SQLite at {os.environ['SQLITE_PATH']}")

    def run_import():
        return RegistryImport(user=None).parse(read_table(io.BytesIO(data), "bench.xlsx")).validate().write()

    base = floor(data, connection)
    for run in ("first import", "re-import"):
        job = RegistryImport(user=None)
        started = time.perf_counter()
        timed(f"{run}: parse", args.members, lambda job=job: job.parse(read_table(io.BytesIO(data), "bench.xlsx")))
        timed(f"{run}: validate", args.members, job.validate)
        report = timed(f"{run}: write", args.members, job.write)
        total = time.perf_counter() - started
        target = 5 if run == "first import" else 2
        print(
            f"  {run}: {total:.2f} s = {total / base:.1f}× the floor (target ≤ {target}×); "
            f"{report.summary()} errors={len(report.errors)}"
        )
    print(f"uptime: {os.popen('uptime').read().strip()}")
    if args.no_memory:
        return

    # Memory is measured on a separate run: tracemalloc slows Python code down severalfold.
    Member.objects.filter(household__village__parent=town).delete()
    Household.objects.filter(village__parent=town).delete()
    for run in ("first import", "re-import"):
        tracemalloc.start()
        started = time.perf_counter()
        report = run_import()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"{run} under tracemalloc: peak {peak / 2**20:.1f} MiB ({elapsed:.1f} s with tracing on); "
            f"{report.summary()}"
        )
    print(f"database: {Household.objects.count()} households, {Member.objects.count()} members")


if __name__ == "__main__":
    main()
