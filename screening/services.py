"""Screening uploads: accept a department file, read it, process it in chunks, make it the
period's data (DOMAIN.md §6; seed 004 §三(三) 部门筛查预警).

The steps, each a plain function the Celery tasks (screening.tasks) and the management command
call alike:

1. `upload_create` (the page, the API, the command): checks who may upload for which
   department, refuses a file that cannot be read or is not the department's layout (nothing
   is stored), stores the file and enqueues step 2 on commit.
2. `upload_prepare`: claims the queued upload and cuts the file into chunks of consecutive
   rows (a text file into byte ranges, a workbook into runs of the rows it reads), storing
   each chunk and sending it to the workers at once, while the rest is still being read.
3. `chunk_process`, on any worker, in parallel: validates its rows, matches them to the
   registry set-based (screening.matching) and writes its ScreeningRow and bad rows in one
   transaction. Idempotent: a chunk already done is not written again, and a chunk of an
   earlier attempt does nothing.
4. `upload_finalize`, run by whichever task finds every chunk done (`finalize_if_done`: the
   last chunk's, or the prepare task's when the workers were faster): one transaction settles
   records that two chunks hold, makes the upload the period's current data and deletes the
   previous upload's rows.

Each write step is split as `check_…` (validates and takes the row lock, returns the locked
row or None when there is nothing to do) and `do_…` (writes; must be called with that lock
held, inside the same transaction). The workers' path and the in-process path of the
command share them.
"""

import datetime
import functools
import itertools
import json
import logging
import marshal
import math
import operator
import pickle
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from celery import Signature
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string

from fanpin.celery import app as celery_app
from households import broker, spreadsheets
from households import selectors as household_selectors
from households.models import Department
from households.spreadsheets import SUPPORTED_EXTENSIONS, SpreadsheetError

from . import matching, parsing
from .layouts import layout_for
from .models import ScreeningBadRow, ScreeningChunk, ScreeningUpload
from .selectors import counties_of_officer, department_staff_of

logger = logging.getLogger(__name__)

PERIOD = re.compile(r"^(\d{4})-(\d{1,2})$")
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_CHUNKS = 256  # a file is cut into ceil(rows / SCREENING_CHUNK_ROWS) chunks, at most this many
# What a chunk's payload holds: a byte range of a text file, or rows (pickled or marshalled: _pack).
TEXT_RANGE, ROW_RUN, ROW_MARSHAL = b"T", b"R", b"M"
PROGRESS_EVERY = 50_000
READ_SHARE = 10  # progress 0-10 while the file is read, 10-95 while chunks run
STALE_QUEUED = timedelta(minutes=10)
STALE_RUNNING = timedelta(minutes=15)  # no progress for this long: the worker died
MAX_ATTEMPTS = 3
INTERRUPTED_MESSAGE = "处理中断：处理程序多次在处理过程中停止。上传的文件已保存，该月份原有数据未受影响，请重新上传。"
SYSTEM_ERROR_MESSAGE = "处理时发生系统错误，未能完成。上传的文件已保存，该月份原有数据未受影响，请联系系统管理员。"


class UploadConflict(Exception):
    """The department already has a file of that month being processed (API: 409)."""


# --- who uploads for which department --------------------------------------------------------


def check_upload_department(user: Any, *, kind: str | None, county: str | None = None) -> Department:
    """The department `user` uploads for. Department staff: their own (another department of
    their county is 403); county officers: any department of their county (`kind` required);
    administrators: `kind` and `county` (a name or code) when the deployment has several.
    Everyone else: 403. A department of another county is 404 (never revealed)."""
    if kind and kind not in Department.Kind.values:
        raise ValidationError(
            {"department": [f"「{kind}」不是有效的部门，可选：{'、'.join(Department.Kind.values)}。"]}
        )
    own = department_staff_of(user)
    counties = counties_of_officer(user)
    if household_selectors.is_admin(user):
        departments = Department.objects.select_related("county")
        if county:
            departments = departments.filter(Q(county__name=county) | Q(county__code=county))
        if not kind:
            raise ValidationError({"department": ["请选择部门。"]})
        found = list(departments.filter(kind=kind)[:2])
        if len(found) != 1:
            if found:
                raise ValidationError({"county": ["多个县都有该部门，请指定县。"]})
            raise Http404("没有找到该部门。")
        return found[0]
    for department in own:
        if not kind or kind == department.kind:
            return department
    if counties:
        if not kind:
            raise ValidationError({"department": ["请选择部门。"]})
        in_county = Department.objects.filter(county__in=counties, kind=kind).select_related("county").first()
        if in_county is None:
            raise Http404("本县没有该部门。")
        return in_county
    if own:
        if Department.objects.filter(county__in=[d.county_id for d in own], kind=kind).exists():
            raise PermissionDenied("行业部门人员只能上传本部门的数据。")
        raise Http404("没有找到该部门。")
    raise PermissionDenied("只有行业部门人员和县乡村振兴局可以上传部门筛查数据。")


