"""Registry import page and template downloads (the work itself is in households.importer)."""

from urllib.parse import quote

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render

from . import importer, selectors

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
    _writable_villages_or_403(request.user)
    report = None
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = importer.import_registry(upload, upload.name, user=request.user)
        except importer.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            form = ImportForm()
    context = {"form": form, "report": report, "uploaded_name": request.FILES["file"].name if report else ""}
    if report is not None:
        for name in ("errors", "notices", "findings"):
            issues = getattr(report, name)
            context[f"{name}_shown"] = issues[:ISSUES_SHOWN]
            context[f"{name}_hidden"] = max(0, len(issues) - ISSUES_SHOWN)
        context["errors_grouped"] = report.grouped(report.errors) if len(report.errors) > ISSUES_SHOWN else []
    return render(request, "households/import.html", context)


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
