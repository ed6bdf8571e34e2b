"""Building department files and uploading them the ways a department does."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from households import idnumber

MEDICAL_HEADER = ["姓名", "身份证号", "就诊日期", "医疗总费用", "报销金额", "个人自付金额", "是否住院"]


def person_id(n, area="440981"):
    """A valid ID number of someone not in any test registry."""
    return idnumber.make(area, datetime.date(1960, 1, 1) + datetime.timedelta(days=n), (n * 2 + 1) % 1000)


def csv_bytes(rows, header=MEDICAL_HEADER, encoding="utf-8", title=None):
    lines = []
    if title:
        lines.append(title)
    lines.append(",".join(header))
    lines.extend(",".join(str(c) for c in row) for row in rows)
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def medical_row(member_or_id, name=None, day="2026-01-15", total="1000", reimbursed="600", paid="400", inpatient="是"):
    if isinstance(member_or_id, str):
        id_number, name = member_or_id, name or "某人"
    else:
        id_number, name = member_or_id.id_number, name or member_or_id.name
    return [name, id_number, day, total, reimbursed, paid, inpatient]


def api_upload(client, data, name="医保.csv", period="2026-01", **extra):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            "/api/screening/uploads/",
            {"file": SimpleUploadedFile(name, data), "period": period, **extra},
            format="multipart",
        )


def service_upload(user, data, name="医保.csv", period="2026-01", kind=None, county=None):
    from screening import services

    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.upload_create(
            user=user, kind=kind, period=period, upload=SimpleUploadedFile(name, data), county=county
        )


def xlsx_bytes(rows):
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