def parse_period(text: str, today: datetime.date | None = None) -> datetime.date:
    """A month as YYYY-MM (the first day of it); not after the current month."""
    match = PERIOD.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError({"period": ["数据月份应写成 YYYY-MM，例如 2026-01。"]})
    period = datetime.date(int(match.group(1)), int(match.group(2)), 1)
    today = today or timezone.localdate()
    if period > today.replace(day=1) or period.year < 2000:
        raise ValidationError({"period": [f"数据月份 {text} 不合理（不能晚于本月）。"]})
    return period


def check_file(department: Department, upload: IO[bytes], name: str, size: int) -> parsing.FileLayout:
    """Refuse, with the reason, a file that is not a spreadsheet, is empty, or is not the
    department's layout: read up to the header, nothing is stored."""
    if not (name or "").lower().endswith(SUPPORTED_EXTENSIONS):
        raise ValidationError({"file": ["只支持 .xlsx、.xls、.csv 和 .txt（制表符分隔）文件。"]})
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": ["文件超过 200 MB，请分批上传。"]})
    try:
        file_layout, _ = parsing.open_file(layout_for(department.kind), upload, name)
    except SpreadsheetError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    finally:
        upload.seek(0)
    return file_layout


def check_upload_create(department: Department, period: datetime.date) -> Department:
    """Lock the department row (two uploads of one department and month are serialised) and
    refuse a second file while one is queued or running. Call inside transaction.atomic()."""
    locked = Department.objects.select_for_update().get(pk=department.pk)
    if ScreeningUpload.objects.filter(department=locked, period=period, status__in=ScreeningUpload.ACTIVE).exists():
        raise UploadConflict(f"{locked.name} {period:%Y-%m} 已有一份文件正在处理，请等它完成后再上传。")
    return locked


def _store_upload(
    *, department: Department, period: datetime.date, upload: "File[bytes]", name: str, user: Any
) -> ScreeningUpload:
    """Store the file as a queued upload; the department row must be locked (check_upload_create).
    The task is enqueued after the commit (STYLE.md: no .delay() inside an open transaction)."""
    try:
        with transaction.atomic():
            created = ScreeningUpload.objects.create(
                department=department,
                period=period,
                file=upload,
                original_name=name[:255],
                uploaded_by=user if getattr(user, "is_authenticated", False) else None,
            )
    except IntegrityError:  # the one-active constraint: a concurrent upload won
        raise UploadConflict(f"{department.name} {period:%Y-%m} 已有一份文件正在处理，请等它完成后再上传。") from None
    transaction.on_commit(lambda: send_prepare_or_wait(created.pk))
    return created


def upload_create(
    *, user: Any, kind: str | None, period: str, upload: "File[bytes]", county: str | None = None
) -> ScreeningUpload:
    """Upload a department file (page, API and command). Raises PermissionDenied / Http404 for
    the department, ValidationError for the period or the file, UploadConflict when the month
    is already being processed."""
    department = check_upload_department(user, kind=kind, county=county)
    month = parse_period(period)
    check_file(department, upload, upload.name or "", upload.size or 0)
    with transaction.atomic():
        locked = check_upload_create(department, month)
        created = _store_upload(department=locked, period=month, upload=upload, name=upload.name or "", user=user)
    created.refresh_from_db(fields=["notices"])  # send_prepare_or_wait ran on the commit
    return created


# --- step 2: read the file into chunks -------------------------------------------------------


