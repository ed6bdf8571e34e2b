"""Screening benchmark (issue 9, point 8): a county registry of 100,000 households, a
1,000,000-row GBK 医保 CSV (1 % bad rows, 40 % of people not in the registry), and in one run:

  (a) the floor: raw COPY of the file into a staging table plus one joining INSERT … SELECT;
  (b) the product's path, stored file to kept matches, through real Celery workers (1 and 2);
  (c) a naive per-row ORM loop on 20,000 rows, extrapolated to the file;
  and a 200,000-row .xlsx through the product's path with 2 workers.

    createdb -h 127.0.0.1 -U postgres fanpin_bench_screening
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_bench_screening REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/screening.py

It migrates the database and builds the demo registry there (keep it with --keep on later runs),
so point it at a scratch database. The workers are `celery worker --pool=solo` processes on a
queue of their own; their peak memory is the kernel's high-water mark (VmHWM) of each process.
"""

import argparse
import csv
import datetime
import io
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
MEDIA = Path(tempfile.gettempdir()) / "fanpin-bench-screening-media"
os.environ["MEDIA_ROOT"] = str(MEDIA)
REDIS_URL = os.environ.pop("REDIS_URL", "")  # this process sends one task itself; tasks are not run eagerly here

import django  # noqa: E402

django.setup()

from celery import Celery  # noqa: E402
from django.core.files.base import File  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from households import demo as households_demo  # noqa: E402
from households import idnumber  # noqa: E402
from households.models import Area, Department, Member  # noqa: E402
from screening.models import ScreeningRow, ScreeningUpload  # noqa: E402

