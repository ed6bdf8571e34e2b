"""The monthly report as the .xlsx a county sends upward (seed 003 篇四 附件4/5: the month's
warning screening results, by source department and by town, and the month's changes in
the monitored population), built from selectors.monthly_report."""

from __future__ import annotations

import io
from typing import Any

from households.spreadsheets import text_cells

from .selectors import MonthlyReport


def _table(sheet, start, title, first_header, headers, rows, total):
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    width = len(headers) + 1
    sheet.cell(row=start, column=1, value=title).font = Font(bold=True, size=12)
    sheet.merge_cells(start_row=start, start_column=1, end_row=start, end_column=width)
    head_row = start + 1
    for column, text in enumerate([first_header, *headers], start=1):
        c = sheet.cell(row=head_row, column=column, value=text)
        c.font = bold
        c.fill = PatternFill("solid", fgColor="FFF2CC")
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        c.border = border
    r = head_row
    for row in [*rows, total]:
        r += 1
        label = sheet.cell(row=r, column=1, value=row.label)
        label.border = border
        if row is total:
            label.font = bold
        for column, segment in enumerate(row.cells, start=2):
            c = sheet.cell(row=r, column=column, value=segment.value)
            c.border = border
            c.alignment = Alignment(horizontal="right")
            if row is total:
                c.font = bold
    return r + 2


def monthly_xlsx(report: MonthlyReport, prepared_by: str, prepared_on: str) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    workbook = openpyxl.Workbook()
    sheet: Any = workbook.active  # a new workbook's one worksheet
    sheet.title = f"{report.month:%Y年%m月}"
    columns = max(len(report.warning_headers), len(report.case_headers)) + 1
    title = f"{report.scope_label}{report.month.year}年{report.month.month}月防止返贫动态监测预警排查结果统计表"
    sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    sheet.cell(
        row=2, column=1, value=f"填报单位：{report.scope_label}　　填报人：{prepared_by}　　填报日期：{prepared_on}"
    )
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=columns)
    row = 4
    row = _table(
        sheet,
        row,
        "一、预警排查结果（按来源部门）",
        "来源部门",
        report.warning_headers,
        report.by_department,
        report.warning_total,
    )
    row = _table(
        sheet, row, "二、预警排查结果（按乡镇）", "乡镇", report.warning_headers, report.by_town, report.warning_total
    )
    row = _table(
        sheet, row, "三、监测对象变化（按乡镇）", "乡镇", report.case_headers, report.cases_by_town, report.case_total
    )
    notes = [
        "说明：预警户次为本月生成的预警（按预警日期），纳入、排除、待核实为截至填报日期的核实结果；",
        "超期未核实指超过本县预警升级天数仍未核实的预警。新识别认定按认定日期，风险消除按风险消除日期，自然减少按结束日期统计。",
    ]
    for text in notes:
        sheet.cell(row=row, column=1, value=text)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
        row += 1
    sheet.column_dimensions["A"].width = 22
    for letter in "BCDEF":
        sheet.column_dimensions[letter].width = 14
    sheet.freeze_panes = "A4"
    text_cells(sheet)  # names typed by users (towns, departments) stay text
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