def upload_prepare(*, upload_id: int, send: bool = False) -> tuple[int, int] | None:
    """Claim a queued upload and read its file into chunks; return (chunks, attempt), or None
    when there is nothing more to do: the upload was not queued (claimed elsewhere: Celery
    delivers a task at least once) or its file was refused (the upload is failed). With
    `send`, each chunk is sent to the workers as soon as it is stored (send_chunk), while the
    rest of the file is still being read."""
    now = timezone.now()
    upload = ScreeningUpload.objects.filter(pk=upload_id, status=ScreeningUpload.Status.QUEUED).first()
    if upload is None:
        return None
    claimed = ScreeningUpload.objects.filter(pk=upload_id, status=ScreeningUpload.Status.QUEUED).update(
        status=ScreeningUpload.Status.RUNNING,
        attempt=upload.attempt + 1,
        started_at=now,
        heartbeat_at=now,
        progress=0,
        error_message="",
    )
    if claimed != 1:
        return None
    upload = ScreeningUpload.objects.select_related("department").get(pk=upload_id)
    try:
        chunks = _read_into_chunks(upload, send=send)
    except SpreadsheetError as exc:
        upload_fail(upload_id=upload_id, message=str(exc))
        return None
    except Exception:
        logger.exception("Screening upload %s could not be read", upload_id)
        upload_fail(upload_id=upload_id, message=SYSTEM_ERROR_MESSAGE)
        return None
    return chunks, upload.attempt


def upload_prepare_and_send(*, upload_id: int) -> None:
    """The prepare task: read the file and send each chunk to the workers as it is stored
    (committed first: the task runs outside any transaction), then finalize if the workers
    have done every chunk already."""
    prepared = upload_prepare(upload_id=upload_id, send=True)
    if prepared is not None:
        finalize_if_done(upload_id=upload_id, attempt=prepared[1])


def _read_into_chunks(upload: ScreeningUpload, *, send: bool = False) -> int:
    """Cut the file into chunks of about SCREENING_CHUNK_ROWS consecutive rows. A text file is
    cut at line breaks without being parsed (each chunk is a byte range its worker decodes and
    reads: the file is read in parallel); a workbook, or a text file whose rows are not simply
    its lines, is read here and its rows are stored in runs, each run stored (and, with
    `send`, sent) before the next is read: the workers start on the first rows while this
    task reads the rest. The upload's chunks_total is set once the last chunk is stored."""
    layout = layout_for(upload.department.kind)
    chunk_rows = max(1, int(getattr(settings, "SCREENING_CHUNK_ROWS", 10_000)))
    with upload.file.open("rb") as handle:
        file_layout, rows = parsing.open_file(layout, handle, upload.original_name)
    table = file_layout.table
    ranges = None
    if table is not None and table.data:
        lines = spreadsheets.text_line_count(table, file_layout.first_data_row)
        count = max(1, min(MAX_CHUNKS, math.ceil(lines / chunk_rows)))
        ranges = spreadsheets.text_line_ranges(table, file_layout.first_data_row, count)
    notices = []
    if file_layout.ignored:
        notices.append(f"以下列不在{layout.label}部门模板中，已忽略：{'、'.join(file_layout.ignored)}。")
    # What a chunk's worker needs of the upload (the columns found), and no rows of an earlier
    # attempt, committed before the first chunk is.
    with transaction.atomic():
        ScreeningChunk.objects.filter(upload=upload).delete()
        ScreeningBadRow.objects.filter(upload=upload).delete()
        matching.delete_rows(upload_id=upload.pk)
        ScreeningUpload.objects.filter(pk=upload.pk).update(
            file_format=file_layout.file_format,
            sheet=file_layout.sheet[:100],
            header_rows=file_layout.header_rows,
            columns=[[k, file_layout.headers[k]] for k in file_layout.keys],
            notices=notices,
            chunks_total=0,
            heartbeat_at=timezone.now(),
        )
    seen = [0]  # rows stored in runs
    payloads: Iterator[bytes]
    if ranges is not None:
        assert table is not None
        payloads = (_text_range(table, file_layout, *part) for part in ranges)
    else:
        payloads = _row_runs(upload, rows, file_layout.positions, chunk_rows, seen)
    in_database = bool(getattr(settings, "SCREENING_CHUNKS_IN_DATABASE", False))
    sending = send
    total = 0
    for index, payload in enumerate(payloads):
        # One chunk at a time: a single INSERT of every chunk held the whole file twice more
        # (the statement's escaped bytes), 600 MB of a worker's memory for a 58 MB file.
        if ranges is not None and table is not None and in_database:
            start, end, _ = ranges[index]
            payload += b"\n" + table.data[start:end]
        ScreeningChunk.objects.create(upload=upload, index=index, attempt=upload.attempt, payload=payload)
        total += 1
        # A chunk that cannot be sent (the broker is away) stays undone: the sweep restarts the upload.
        sending = sending and send_chunk(upload.pk, index, upload.attempt)
    if table is not None:
        table.data = b""
    running = ScreeningUpload.objects.filter(
        pk=upload.pk, status=ScreeningUpload.Status.RUNNING, attempt=upload.attempt
    )
    if not running.update(chunks_total=total, heartbeat_at=timezone.now()):
        # A chunk failed the upload while the file was still being read: drop what is left.
        ScreeningChunk.objects.filter(upload=upload, attempt=upload.attempt).delete()
        return total
    running.filter(rows_read__lt=seen[0]).update(rows_read=seen[0])
    running.filter(progress__lt=READ_SHARE).update(progress=READ_SHARE)
    _record_progress(upload.pk)
    return total


