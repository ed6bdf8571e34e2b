"""The .xlsx files screening hands out: each department's template, and an upload's bad rows
with a reason column so the department can correct and resend them."""

import datetime
import io
from collections.abc import Iterator

from households import idnumber
from households.spreadsheets import text_workbook

from .layouts import Column, Layout
from .models import ScreeningUpload

SAMPLE_ID = idnumber.make("440981", datetime.date(1968, 3, 12), 19)
KIND_NOTES = {
    "amount": "金额（元），可带两位小数",
    "date": "日期，如 2026-01-15",
    "int": "整数",
    "text": "文字",
}


def _allowed(column: Column) -> str:
    if column.kind == "choice":
        return column.allowed()
    if column.kind == "int" and column.minimum is not None:
        return f"{column.minimum}-{column.maximum}"
    return ""


def template_xlsx(layout: Layout) -> bytes:
    """The department's template: the header (required columns shaded), one example row, the
    ID column formatted as text, and a 填写说明 sheet listing every column's synonyms."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.create_sheet(layout.title, 0)
    workbook.remove(workbook.worksheets[1])  # the blank default sheet
    columns = layout.all_columns
    sheet.append([c.header for c in columns])
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(columns, start=1):
        header_cell = sheet.cell(row=1, column=index)
        header_cell.font = bold
        header_cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if column.required:
            header_cell.fill = required_fill
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 22 if column.key == "id_number" else max(10, len(column.header) * 2 + 4)
    sample = {"id_number": SAMPLE_ID, "name": "张示例"}
    sheet.append([sample.get(c.key, c.sample) for c in columns])
    # Text format ("@") keeps Excel from turning ID numbers into 4.40981E+17.
    for row in range(2, 2001):
        sheet.cell(row=row, column=1).number_format = "@"
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "可填写的值", "说明", "也可识别的列名"])
    for note_cell in notes[1]:
        note_cell.font = bold
    for column in columns:
        notes.append(
            [
                column.header,
                "必填" if column.required else "选填",
                _allowed(column),
                column.note or KIND_NOTES.get(column.kind, ""),
                "、".join(column.aliases),
            ]
        )
    notes.append([])
    for line in (
        f"{layout.label}部门{layout.frequency}报送；每行一条记录，按身份证号与防返贫监测登记册比对。",
        "表头上方可以有标题行，列的顺序不限，多余的列会被忽略；合计行和备注行会被识别并跳过。",
        "同一部门同一月份再次上传时，以新文件替换该月份原有的数据，不会重复。",
        "有错误的行会列出行号、列名和原因，可下载错误行清单，改正后重新上传。",
        *layout.notes,
        "示例行（张示例）仅作参考，填写前请删除。",
    ):
        notes.append([line])
    for letter, width in (("A", 16), ("C", 40), ("D", 40), ("E", 50)):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def bad_rows_xlsx(upload: ScreeningUpload) -> bytes:
    """Every bad row of the upload as the file had it, with the row number and the reasons;
    every cell is written as text, so nothing in it becomes a formula."""
    headers = [h for _, h in upload.columns]
    return text_workbook([("错误行", ["原行号", *headers, "错误原因"], _bad_rows(upload))])


def _bad_rows(upload: ScreeningUpload) -> Iterator[list[object]]:
    current_row: int | None = None
    cells: list[object] = []
    reasons: list[str] = []
    for bad in upload.bad_rows.order_by("row", "pk").iterator(chunk_size=2000):
        if bad.row != current_row:
            if current_row is not None:
                yield [current_row, *cells, "；".join(reasons)]
            current_row, cells, reasons = bad.row, list(bad.cells), []
        reasons.append(f"［{bad.column}］{bad.reason}" if bad.column else bad.reason)
    if current_row is not None:
        yield [current_row, *cells, "；".join(reasons)]
