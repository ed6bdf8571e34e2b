"""Registry imports uploaded on the page, run in the background (households.tasks).

`import_job_create` stores the upload and enqueues the job once the row is committed;
`import_job_run` is the plain function the Celery task calls: it claims the job, imports the
file with households.importer and stores the report. The management command does not use
jobs: it imports synchronously and prints the report.
"""

import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone

from . import broker, importer, selectors
from .models import ImportJob

logger = logging.getLogger(__name__)

# A running job reports progress every thousand rows or so (each one moves heartbeat_at); one
# that has not moved for this long lost its worker (killed, restarted, out of memory) and would
# otherwise show 正在导入 for ever. The sweep runs it again from its stored file: households are
# matched by 户编号 and members by 身份证号, so what the stopped run saved is not saved twice.
STALE_RUNNING = timedelta(minutes=15)
# A job still queued after this long lost its message (broker restarted): send it again.
STALE_QUEUED = timedelta(minutes=10)
# A file that stopped its worker this many times is not tried again.
MAX_ATTEMPTS = 3
INTERRUPTED_MESSAGE = "导入中断：处理程序多次在导入过程中停止。上传的文件已保存；已保存的农户不会因重新导入而重复登记，请重新导入整个文件。"
RESUMED_NOTICE = (
    "导入过程中处理程序曾中断，系统已从上传的文件重新导入（第 {attempt} 次）。中断前已保存的农户没有重复登记，"
    "在本报告中计为“更新”。"
)

# The page shows at most a few hundred issues of each kind (import_views.ISSUES_SHOWN);
# storing more would only make the row heavy. Totals and the grouped errors cover them all.
ISSUES_STORED = 5000
RECENT_JOBS = 10
SYSTEM_ERROR_MESSAGE = (
    "导入时发生系统错误，未能完成。上传的文件已保存，请联系系统管理员。"
    "已保存的农户不会因重新导入而重复登记，问题解决后可重新导入整个文件。"
)


def import_job_create(*, user, upload):
    """Store the uploaded file as a queued job and enqueue it after the commit: a worker
    that picked it up earlier would not find the row yet (STYLE.md: no .delay() inside an
    open transaction)."""
    from .tasks import run_import_job

    if not selectors.villages_writable_by(user).exists():
        raise PermissionDenied("只有村干部和县乡村振兴局（或系统管理员）可以批量导入农户。")

    def send():
        if not broker.send_or_wait(lambda: run_import_job.delay(job.pk), f"import job {job.pk}"):
            ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(notice=broker.WAITING_NOTICE)

    with transaction.atomic():
        job = ImportJob.objects.create(user=user, file=upload, original_name=upload.name[:255])
        transaction.on_commit(send)
    return job


def import_job_run(*, job_id):
    """Import the file of a queued job; return False if it was not queued (already claimed).

    Celery delivers a task at least once: a duplicated message or a second worker must not
    import the file twice. The conditional update is the claim: only the call that moves the
    job from queued to running touches the row, every other call returns.
    """
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempt=F("attempt") + 1,
        notice="",
        step=ImportJob.Step.READ,
        rows_done=0,
        rows_total=None,
    )
    if claimed != 1:
        return False
    job = ImportJob.objects.select_related("user").get(pk=job_id)

    def progress(step, done, total):
        # One cheap UPDATE per call (the importer calls every ~1,000 rows and per write
        # batch), in autocommit, so the job page sees it while the import goes on.
        ImportJob.objects.filter(pk=job_id).update(
            step=step, rows_done=done, rows_total=total, heartbeat_at=timezone.now()
        )

    try:
        with job.file.open("rb") as handle:
            report = importer.import_registry(handle, job.original_name, user=job.user, progress=progress)
    except importer.ImportFileError as exc:
        _finish(job_id, status=ImportJob.Status.FAILED, error_message=str(exc))
    except Exception:
        # The traceback goes to the log for the administrator, never to the page.
        logger.exception("Import job %s failed", job_id)
        _finish(job_id, status=ImportJob.Status.FAILED, error_message=SYSTEM_ERROR_MESSAGE)
    else:
        data = report_as_json(report)
        if job.attempt > 1:
            data["resumed_notice"] = RESUMED_NOTICE.format(attempt=job.attempt)
        _finish(job_id, status=ImportJob.Status.DONE, report=data, summary=report.summary())
    return True