def _text_range(
    table: spreadsheets.Table, file_layout: parsing.FileLayout, start: int, end: int, first_row: int
) -> bytes:
    """Where a chunk's lines are in the stored file: its worker reads them from there (or, with
    SCREENING_CHUNKS_IN_DATABASE, from the bytes added as the chunk is written)."""
    head: dict[str, Any] = {"encoding": table.encoding, "delimiter": table.delimiter}
    head.update(positions=file_layout.positions, start=start, end=end, first_row=first_row)
    return TEXT_RANGE + json.dumps(head).encode()


def _row_runs(
    upload: ScreeningUpload,
    rows: Iterator[spreadsheets.NumberedRow],
    positions: list[int],
    chunk_rows: int,
    seen: list[int],
) -> Iterator[bytes]:
    """The rows read here (a workbook's), the layout's cells of each, in runs of `chunk_rows`
    (packed: _pack), each yielded as soon as it is complete; `seen` ends as the rows stored."""
    width = max(positions) + 1
    pick = operator.itemgetter(*positions)  # two positions at least (the ID number and one more): a tuple
    identity, second = positions == list(range(width)), operator.itemgetter(1)
    run: list[tuple[int, list[Any]]] = []
    read = made = 0
    while batch := list(itertools.islice(rows, chunk_rows)):
        # A batch at a time, in comprehensions: statements per row cost ~1 s per 200,000 rows.
        if identity and set(map(len, map(second, batch))) == {width}:
            picked = batch  # the layout's columns are the rows' columns, in order (the template's own layout)
        else:
            picked = [(n, list(pick(v if len(v) >= width else v + [None] * (width - len(v))))) for n, v in batch]
        run.extend(r for r in picked if any(r[1]) or _has_content(r[1]))  # not blank in every layout column
        while len(run) >= chunk_rows and made < MAX_CHUNKS - 1:
            yield _pack(run[:chunk_rows])
            made += 1
            seen[0] += chunk_rows
            del run[:chunk_rows]
        read += len(batch)
        if read // PROGRESS_EVERY > (read - len(batch)) // PROGRESS_EVERY:
            ScreeningUpload.objects.filter(pk=upload.pk, rows_read__lt=seen[0] + len(run)).update(
                rows_read=seen[0] + len(run), heartbeat_at=timezone.now()
            )
    seen[0] += len(run)
    if run or not made:
        yield _pack(run)


def task(name: str, *args: int) -> Signature:
    """A task of screening.tasks by its name: services never import the tasks module (which
    imports them). Sent like the task itself (eagerly when no broker is configured)."""
    return celery_app.signature(name, args=args, immutable=True)


def send_prepare(upload_id: int) -> None:
    task("screening.prepare_upload", upload_id).apply_async()


def send_prepare_or_wait(upload_id: int) -> None:
    """Send a committed upload to the workers; if the broker cannot be reached (Redis
    restarting), it stays queued with a notice saying so, and the sweep sends it later."""
    if not broker.send_or_wait(lambda: send_prepare(upload_id), f"screening upload {upload_id}"):
        ScreeningUpload.objects.filter(pk=upload_id, status=ScreeningUpload.Status.QUEUED).update(
            notices=[broker.WAITING_NOTICE]
        )


def send_chunk(upload_id: int, index: int, attempt: int) -> bool:
    """Send a stored chunk to the workers; False when the broker cannot be reached."""
    return broker.send_or_wait(
        lambda: task("screening.process_chunk", upload_id, index, attempt).apply_async(),
        f"screening upload {upload_id} chunk {index}",
    )


