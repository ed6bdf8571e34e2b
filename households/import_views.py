"""Registry import page, import job pages and template downloads (the work itself is in
households.importer, run in the background by households.import_jobs)."""

from urllib.parse import quote

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from . import import_jobs, importer, selectors
from .models import ImportJob

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# A page listing 80,000 issues weighs 17 MB and freezes a phone: past this many the page
# shows the errors grouped by column and reason, then the first issues in full.
ISSUES_SHOWN = 500


class ImportForm(forms.Form):
    file = forms.FileField(
        label="登记表文件",
        help_text="支持 .xlsx、.xls、.csv（UTF-8 或 GBK 编码）和 Excel 另存的“Unicode 文本”（.txt），不超过 20 MB。",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.xls,.csv,.txt"}),
        error_messages={"required": "请选择要导入的文件。"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(importer.SUPPORTED_EXTENSIONS):
            raise forms.ValidationError(f"只支持 {importer.EXTENSIONS_TEXT}文件。")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("文件超过 20 MB，请分村或分批导入。")
        return upload


def _writable_villages_or_403(user):
    villages = selectors.villages_writable_by(user)
    first = villages.order_by("path").first()
    if first is None:
        raise PermissionDenied("只有村干部和县乡村振兴局（或系统管理员）可以批量导入农户。")
    return first


@login_required
def import_upload(request):
    """Only the file's type and size are checked in the request; reading and importing it
    (tens of seconds for a county file) is a background job whose page shows the progress."""
    _writable_villages_or_403(request.user)
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if form.is_bound and form.is_valid():
        job = import_jobs.import_job_create(user=request.user, upload=form.cleaned_data["file"])
        return redirect("households:import-job", pk=job.pk)
    context = {"form": form, "jobs": import_jobs.recent_import_jobs(request.user)}
    return render(request, "households/import.html", context)


@login_required
def import_job_detail(request, pk):
    job = import_jobs.import_job_for(request.user, pk)
    context = {
        "job": job,
        "report": job.report,
        "uploaded_name": job.original_name,
        "progress_text": _progress_text(job),
    }
    if job.report is not None:
        context.update(_report_context(job.report))
    return render(request, "households/import_job.html", context)


@login_required
def import_job_status(request, pk):
    """What the job page polls while the job is queued or running (no report: it can be large)."""
    job = import_jobs.import_job_for(request.user, pk)
    return JsonResponse(
        {
            "id": job.pk,
            "status": job.status,
            "status_label": job.get_status_display(),
            "step": job.step,
            "step_label": job.get_step_display() if job.step else "",
            "rows_done": job.rows_done,
            "rows_total": job.rows_total,
            "percent": job.percent,
            "progress_text": _progress_text(job),
            "finished": job.is_finished,
            "summary": job.summary,
            "error_message": job.error_message,
        }
    )


def _progress_text(job):
    """One line for the page and its poll alike, so both say the same."""
    if job.status == ImportJob.Status.QUEUED:
        return "排队中：等待后台开始导入。如果长时间没有开始，请联系系统管理员确认后台任务程序正在运行。"
    if job.status != ImportJob.Status.RUNNING:
        return job.get_status_display()
    if job.step == ImportJob.Step.READ or job.rows_total is None:
        return f"正在读取文件：已读取 {job.rows_done} 行。"
    return f"{job.get_step_display()}：{job.rows_done} / {job.rows_total} 行（{job.percent}%）。"


def _report_context(report):
    """The stored report (import_jobs.report_as_json) cut to what the page lists."""
    context = {}
    for name in ("errors", "notices", "findings"):
        shown = report[name][:ISSUES_SHOWN]
        context[f"{name}_shown"] = shown
        context[f"{name}_hidden"] = max(0, report[f"{name}_total"] - len(shown))
    context["errors_grouped"] = report["errors_grouped"] if report["errors_total"] > ISSUES_SHOWN else []
    return context


@login_required
def import_template(request, fmt):
    village = _writable_villages_or_403(request.user)
    if fmt == "xlsx":
        response = HttpResponse(
            importer.template_xlsx(village.name),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "csv":
        response = HttpResponse(importer.template_csv(village.name), content_type="text/csv; charset=utf-8")
    else:
        raise Http404("没有这种格式的模板。")
    response["Content-Disposition"] = (
        f"attachment; filename=\"fanpin-import-template.{fmt}\"; filename*=UTF-8''{quote('农户导入模板')}.{fmt}"
    )
    return response
