"""python manage.py screen FILE --department KIND --period YYYY-MM [--county NAME]

Processes a department file in this process (no worker needed) through the same services as
an upload on the page, with administrator rights, and prints the summary and every bad row.
Exit status 0 when the file was processed (bad rows included), 1 when it was refused (not a
spreadsheet, empty, not the department's layout, bad period, unknown department).
"""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.http import Http404

from households.models import Department
from screening import services
from screening.models import ScreeningUpload


class Command(BaseCommand):
    help = "处理一份部门筛查文件（.xlsx / .xls / .csv / .txt），打印结果和每个错误行。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="部门数据文件路径")
        parser.add_argument("--department", required=True, choices=Department.Kind.values, help="部门类别")
        parser.add_argument("--period", required=True, help="数据月份 YYYY-MM")
        parser.add_argument("--county", help="县名或代码（部署中有多个县有该部门时必填）")

    def handle(self, *args, file, department, period, county=None, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法打开文件 {file}：{exc.strerror or exc}") from None
        upload_file = SimpleUploadedFile(path.name, data)
        try:
            chosen = services.check_upload_department(_Administrator(), kind=department, county=county)
            month = services.parse_period(period)
            services.check_file(chosen, upload_file, path.name, len(data))
            with transaction.atomic():
                locked = services.check_upload_create(chosen, month)
                # Not enqueued: this command runs the steps itself, below.
                upload = ScreeningUpload.objects.create(department=locked, period=month, file=upload_file,
                                                        original_name=path.name[:255])  # fmt: skip
        except ValidationError as exc:
            raise CommandError("；".join(m for ms in exc.message_dict.values() for m in ms)) from None
        except (PermissionDenied, Http404, services.UploadConflict) as exc:
            raise CommandError(str(exc)) from None
        upload = services.upload_run_inline(upload_id=upload.pk)
        if upload.status != ScreeningUpload.Status.DONE:
            raise CommandError(upload.error_message or upload.get_status_display())
        self.stdout.write(
            f"{upload.department.name} {upload.period_label}：读取 {upload.rows_read} 行，有效 {upload.rows_valid} 行，"
            f"错误 {upload.rows_invalid} 行；比对上登记册 {upload.rows_matched} 行，未在登记册中 {upload.rows_unmatched} 行；"
            f"跳过说明或合计行 {upload.rows_skipped} 行。"
        )
        for notice in upload.notices:
            self.stdout.write(f"提示：{notice}")
        bad = upload.bad_rows.order_by("row", "pk")
        if bad.exists():
            self.stdout.write(f"错误行（{upload.rows_invalid} 行）：")
            for row in bad.iterator():
                column = f"［{row.column}］" if row.column else ""
                self.stdout.write(f"  第 {row.row} 行{column}：{row.reason}")


class _Administrator:
    """The command runs with administrator rights (it is for the people who run the server)."""

    is_authenticated = True
    is_superuser = True
    pk = None
    _fanpin_roles: list = []