def finalize_if_done(*, upload_id: int, attempt: int) -> bool:
    """Finalize the upload if every one of its chunks is done: called by each chunk's task
    after its commit and by the prepare task after the last chunk is stored, so whichever
    commits last finds them all done (a counter in the database instead of a chord, whose
    tasks would all have to be known before the first could start). Two callers finding it
    at once are serialised by check_finalize's lock: the second finds the upload done."""
    total = (
        ScreeningUpload.objects.filter(pk=upload_id, status=ScreeningUpload.Status.RUNNING, attempt=attempt)
        .values_list("chunks_total", flat=True)
        .first()
    )
    if not _all_chunks_done(upload_id, attempt, total or 0):
        return False
    return upload_finalize(upload_id=upload_id, attempt=attempt)


def _all_chunks_done(upload_id: int, attempt: int, chunks_total: int) -> bool:
    """Every chunk of the attempt is done; never while chunks are still being stored (the
    upload's chunks_total is 0 until the last one is)."""
    done = ScreeningChunk.objects.filter(upload_id=upload_id, attempt=attempt, done=True)
    return chunks_total > 0 and done.count() == chunks_total


def file_layout_of(upload: ScreeningUpload) -> parsing.FileLayout:
    layout = layout_for(upload.department.kind)
    keys = [k for k, _ in upload.columns]
    return parsing.FileLayout(
        layout=layout,
        file_format=upload.file_format,
        sheet=upload.sheet,
        header_rows=upload.header_rows,
        keys=keys,
        positions=list(range(len(keys))),
        headers=dict(upload.columns),
        ignored=[],
    )


# --- step 3: one chunk ----------------------------------------------------------------------


def check_chunk(*, upload_id: int, index: int, attempt: int) -> ScreeningChunk | None:
    """Lock the chunk row; None when there is nothing to do (already done by another delivery,
    an earlier attempt's message, or the upload failed meanwhile). Call inside transaction.atomic()."""
    chunk = (
        # Only the chunk row: idempotence needs no more, and a plain FOR UPDATE over the join
        # also locked the upload, department and county rows, so chunks ran one at a time.
        ScreeningChunk.objects.select_for_update(of=("self",))
        .select_related("upload__department__county")
        .filter(upload_id=upload_id, index=index)
        .first()
    )
    if chunk is None or chunk.done or chunk.attempt != attempt:
        return None
    upload = chunk.upload
    if upload.status != ScreeningUpload.Status.RUNNING or upload.attempt != attempt:
        return None
    return chunk


def do_chunk(chunk: ScreeningChunk) -> None:
    """Validate, match and write one chunk's rows; the chunk row must be locked (check_chunk),
    which makes a second delivery wait and then find the chunk done."""
    upload = chunk.upload
    file_layout = file_layout_of(upload)
    result = parsing.parse_chunk(file_layout, _chunk_rows(upload, bytes(chunk.payload or b"")))
    # Nothing of this chunk is written yet: its rows and its done flag commit together, and a
    # new attempt starts from an upload with no rows (upload_prepare deletes them).
    matched, collided = _insert(upload, file_layout, chunk.index, result.records)
    _write_bad_rows(upload, chunk.index, [(bad, result.bad_cells.get(bad.row, [])) for bad in result.bad])
    if result.repeated or collided:
        # Records another chunk may hold too: settled when every chunk is done (settle_duplicates).
        taken = set(collided)
        others = [(r, result.cells[r[0]]) for r in result.records if r[0] in taken]
        chunk.duplicates = _compress({"repeated": result.repeated, "collided": others})
    chunk.done = True
    chunk.rows_read = result.rows_read
    chunk.rows_valid = len(result.records) - len(collided)
    chunk.rows_invalid = result.rows_invalid
    chunk.rows_matched = matched
    chunk.rows_skipped = result.rows_skipped
    chunk.save(
        update_fields=[
            "duplicates", "done", "rows_read", "rows_valid", "rows_invalid", "rows_matched", "rows_skipped"
        ]
    )  # fmt: skip


def _insert(
    upload: ScreeningUpload, file_layout: parsing.FileLayout, chunk: int, records: list[tuple[Any, ...]]
) -> tuple[int, list[int]]:
    layout = file_layout.layout
    return matching.insert_rows(
        upload_id=upload.pk,
        department_id=upload.department_id,
        period=upload.period,
        chunk=chunk,
        county_path=upload.department.county.path,
        value_keys=parsing.value_keys(file_layout),
        amount=layout.amount,
        event_date=layout.event_date,
        code=layout.code,
        rows=records,
    )


