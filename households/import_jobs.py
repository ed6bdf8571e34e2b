"""Registry imports uploaded on the page, run in the background (households.tasks).

`import_job_create` stores the upload and enqueues the job once the row is committed;
`import_job_run` is the plain function the Celery task calls: it claims the job, imports the
file with households.importer and stores the report. The management command does not use
jobs: it imports synchronously and prints the report.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from . import importer, selectors
from .models import ImportJob

logger = logging.getLogger(__name__)

# A 50,000-row county file takes well under a minute; a job still running after this long
# lost its worker (restart, out of memory) and would otherwise show 正在导入 for ever.
STALE_RUNNING = timedelta(hours=2)
# A job still queued after this long lost its message (broker restarted): send it again.
STALE_QUEUED = timedelta(minutes=10)
INTERRUPTED_MESSAGE = (
    "导入中断：处理程序在导入过程中停止。上传的文件已保存；已保存的农户不会因重新导入而重复登记，请重新导入整个文件。"
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

    with transaction.atomic():
        job = ImportJob.objects.create(user=user, file=upload, original_name=upload.name[:255])
        transaction.on_commit(lambda: run_import_job.delay(job.pk))
    return job


def import_job_run(*, job_id):
    """Import the file of a queued job; return False if it was not queued (already claimed).

    Celery delivers a task at least once: a duplicated message or a second worker must not
    import the file twice. The conditional update is the claim: only the call that moves the
    job from queued to running touches the row, every other call returns.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now(),
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
        ImportJob.objects.filter(pk=job_id).update(step=step, rows_done=done, rows_total=total)

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
        _finish(job_id, status=ImportJob.Status.DONE, report=report_as_json(report), summary=report.summary())
    return True


def import_jobs_sweep(now=None):
    """Fail jobs whose worker died and re-send jobs whose message was lost; run by beat.

    Re-sending is safe: import_job_run claims a job once, so a message that was only late
    does nothing the second time. Returns (failed, resent)."""
    from .tasks import run_import_job

    now = now or timezone.now()
    failed = ImportJob.objects.filter(status=ImportJob.Status.RUNNING, started_at__lt=now - STALE_RUNNING).update(
        status=ImportJob.Status.FAILED, finished_at=now, error_message=INTERRUPTED_MESSAGE
    )
    resent = list(
        ImportJob.objects.filter(status=ImportJob.Status.QUEUED, created_at__lt=now - STALE_QUEUED).values_list(
            "pk", flat=True
        )
    )
    for job_id in resent:
        run_import_job.delay(job_id)
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