HEADER = ["姓名", "身份证号", "就诊日期", "医疗总费用", "报销金额", "个人自付金额", "是否住院"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=350_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="reuse the registry (and files) built by an earlier run")
    parser.add_argument(
        "--build-only", action="store_true", help="build the registry and the files, time nothing (then --keep)"
    )
    parser.add_argument(
        "--only",
        default="floor,b1,b2,naive,xlsx",
        help="measures to take, comma-separated (floor, b1, b2, naive, xlsx); ratios need floor, b1, b2 and naive",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    if connection.vendor != "postgresql":
        sys.exit("需要 PostgreSQL：设置 DATABASE_URL=postgres://…")
    if not REDIS_URL:
        sys.exit("需要 Redis：设置 REDIS_URL=redis://…（不要与正在运行的 worker 共用同一个库）")
    print(f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC  load average {_load()} (2 cores shared)")

    call_command("migrate", verbosity=0)
    county = build_registry(args.households, args.keep)
    top_up_members(county, args.members)
    department = Department.objects.get(county=county, kind=Department.Kind.MEDICAL_INSURANCE)
    members = Member.objects.filter(household__village__path__startswith=county.path).count()
    print(f"registry: {members:,} members")

    work = Path(tempfile.gettempdir()) / "fanpin-bench-screening"
    work.mkdir(exist_ok=True)
    csv_path = work / f"medical-{args.rows}.csv"
    if not (args.keep and csv_path.exists()):
        started = time.perf_counter()
        make_csv(csv_path, county, args.rows)
        print(f"made {csv_path.name}: {csv_path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.0f} s")
    xlsx_path = work / f"medical-{args.xlsx_rows}.xlsx"
    if args.xlsx_rows and not (args.keep and xlsx_path.exists()):
        make_xlsx(xlsx_path, csv_path, args.xlsx_rows)
    clear()
    if args.build_only:
        return

    if "floor" in only:
        floor = run_floor(csv_path, department)
        print(f"(a) floor COPY + INSERT…SELECT: {floor:.2f} s ({args.rows / floor:,.0f} rows/s)")
        clear()

    product = {}
    for workers in (1, 2):
        if f"b{workers}" not in only:
            continue
        seconds, memory, upload = run_product(csv_path, department, workers, period=datetime.date(2026, workers, 1))
        product[workers] = seconds
        print(
            f"(b) product path, {workers} worker{'s' if workers > 1 else ''}: {seconds:.2f} s "
            f"({args.rows / seconds:,.0f} rows/s); worker peak memory {', '.join(f'{m:.0f} MB' for m in memory)}; "
            f"read {upload.rows_read:,}, valid {upload.rows_valid:,}, invalid {upload.rows_invalid:,}, "
            f"matched {upload.rows_matched:,}, unmatched {upload.rows_unmatched:,}, chunks {upload.chunks_total}"
        )
        clear()

    if "naive" in only:
        naive = run_naive(csv_path, department, county, args.naive_rows)
        naive_total = naive * args.rows / args.naive_rows
        print(
            f"(c) naive per-row ORM: {args.naive_rows:,} rows in {naive:.1f} s ({args.naive_rows / naive:,.0f} rows/s) "
            f"-> {args.rows:,} rows ≈ {naive_total:,.0f} s"
        )
        clear()

    if {"floor", "b1", "b2", "naive"} <= only:
        best = min(product.values())
        print(
            f"ratios: b/a = {best / floor:.2f} (target ≤ 3), c/b = {naive_total / best:,.0f} (target ≥ 100), "
            f"2-worker speed-up = {product[1] / product[2]:.2f} (target ≥ 1.4)"
        )

    if args.xlsx_rows and "xlsx" in only:
        seconds, memory, upload = run_product(xlsx_path, department, 2, period=datetime.date(2025, 12, 1))
        print(
            f".xlsx {args.xlsx_rows:,} rows, 2 workers: {seconds:.2f} s ({args.xlsx_rows / seconds:,.0f} rows/s; "
            f"target < 6 s); worker peak memory {', '.join(f'{m:.0f} MB' for m in memory)}; "
            f"valid {upload.rows_valid:,}, invalid {upload.rows_invalid:,}, matched {upload.rows_matched:,}"
        )
        clear()
    print(f"{datetime.datetime.now(datetime.UTC):%H:%M} UTC  load average at the end {_load()}")


def _load():
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


# --- data ----------------------------------------------------------------------------------


def build_registry(households, keep):
    county = households_demo.demo_county()
    if keep and county is not None:
        return county
    if county is not None:
        from fanpin.demo import wipe_demo

        clear()
        wipe_demo(county)
    started = time.perf_counter()
    # The demo's own bulk path (bulk_create of households, members and income records).
    households_demo.build_registry(households_per_village=math.ceil(households / 12))
    county = households_demo.demo_county()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built the registry through households.demo.build_registry in {time.perf_counter() - started:.0f} s")
    return county


def top_up_members(county, target):
    """The demo draws about 3.2 people per household: add children (bulk_create, as the demo
    does) to households in turn until the county has `target` members."""
    from households.models import Household

    members = Member.objects.filter(household__village__path__startswith=county.path)
    missing = target - members.count()
    if missing <= 0:
        return
    taken = set(Member.objects.values_list("id_number", flat=True))
    households = list(
        Household.objects.filter(village__path__startswith=county.path).order_by("pk").values_list("pk", flat=True)
    )
    new, day, sequence = [], datetime.date(2012, 1, 1), 0
    while len(new) < missing:
        sequence = (sequence + 2) % 1000
        if sequence == 0:
            day += datetime.timedelta(days=1)
        number = idnumber.make(county.code[:6], day, sequence)
        if number in taken:
            continue
        taken.add(number)
        new.append(
            Member(
                household_id=households[len(new) % len(households)],
                id_number=number,
                name="张小明",
                relation=Member.Relation.CHILD,
                birth_date=day,
                sex="F",
            )
        )
    Member.objects.bulk_create(new, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE households_member")
    print(f"added {len(new):,} members (bulk_create) to reach {target:,}")


def make_csv(path, county, rows):
    """60 % of rows are visits of registry members (several per person, distinct dates), 40 %
    people in no household; 1 % bad rows (wrong check digit, an amount that is no number, an
    empty ID, a date that is no date)."""
    rng = random.Random(9)
    people = list(
        Member.objects.filter(household__village__path__startswith=county.path).values_list("id_number", "name")
    )
    registered = int(rows * 0.6)
    with open(path, "w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        outsider = 0
        for n in range(rows):
            if n % 5 < 3 and registered > 0:
                registered -= 1
                id_number, name = people[n % len(people)]
                day = datetime.date(2026, 1, 1) + datetime.timedelta(days=(n // len(people)) % 28)
            else:
                outsider += 1
                birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=outsider // 500)
                id_number = idnumber.make("110101", birth, outsider % 500 * 2 + 1)
                name, day = "外县人员", datetime.date(2026, 1, 1 + outsider % 28)
            total = rng.randint(200, 40_000)
            reimbursed = int(total * 0.6)
            row = [
                name,
                id_number,
                day.isoformat(),
                total,
                reimbursed,
                total - reimbursed,
                "是" if n % 7 == 0 else "否",
            ]
            if n % 100 == 50:  # 1 % bad rows, four kinds
                kind = n // 100 % 4
                if kind == 0:
                    row[1] = id_number[:17] + ("0" if id_number[17] != "0" else "1")
                elif kind == 1:
                    row[5] = "自付"
                elif kind == 2:
                    row[1] = ""
                else:
                    row[2] = "上周"
            writer.writerow(row)


def make_xlsx(path, csv_path, rows):
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("医保")
    with open(csv_path, encoding="gbk", newline="") as handle:
        for n, row in enumerate(csv.reader(handle)):
            if n > rows:
                break
            sheet.append(row)
    workbook.save(path)


def clear():
    """Bench only: empty the screening tables between runs, so each starts alike."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE screening_screeningrow, screening_screeningbadrow, screening_screeningchunk, "
            "screening_screeningupload"
        )
    shutil.rmtree(MEDIA / "screening", ignore_errors=True)


# --- (a) the floor -------------------------------------------------------------------------


def run_floor(csv_path, department):
    """No validation at all: the row number makes each key unique (bad rows would clash)."""
    upload = ScreeningUpload.objects.create(department=department, period=datetime.date(2025, 11, 1), status="done")
    county_path = department.county.path
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_raw (row_number bigserial, name text, id_number text, visit_date text,"
            " total_cost text, reimbursed text, self_paid text, inpatient text) ON COMMIT DROP"
        )
        with open(csv_path, "rb") as handle:
            cursor.copy_expert(
                "COPY bench_raw (name, id_number, visit_date, total_cost, reimbursed, self_paid, inpatient)"
                " FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'GBK')",
                handle,
            )
        cursor.execute(
            """
            INSERT INTO screening_screeningrow (upload_id, department_id, period, chunk, row_number, record_key,
                id_number, name, name_differs, member_id, household_id, village_id, town_id, amount, event_date,
                code, data)
            SELECT %s, %s, %s, 0, s.row_number + 1,
                   s.id_number || '|' || s.visit_date || '|' || s.inpatient || '|' || s.row_number,
                   s.id_number, s.name, COALESCE(r.name <> s.name, FALSE), r.member_id, r.household_id, r.village_id,
                   r.town_id,
                   CASE WHEN s.self_paid ~ '^[0-9]+(\\.[0-9]+)?$' THEN s.self_paid::numeric END,
                   CASE WHEN s.visit_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN s.visit_date::date END,
                   s.inpatient,
                   jsonb_build_object('visit_date', s.visit_date, 'total_cost', s.total_cost,
                                      'reimbursed', s.reimbursed, 'self_paid', s.self_paid, 'inpatient', s.inpatient)
            FROM bench_raw s
            LEFT JOIN (
                SELECT m.id AS member_id, m.id_number, m.name, m.household_id, h.village_id, v.parent_id AS town_id
                FROM households_member m
                JOIN households_household h ON h.id = m.household_id
                JOIN households_area v ON v.id = h.village_id
                WHERE v.path LIKE %s
            ) r ON r.id_number = s.id_number
            WHERE length(s.id_number) = 18
            """,
            [upload.pk, department.pk, upload.period, county_path + "%"],
        )
    return time.perf_counter() - started


# --- (b) the product's path ------------------------------------------------------------------


def run_product(path, department, workers, period):
    queue = f"bench-screening-{uuid.uuid4().hex[:8]}"
    processes = start_workers(queue, workers)
    client = Celery("bench-client", broker=REDIS_URL)
    try:
        with open(path, "rb") as handle:
            upload = ScreeningUpload.objects.create(
                department=department, period=period, file=File(handle, name=path.name), original_name=path.name
            )
        started = time.perf_counter()
        client.send_task("screening.prepare_upload", args=[upload.pk], queue=queue)
        while True:
            upload.refresh_from_db()
            if upload.status in ("done", "failed"):
                break
            if any(p.poll() is not None for p, _ in processes):
                sys.exit("a worker stopped:\n" + "\n".join(log.read_text()[-3000:] for _, log in processes))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        if upload.status != "done":
            sys.exit(f"the upload failed: {upload.error_message}\n" + processes[0][1].read_text()[-3000:])
        memory = [peak_mb(p.pid) for p, _ in processes]
        assert ScreeningRow.objects.filter(upload=upload).count() == upload.rows_valid
        return seconds, memory, upload
    finally:
        client.close()
        # The finished upload's warning rules may be running: the bench does not wait for them.
        for process, _ in processes:
            process.kill()
        for process, _ in processes:
            process.wait(timeout=30)


def start_workers(queue, count):
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": queue,
        "DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
    }
    processes = []
    for number in range(count):
        log = Path(tempfile.gettempdir()) / f"{queue}-{number}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "fanpin",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "-n",
                f"{queue}-{number}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=open(log, "wb"),  # noqa: SIM115 - the worker writes to it until it stops
            stderr=subprocess.STDOUT,
        )
        processes.append((process, log))
    time.sleep(1)
    probe = Celery("bench-probe", broker=REDIS_URL, backend=REDIS_URL)
    try:
        for _ in range(count):
            probe.send_task("fanpin.ping", queue=queue).get(timeout=60)
    finally:
        probe.close()
    return processes


def peak_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- (c) the naive loop ----------------------------------------------------------------------


def run_naive(csv_path, department, county, rows):
    """What one would write first: read a row, look the person up, save a row; repeat."""
    from decimal import Decimal

    upload = ScreeningUpload.objects.create(department=department, period=datetime.date(2025, 10, 1), status="done")
    with open(csv_path, encoding="gbk", newline="") as handle:
        lines = [line for _, line in zip(range(rows + 1), handle, strict=False)]
    started = time.perf_counter()
    reader = csv.reader(io.StringIO("".join(lines)))
    next(reader)
    for number, (name, id_text, day, total, reimbursed, paid, inpatient) in enumerate(reader, start=2):
        try:
            id_number = idnumber.parse(id_text).number
            amount = Decimal(paid)
            visit = datetime.date.fromisoformat(day)
        except Exception:  # noqa: BLE001 - a bad row: skipped in the naive loop
            continue
        member = (
            Member.objects.select_related("household__village")
            .filter(id_number=id_number, household__village__path__startswith=county.path)
            .first()
        )
        household = member.household if member else None
        ScreeningRow.objects.create(
            upload=upload,
            department=department,
            period=upload.period,
            chunk=0,
            row_number=number,
            record_key=f"{id_number}|{day}|{inpatient}|",
            id_number=id_number,
            name=name,
            member=member,
            household=household,
            village=household.village if household else None,
            town=Area(pk=household.village.parent_id) if household else None,
            amount=amount,
            event_date=visit,
            code=inpatient,
            data={"total_cost": total, "reimbursed": reimbursed, "self_paid": paid},
        )
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