def _write_bad_rows(upload: ScreeningUpload, chunk: int, bad: list[tuple[parsing.BadCell, list[str]]]) -> None:
    ScreeningBadRow.objects.bulk_create(
        [
            ScreeningBadRow(
                upload=upload, chunk=chunk, row=b.row, column=b.column[:100], reason=b.reason[:300], cells=cells
            )
            for b, cells in bad
        ],
        batch_size=1000,
    )


def chunk_process(*, upload_id: int, index: int, attempt: int) -> bool:
    """Process one chunk. Returns False when there was nothing to do."""
    try:
        with transaction.atomic():
            chunk = check_chunk(upload_id=upload_id, index=index, attempt=attempt)
            if chunk is None:
                return False
            do_chunk(chunk)
    except Exception:
        logger.exception("Screening upload %s chunk %s failed", upload_id, index)
        upload_fail(upload_id=upload_id, message=SYSTEM_ERROR_MESSAGE, attempt=attempt)
        return False
    _record_progress(upload_id)
    return True


def chunk_process_and_finalize(*, upload_id: int, index: int, attempt: int) -> bool:
    """The chunk task: process the chunk, then finalize the upload if it was the last one."""
    processed = chunk_process(upload_id=upload_id, index=index, attempt=attempt)
    if processed:
        finalize_if_done(upload_id=upload_id, attempt=attempt)
    return processed


def _record_progress(upload_id: int) -> None:
    """Counts of the chunks done so far, in autocommit so the page sees them at once."""
    done = ScreeningChunk.objects.filter(upload_id=upload_id, done=True)
    totals = done.aggregate(
        read=Sum("rows_read"), valid=Sum("rows_valid"), invalid=Sum("rows_invalid"), matched=Sum("rows_matched")
    )
    upload = ScreeningUpload.objects.filter(pk=upload_id).values("chunks_total").first()
    if upload is None:
        return
    share = done.count() / upload["chunks_total"] if upload["chunks_total"] else 0.0  # 0: still being stored
    running = ScreeningUpload.objects.filter(pk=upload_id, status=ScreeningUpload.Status.RUNNING)
    running.filter(rows_read__lt=totals["read"] or 0).update(rows_read=totals["read"] or 0)
    running.update(
        rows_valid=totals["valid"] or 0,
        rows_invalid=totals["invalid"] or 0,
        rows_matched=totals["matched"] or 0,
        rows_unmatched=(totals["valid"] or 0) - (totals["matched"] or 0),
        progress=min(95, READ_SHARE + int(share * (95 - READ_SHARE))),
        heartbeat_at=timezone.now(),
    )


def _has_content(cells: list[Any]) -> bool:
    return any(c is not None and c != "" for c in cells)


