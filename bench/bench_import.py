"""Benchmark the registry import: a 10,000-member .xlsx (written with openpyxl), parsed,
validated and imported on a temporary SQLite database, then imported again (all updates).

    DEBUG=1 .venv/bin/python bench/bench_import.py [--members 10000]

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


def timed(label, rows, func):
    started = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - started
    print(f"{label:<24} {elapsed:7.2f} s  {rows / elapsed:8.0f} rows/s")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="fanpin-bench-")
    os.environ["SQLITE_PATH"] = os.path.join(workdir, "bench.sqlite3")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from households.importer import RegistryImport, read_table
    from households.models import Area, Household, Member

    call_command("migrate", verbosity=0)
    county = Area.objects.create(name="基准县", code="BENCH-C", level=Area.Level.COUNTY)
    town = Area.objects.create(name="基准镇", code="BENCH-T", level=Area.Level.TOWN, parent=county)
    names = [f"基准{n}村" for n in range(12)]
    for n, name in enumerate(names):
        Area.objects.create(name=name, code=f"BENCH-V{n}", level=Area.Level.VILLAGE, parent=town)

    started = time.perf_counter()
    data, households = build_workbook(args.members, names)
    print(
        f"workbook: {args.members} members, {households} households, {len(data) / 2**20:.1f} MiB, "
        f"written in {time.perf_counter() - started:.1f} s (SQLite at {os.environ['SQLITE_PATH']})"
    )

    def run_import():
        return RegistryImport(user=None).parse(read_table(io.BytesIO(data), "bench.xlsx")).validate().write()

    for run in ("first import", "re-import"):
        job = RegistryImport(user=None)
        timed(f"{run}: parse", args.members, lambda job=job: job.parse(read_table(io.BytesIO(data), "bench.xlsx")))
        timed(f"{run}: validate", args.members, job.validate)
        report = timed(f"{run}: write", args.members, job.write)
        print(f"  {report.summary()} errors={len(report.errors)}")

    # Memory is measured on a separate run: tracemalloc slows Python code down severalfold.
    Member.objects.all().delete()
    Household.objects.all().delete()
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