def import_jobs_sweep(now=None):
    """Run again jobs whose worker died (after MAX_ATTEMPTS runs, fail them) and re-send jobs
    whose message was lost; run by beat.

    Re-sending is safe: import_job_run claims a job once, so a message that was only late
    does nothing the second time. Running a job again is safe: the importer matches
    households by 户编号 and members by 身份证号, so the households the stopped run saved are
    found and left as they are, and the rest are saved: the registry ends as one
    uninterrupted run leaves it. Returns (failed, resent)."""
    from .tasks import run_import_job

    now = now or timezone.now()
    stale = ImportJob.objects.filter(status=ImportJob.Status.RUNNING).filter(
        Q(heartbeat_at__lt=now - STALE_RUNNING) | Q(heartbeat_at__isnull=True, started_at__lt=now - STALE_RUNNING)
    )
    failed = stale.filter(attempt__gte=MAX_ATTEMPTS).update(
        status=ImportJob.Status.FAILED, finished_at=now, error_message=INTERRUPTED_MESSAGE
    )
    resent = list(
        ImportJob.objects.filter(status=ImportJob.Status.QUEUED, created_at__lt=now - STALE_QUEUED).values_list(
            "pk", flat=True
        )
    )
    for job_id in stale.filter(attempt__lt=MAX_ATTEMPTS).values_list("pk", flat=True):
        # Back to queued only if still stale: the conditional update is the claim against a
        # second sweep, and the next import_job_run claims it with the next attempt.
        if stale.filter(pk=job_id).update(status=ImportJob.Status.QUEUED):
            resent.append(job_id)
    for job_id in resent:
        broker.send_or_wait(lambda job_id=job_id: run_import_job.delay(job_id), f"import job {job_id}")
    if failed or resent:
        logger.warning("Import job sweep: %s interrupted job(s) failed, %s queued job(s) re-sent", failed, len(resent))
    return failed, len(resent)


def _finish(job_id, **fields):
    ImportJob.objects.filter(pk=job_id).update(finished_at=timezone.now(), **fields)


def report_as_json(report):
    """The ImportReport as the page shows it: counts, where the header was found, and each
    kind of issue (the first ISSUES_STORED of them, with the total, and the errors grouped
    by column and reason over all of them)."""
    data = {
        "file_format": report.file_format,
        "sheet": report.sheet,
        "header_rows": report.header_rows,
        "rows_read": report.rows_read,
        "rows_skipped": report.rows_skipped,
        "households_created": report.households_created,
        "households_updated": report.households_updated,
        "households_rejected": report.households_rejected,
        "members_created": report.members_created,
        "members_updated": report.members_updated,
        "ok": report.ok,
        "errors_grouped": report.grouped(report.errors)[:ISSUES_STORED],
    }
    for name in ("errors", "notices", "findings"):
        issues = getattr(report, name)
        data[name] = [{"row": i.row, "column": i.column, "message": i.message} for i in issues[:ISSUES_STORED]]
        data[f"{name}_total"] = len(issues)
    return data


def import_jobs_visible_to(user):
    """The uploader sees their own jobs; administrators see every job."""
    jobs = ImportJob.objects.all()
    return jobs if selectors.is_admin(user) else jobs.filter(user=user)


def import_job_for(user, pk):
    """The job, or 404 for anyone but its uploader and administrators (never reveal it exists)."""
    job = import_jobs_visible_to(user).filter(pk=pk).first()
    if job is None:
        raise Http404("没有找到该导入任务。")
    return job


def recent_import_jobs(user):
    """The user's own latest uploads, without the (possibly large) reports."""
    return ImportJob.objects.filter(user=user).defer("report")[:RECENT_JOBS]