def _pack(rows: list[tuple[int, list[Any]]]) -> bytes:
    """A run of rows read by this process (a workbook's cells), compressed: as marshal data when
    every cell is a plain value (text, number; three times faster than pickle both ways), else
    (dates) as a pickle. Written and read only by this app (the same code and Python on every
    worker), never data that came from outside."""
    try:
        return ROW_MARSHAL + zlib.compress(marshal.dumps(rows), 1)
    except ValueError:  # a date or time cell
        return ROW_RUN + zlib.compress(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _compress(value: object) -> bytes:
    return zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _uncompress(payload: bytes) -> Any:
    return pickle.loads(zlib.decompress(payload))  # noqa: S301 - written by this module, see _pack


def _chunk_rows(upload: ScreeningUpload, payload: bytes) -> Iterator[tuple[int, list[Any]]]:
    """A chunk's rows (row number, the layout's cells), in file order: a run of rows read by the
    prepare task, or a byte range of the stored text file, read here (so the file is read by
    every worker at once) unless the prepare task copied its bytes into the chunk."""
    if payload[:1] == ROW_RUN:
        yield from _uncompress(payload[1:])
        return
    if payload[:1] == ROW_MARSHAL:
        yield from marshal.loads(zlib.decompress(payload[1:]))  # written by _pack
        return
    end_of_head = payload.find(b"\n")
    head = json.loads(payload[1 : end_of_head if end_of_head > 0 else len(payload)])
    if end_of_head > 0:
        data = payload[end_of_head + 1 :]
    else:
        with upload.file.storage.open(str(upload.file.name), "rb") as handle:
            handle.seek(head["start"])
            data = handle.read(head["end"] - head["start"])
        if len(data) != head["end"] - head["start"]:
            raise OSError(f"the stored file of upload {upload.pk} is shorter than when it was prepared")
    positions = head["positions"]
    width = max(positions) + 1
    for row_number, values in spreadsheets.read_text_range(
        data, head["encoding"], head["delimiter"], head["first_row"]
    ):
        if len(values) < width:
            values = values + [""] * (width - len(values))
        cells = [values[p] for p in positions]
        if any(cells):
            yield row_number, cells


# --- step 4: make it the period's data -----------------------------------------------------


def check_finalize(*, upload_id: int, attempt: int) -> ScreeningUpload | None:
    """Lock the upload and its department; None unless it is running this attempt with every
    chunk done. Call inside transaction.atomic()."""
    upload = ScreeningUpload.objects.select_for_update().filter(pk=upload_id).first()
    if upload is None or upload.status != ScreeningUpload.Status.RUNNING or upload.attempt != attempt:
        return None
    if not _all_chunks_done(upload_id, attempt, upload.chunks_total):
        return None  # chunks still pending, or still being stored
    Department.objects.select_for_update().get(pk=upload.department_id)
    return upload


def do_finalize(upload: ScreeningUpload) -> None:
    """The upload becomes the period's current data and the previous upload's rows go, in one
    transaction: readers see the old rows or the new ones, never a mix. Needs check_finalize's locks."""
    totals = upload.chunks.aggregate(
        read=Sum("rows_read"),
        valid=Sum("rows_valid"),
        invalid=Sum("rows_invalid"),
        matched=Sum("rows_matched"),
        skipped=Sum("rows_skipped"),
    )
    if settle_duplicates(upload):
        totals.update(matching.count_rows(upload_id=upload.pk))
        totals["invalid"] = ScreeningBadRow.objects.filter(upload=upload).values("row").distinct().count()
    previous = list(
        ScreeningUpload.objects.select_for_update()
        .filter(department_id=upload.department_id, period=upload.period, is_current=True)
        .exclude(pk=upload.pk)
    )
    for old in previous:
        old.is_current = False
        old.save(update_fields=["is_current"])
        matching.delete_rows(upload_id=old.pk)
    valid, matched = totals["valid"] or 0, totals["matched"] or 0
    upload.status = ScreeningUpload.Status.DONE
    upload.is_current = True
    upload.rows_read = totals["read"] or 0
    upload.rows_valid = valid
    upload.rows_invalid = totals["invalid"] or 0
    upload.rows_matched = matched
    upload.rows_unmatched = valid - matched
    upload.rows_skipped = totals["skipped"] or 0
    upload.progress = 100
    upload.finished_at = upload.heartbeat_at = timezone.now()
    upload.save()
    upload.chunks.all().delete()
    for path in getattr(settings, "SCREENING_UPLOAD_DONE", ()):
        # What runs on a finished upload (the warning rules): named in settings, after the commit.
        transaction.on_commit(functools.partial(import_string(path), upload_id=upload.pk))


def settle_duplicates(upload: ScreeningUpload) -> bool:
    """Settle the records found in more than one chunk, as if the file were one chunk: each
    chunk settled its own repeats and kept the first occurrence; here every occurrence of a
    record that two chunks hold is put in file order again (parsing.resolve_duplicates), its
    rows and bad rows rewritten. Returns whether anything was rewritten. Needs check_finalize's locks."""
    file_layout = file_layout_of(upload)
    found: dict[str, dict[int, tuple[int, parsing.Occurrence]]] = {}
    for index, blob in upload.chunks.exclude(duplicates=None).values_list("index", "duplicates"):
        info = _uncompress(bytes(blob or b""))
        for occurrences in info["repeated"].values():
            for occurrence in occurrences:
                found.setdefault(occurrence[0][1], {})[occurrence[0][0]] = (index, occurrence)
        for occurrence in info["collided"]:
            found.setdefault(occurrence[0][1], {})[occurrence[0][0]] = (index, occurrence)
    if not found:
        return False
    written = matching.rows_of_keys(upload_id=upload.pk, record_keys=list(found))
    missing: dict[int, set[int]] = {}  # chunk -> rows written whose cells are not known here
    for record_key, row_number, chunk in written:
        if row_number not in found[record_key]:
            missing.setdefault(chunk, set()).add(row_number)
    for chunk, numbers in missing.items():
        payload = upload.chunks.filter(index=chunk).values_list("payload", flat=True).get()
        rows = [r for r in _chunk_rows(upload, bytes(payload or b"")) if r[0] in numbers]
        result = parsing.parse_chunk(file_layout, rows)
        for record in result.records:
            found[record[1]][record[0]] = (chunk, (record, result.cells[record[0]]))
    settle = {key: rows for key, rows in found.items() if len({chunk for chunk, _ in rows.values()}) > 1}
    if not settle:
        return False
    winners: dict[int, list[tuple[Any, ...]]] = {}
    bad: dict[int, list[tuple[parsing.BadCell, list[str]]]] = {}
    for rows_of_key in settle.values():
        chunk_of = {row: chunk for row, (chunk, _) in rows_of_key.items()}
        winner, rejected = parsing.resolve_duplicates(file_layout, [o for _, (_, o) in sorted(rows_of_key.items())])
        if winner is not None:
            winners.setdefault(chunk_of[winner[0][0]], []).append(winner[0])
        for cell, texts in rejected:
            bad.setdefault(chunk_of[cell.row], []).append((cell, texts))
    written_rows = [row for rows_of_key in settle.values() for row in rows_of_key]
    for start in range(0, len(written_rows), 5000):
        ScreeningBadRow.objects.filter(upload=upload, row__in=written_rows[start : start + 5000]).delete()
    matching.delete_rows(upload_id=upload.pk, record_keys=list(settle))
    for chunk, records in sorted(winners.items()):
        _insert(upload, file_layout, chunk, sorted(records))
    for chunk, cells in sorted(bad.items()):
        _write_bad_rows(upload, chunk, sorted(cells, key=lambda b: b[0].row))
    return True


def upload_finalize(*, upload_id: int, attempt: int) -> bool:
    with transaction.atomic():
        upload = check_finalize(upload_id=upload_id, attempt=attempt)
        if upload is None:
            return False
        do_finalize(upload)
    return True


def upload_fail(*, upload_id: int, message: str, attempt: int | None = None) -> None:
    """Fail an upload and drop what its chunks wrote; the period's current rows are untouched."""
    with transaction.atomic():
        active = ScreeningUpload.objects.select_for_update().filter(pk=upload_id, status__in=ScreeningUpload.ACTIVE)
        if attempt is not None:
            active = active.filter(attempt=attempt)
        if not active.exists():
            return
        active.update(status=ScreeningUpload.Status.FAILED, error_message=message, finished_at=timezone.now())
        matching.delete_rows(upload_id=upload_id)
        ScreeningChunk.objects.filter(upload_id=upload_id).delete()


def upload_run_inline(*, upload_id: int) -> ScreeningUpload:
    """Steps 2-4 in this process, chunk after chunk (the management command): the same
    functions the workers run, so the result is the same."""
    prepared = upload_prepare(upload_id=upload_id)
    if prepared is not None:
        chunks, attempt = prepared
        for index in range(chunks):
            chunk_process(upload_id=upload_id, index=index, attempt=attempt)
        upload_finalize(upload_id=upload_id, attempt=attempt)
    return ScreeningUpload.objects.get(pk=upload_id)


# --- recovery ------------------------------------------------------------------------------


@dataclass
class SweepResult:
    resent: int = 0
    restarted: int = 0
    failed: int = 0


def uploads_sweep(now: datetime.datetime | None = None) -> SweepResult:
    """Run by beat: re-send uploads whose message was lost, restart (from the stored file)
    uploads whose worker died, and after MAX_ATTEMPTS fail them. Nothing of a stopped run is
    visible: its rows belong to an upload that is not current, and are replaced or deleted."""
    now = now or timezone.now()
    result = SweepResult()
    for upload_id in ScreeningUpload.objects.filter(
        status=ScreeningUpload.Status.QUEUED, created_at__lt=now - STALE_QUEUED
    ).values_list("pk", flat=True):
        send_prepare_or_wait(upload_id)
        result.resent += 1
    stale = ScreeningUpload.objects.filter(status=ScreeningUpload.Status.RUNNING, heartbeat_at__lt=now - STALE_RUNNING)
    for upload_id, attempt in stale.values_list("pk", "attempt"):
        if attempt >= MAX_ATTEMPTS:
            upload_fail(upload_id=upload_id, message=INTERRUPTED_MESSAGE)
            result.failed += 1
            continue
        # Back to queued (only if still stale: a chunk may have reported meanwhile); the next
        # prepare claims it with a new attempt, so the old attempt's chunk messages do nothing.
        if stale.filter(pk=upload_id, attempt=attempt).update(status=ScreeningUpload.Status.QUEUED):
            send_prepare_or_wait(upload_id)  # the beat task runs in autocommit: the update is committed
            result.restarted += 1
    if result.resent or result.restarted or result.failed:
        logger.warning("Screening sweep: %s", result)
    return result
