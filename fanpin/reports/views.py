"""The county's outputs (issue 11): dashboard, ledger, monthly report, access log. Thin: a
selector or service, then a template or a file."""

import datetime
import re
import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from fanpin.models import ExportJob
from households import selectors as household_selectors
from households import services as household_services

from . import ledger as ledger_module
from . import monthly as monthly_module
from . import selectors, services
from .access_log import AccessLogFilter


@login_required
def dashboard(request):
    if not selectors.may_see_dashboard(request.user):
        raise PermissionDenied("统计看板供村、乡镇和县级干部查看。")
    # The figures stored by the last count (the beat task's, every five minutes), or counted now.
    scope = selectors.dashboard_scope(request.user)
    summary = selectors.dashboard_summary(request.user, scope=scope) or services.dashboard_refresh(
        user=request.user, scope=scope
    )
    board = selectors.dashboard(request.user, summary.as_of, summary.figures)
    return render(
        request,
        "reports/dashboard.html",
        {"board": board, "charts": board.charts, "refreshed_at": summary.refreshed_at},
    )


@require_POST
@login_required
def dashboard_refresh(request):
    """刷新: count the figures again now."""
    services.dashboard_refresh(user=request.user)
    messages.success(request, "已重新统计。")
    return redirect("reports:dashboard")


# --- the ledger ---------------------------------------------------------------------------------


@login_required
def ledger(request):
    """The case list's cases, with its filters, as .xlsx: at once when small, as a background
    job with a progress page when more than FANPIN_LEDGER_SYNC_ROWS."""
    if not selectors.may_see_dashboard(request.user):
        raise PermissionDenied("台账由村、乡镇和县级干部导出。")
    cases, valid = ledger_module.filtered_cases(request.user, request.GET)
    if not valid:
        messages.error(request, "筛选条件有误，请在监测对象列表中改正后再导出。")
        return redirect(reverse("monitoring:case-list") + (f"?{request.GET.urlencode()}" if request.GET else ""))
    total = cases.count()
    if total > settings.FANPIN_LEDGER_SYNC_ROWS:
        job = services.export_job_create(user=request.user, query=request.GET, rows_total=total)
        return redirect("reports:export-job", pk=job.pk)
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse streams it, then closes it)
    services.ledger_write(user=request.user, query=request.GET, out=handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=_ledger_name(), content_type=XLSX)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ledger_name():
    return f"监测对象台账-{timezone.localdate():%Y%m%d}.xlsx"


def _job_progress_text(job):
    if job.status == ExportJob.Status.QUEUED:
        return "排队中：等待后台开始生成。如果长时间没有开始，请联系系统管理员确认后台任务程序正在运行。"
    if job.status == ExportJob.Status.RUNNING:
        return f"正在生成：{job.rows_done} / {job.rows_total} 行（{job.percent}%）。"
    return job.get_status_display()


@login_required
def export_job(request, pk):
    job = services.export_job_for(request.user, pk)
    filters = ledger_module.describe_filters(ledger_module.filters_of(QueryDict(job.query)))
    return render(
        request,
        "reports/export_job.html",
        {"job": job, "progress_text": _job_progress_text(job), "filters": filters},
    )


@login_required
def export_job_status(request, pk):
    job = services.export_job_for(request.user, pk)
    return JsonResponse(
        {
            "id": job.pk,
            "status": job.status,
            "status_label": job.get_status_display(),
            "rows_done": job.rows_done,
            "rows_total": job.rows_total,
            "percent": job.percent,
            "progress_text": _job_progress_text(job),
            "finished": job.is_finished,
        }
    )


@login_required
def export_job_download(request, pk):
    job = services.export_job_for(request.user, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404("文件尚未生成。")
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=_ledger_name(), content_type=XLSX)


# --- the monthly report ---------------------------------------------------------------------------

MONTH = re.compile(r"^(\d{4})-(0?[1-9]|1[0-2])$")


def _month(request):
    """The month asked for (?month=YYYY-MM), or last month; a malformed one says so."""
    value = request.GET.get("month", "").strip()
    match = MONTH.match(value)
    if match:
        return datetime.date(int(match.group(1)), int(match.group(2)), 1), ""
    default = selectors.month_start(timezone.localdate(), 1)
    return default, ("月份应写成 YYYY-MM，例如 2026-01；已显示上月。" if value else "")


def _may_report(user):
    if not selectors.may_see_dashboard(user):
        raise PermissionDenied("月度报表供村、乡镇和县级干部查看。")


@login_required
def monthly(request):
    _may_report(request.user)
    month, error = _month(request)
    report = selectors.monthly_report(request.user, month)
    return render(request, "reports/monthly.html", {"report": report, "error": error})


@login_required
def monthly_download(request):
    _may_report(request.user)
    month, _ = _month(request)
    report = selectors.monthly_report(request.user, month)
    user = request.user
    body = monthly_module.monthly_xlsx(
        report, user.get_full_name() or user.username, f"{timezone.localdate():%Y-%m-%d}"
    )
    household_services.export_logged(
        user=user,
        export_name="月度报表",
        filters={"month": report.month_text},
        row_count=len(report.by_department) + len(report.by_town) + len(report.cases_by_town),
    )
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"月度报表-{report.month_text}.xlsx")
    return response


# --- the access log --------------------------------------------------------------------------------

ACCESS_LOG_PAGE = 50


@require_GET
@login_required
def access_log(request):
    if not household_selectors.may_see_access_log(request.user):
        raise PermissionDenied("访问日志由县乡村振兴局查看。")
    entries = household_selectors.access_log_visible_to(request.user)
    log_filter = AccessLogFilter(request.GET, queryset=entries)
    queryset = log_filter.qs if log_filter.is_valid() else entries.none()
    page = Paginator(queryset.order_by("-viewed_at", "-pk"), ACCESS_LOG_PAGE).get_page(request.GET.get("page"))
    return render(request, "reports/access_log.html", {"filter": log_filter, "page": page})
