"""Exports (issue 11 point 2): a small ledger is written in the request; a large one is an
ExportJob run by a Celery task (fanpin.tasks.run_export_job) with progress. Every export is
recorded in the access log (households.services.export_logged) with its filters and rows."""

from __future__ import annotations

import logging
import tempfile
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from fanpin.models import DashboardSummary, ExportJob
from households import selectors as household_selectors
from households import services as household_services
from households.selectors import AnyUser

from . import ledger, selectors

logger = logging.getLogger(__name__)
SYSTEM_ERROR_MESSAGE = "生成文件时发生系统错误，未能完成。请稍后重试；如仍失败，请联系系统管理员。"
LEDGER_EXPORT = "监测对象台账"


def ledger_write(*, user: User, query: QueryDict, out: Any, channel: str = "page") -> int:
    """Write the ledger of the user's cases under the list's filters to `out` and log the
    export; return the number of rows."""
    cases, _ = ledger.filtered_cases(user, query)
    filters = ledger.filters_of(query)
    count = ledger.write_ledger(cases, out, user=user, filters=filters)
    household_services.export_logged(
        user=user, export_name=LEDGER_EXPORT, filters=filters, row_count=count, channel=channel
    )
    return count


def export_job_create(*, user: User, query: QueryDict, rows_total: int) -> ExportJob:
    """Queue a large ledger export; the task starts once the row is committed."""
    from fanpin.tasks import run_export_job

    with transaction.atomic():
        job = ExportJob.objects.create(
            user=user, kind=ExportJob.Kind.LEDGER, query=query.urlencode(), rows_total=rows_total
        )
        transaction.on_commit(lambda: run_export_job.delay(job.pk))
    return job


def export_job_run(*, job_id: int) -> bool:
    """Write the file of a queued job (claimed once: a duplicated message does nothing)."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now(), rows_done=0
    )
    if claimed != 1:
        return False
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    query = QueryDict(job.query)
    filters = ledger.filters_of(query)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(rows_done=done)

    try:
        cases, _ = ledger.filtered_cases(job.user, query)
        with tempfile.TemporaryFile() as handle:
            count = ledger.write_ledger(cases, handle, user=job.user, filters=filters, progress=progress)
            handle.seek(0)
            job.file.save(f"ledger-{job.pk}-{timezone.localdate():%Y%m%d}.xlsx", File(handle), save=False)
    except Exception:
        logger.exception("Export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, finished_at=timezone.now(), error_message=SYSTEM_ERROR_MESSAGE
        )
        return True
    with transaction.atomic():
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.DONE,
            file=job.file.name,
            rows_done=count,
            rows_total=count,
            finished_at=timezone.now(),
        )
        household_services.export_logged(
            user=job.user, export_name=LEDGER_EXPORT, filters=filters, row_count=count, channel="task"
        )
    return True


def export_job_for(user: AnyUser, pk: object) -> ExportJob:
    """A job is its requester's (and administrators'): 404 for anyone else."""
    jobs = ExportJob.objects.all()
    if not user.is_authenticated:
        jobs = jobs.none()
    elif not household_selectors.is_admin(user):
        jobs = jobs.filter(user_id=user.pk)
    return household_selectors.get_or_404(jobs, pk=pk)


def dashboard_refresh(*, user: User, scope: str | None = None) -> DashboardSummary:
    """Count the dashboard's figures over the user's scope now and store them for every user of
    that scope (the page, the 刷新 button and the beat task call this); 403 for a user who may
    not see the dashboard. `scope`: the user's dashboard_scope, when the caller has it."""
    if not selectors.may_see_dashboard(user):
        raise PermissionDenied("统计看板供村、乡镇和县级干部查看。")
    scope = scope or selectors.dashboard_scope(user)
    now = timezone.now()
    today = timezone.localdate(now)
    figures = selectors.dashboard_figures(user, today)
    summary, _ = DashboardSummary.objects.update_or_create(
        scope=scope, defaults={"figures": figures, "as_of": today, "refreshed_at": now, "counted_for": user}
    )
    return summary


def dashboards_refresh() -> int:
    """Every few minutes (CELERY_BEAT_SCHEDULE): count again the figures of every scope whose
    dashboard has been opened, as the user who counted them last. When that user may no longer
    see the dashboard, or their scope is now another one, the stored figures go (the next user
    of that scope to open the page counts them). Returns how many were counted."""
    refreshed = 0
    for summary in DashboardSummary.objects.select_related("counted_for").order_by("pk"):
        user = summary.counted_for
        if (
            user is None
            or not user.is_active
            or not selectors.may_see_dashboard(user)
            or selectors.dashboard_scope(user) != summary.scope
        ):
            summary.delete()
            continue
        dashboard_refresh(user=user, scope=summary.scope)
        refreshed += 1
    return refreshed
