"""Screening pages: the upload page with the department's past uploads, an upload's page with
its live progress and bad rows, and the .xlsx downloads. The work is in screening.services."""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from . import downloads, selectors, services, warning_selectors
from .forms import UploadForm
from .layouts import LAYOUTS
from .models import ScreeningUpload

BAD_ROWS_SHOWN = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(data: bytes, title: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename=\"fanpin-screening.xlsx\"; filename*=UTF-8''{quote(title)}.xlsx"
    )
    return response


@login_required
def upload_page(request):
    user = request.user
    if not selectors.may_upload(user):
        raise PermissionDenied("只有行业部门人员和县乡村振兴局可以使用部门筛查。")
    departments = list(selectors.departments_visible_to(user).select_related("county").order_by("county__path", "kind"))
    form = UploadForm(request.POST or None, request.FILES or None, departments=departments)
    if form.is_bound and form.is_valid():
        department = form.chosen_department()
        try:
            upload = services.upload_create(
                user=user,
                kind=department.kind if department else None,
                period=form.cleaned_data["period"],
                upload=form.cleaned_data["file"],
                county=department.county.code if department else None,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        except services.UploadConflict as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("screening:upload", pk=upload.pk)
    uploads = selectors.uploads_visible_to(user)[: selectors.RECENT_UPLOADS]
    layouts = [LAYOUTS[d.kind] for d in departments] if len(departments) <= 1 else list(LAYOUTS.values())
    return render(request, "screening/upload.html", {"form": form, "uploads": uploads, "layouts": layouts})


@login_required
def upload_detail(request, pk):
    upload = selectors.upload_for(request.user, pk)
    bad_rows = list(selectors.bad_rows_of(upload)[:BAD_ROWS_SHOWN])
    total = upload.bad_rows.count()
    context = {
        "upload": upload,
        "bad_rows": bad_rows,
        "bad_rows_total": total,
        "bad_rows_hidden": max(0, total - len(bad_rows)),
        "progress_text": progress_text(upload),
        "outcomes": warning_selectors.upload_outcomes(upload) if upload.status == ScreeningUpload.Status.DONE else None,
    }
    return render(request, "screening/upload_detail.html", context)


@login_required
def upload_status(request, pk):
    """What the upload page polls while the file is processed."""
    upload = selectors.upload_for(request.user, pk)
    return JsonResponse(
        {
            "id": upload.pk,
            "status": upload.status,
            "status_label": upload.get_status_display(),
            "progress": upload.progress,
            "rows_read": upload.rows_read,
            "rows_valid": upload.rows_valid,
            "rows_invalid": upload.rows_invalid,
            "rows_matched": upload.rows_matched,
            "rows_unmatched": upload.rows_unmatched,
            "progress_text": progress_text(upload),
            "finished": upload.is_finished,
        }
    )


def progress_text(upload: ScreeningUpload) -> str:
    if upload.status == ScreeningUpload.Status.QUEUED:
        return "排队中：等待后台开始处理。如果长时间没有开始，请联系系统管理员确认后台任务程序正在运行。"
    if upload.status != ScreeningUpload.Status.RUNNING:
        return upload.get_status_display()
    if upload.progress < services.READ_SHARE or not upload.chunks_total:
        return f"正在读取文件：已读取 {upload.rows_read} 行。"
    return (
        f"正在比对：共 {upload.rows_read} 行，已核对有效 {upload.rows_valid} 行、错误 {upload.rows_invalid} 行，"
        f"比对上登记册 {upload.rows_matched} 行（{upload.progress}%）。"
    )


@login_required
def bad_rows_download(request, pk):
    upload = selectors.upload_for(request.user, pk)
    return xlsx_response(downloads.bad_rows_xlsx(upload), f"错误行-{upload.department.name}-{upload.period_label}")


@login_required
def template_download(request, kind):
    layout = LAYOUTS.get(kind)
    if layout is None:
        raise Http404("没有这个部门类别。")
    return xlsx_response(downloads.template_xlsx(layout), f"{layout.label}部门筛查模板")
