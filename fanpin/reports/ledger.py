"""The ledger (台账, issue 11 point 2): one row per case of the case list with its filters, as
the .xlsx a county bureau keeps.

Written with openpyxl's write-only workbook, which streams rows to a temporary file, from a
queryset read in chunks (`iterator(chunk_size=…)`, measures prefetched per chunk): memory stays
flat whatever the number of cases. Chinese headers, a frozen header row, set column widths,
dates as dates and amounts as numbers; every text cell is written as text (never a formula:
`households.spreadsheets.text_cell`), ID numbers masked.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from households import idnumber
from households.models import Area
from households.spreadsheets import text_cell
from monitoring import selectors as monitoring_selectors
from monitoring.filters import CaseFilter
from monitoring.models import MonitoringCase, RiskType, State

from . import selectors

CHUNK = 1000
PROGRESS_EVERY = 500
SHEET_TITLE = "监测对象台账"


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    kind: str = "text"  # "text" | "date" | "int" | "money"


COLUMNS = [
    Column("乡镇", 12),
    Column("村", 12),
    Column("户编号", 16),
    Column("户主姓名", 10),
    Column("户主身份证号（脱敏）", 22),
    Column("家庭人口", 8, "int"),
    Column("监测对象类别", 14),
    Column("主要风险类型", 14),
    Column("次要风险类型", 22),
    Column("发现渠道", 14),
    Column("发现日期", 12, "date"),
    Column("认定日期", 12, "date"),
    Column("认定文号", 22),
    Column("最新人均纯收入（元）", 14, "money"),
    Column("收入年度", 8, "int"),
    Column("帮扶措施（类型及状态）", 44),
    Column("帮扶联系人", 12),
    Column("风险消除日期", 12, "date"),
    Column("风险消除方式", 14),
    Column("状态", 12),
]
HEADERS = [c.header for c in COLUMNS]
RISK_LABELS = dict(RiskType.choices)


class _Requester:
    """What CaseFilter reads of a request (the user, for the town and village choices), for a
    filter rebuilt outside a request (the export task)."""

    def __init__(self, user: Any) -> None:
        self.user = user


def filtered_cases(user: Any, query: QueryDict) -> tuple[QuerySet[MonitoringCase], bool]:
    """The user's cases narrowed by the case list's filters (the same FilterSet as the page):
    (queryset, whether the filters were valid)."""
    scoped = monitoring_selectors.cases_visible_to(user)
    # CaseFilter reads only request.user (its area choices): a stand-in carries it in a task.
    case_filter = CaseFilter(query, queryset=scoped, request=_Requester(user))  # type: ignore[arg-type]
    if not case_filter.is_valid():
        return scoped.none(), False
    return case_filter.qs, True


def filters_of(query: QueryDict) -> dict[str, str]:
    """The filters as logged and printed: the non-empty parameters, without page and order."""
    return {k: str(v) for k, v in query.items() if v and v != "unknown" and k not in ("page", "sort")}


def _person(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _measures(case: MonitoringCase) -> str:
    return "；".join(f"{m.measure_type.label}（{m.get_status_display()}）" for m in case.measures.all())


def row(case: Any) -> list[object]:
    """One ledger row, in COLUMNS order (a case from selectors.ledger_cases)."""
    household = case.household
    village = household.village
    return [
        village.parent.name if village.parent_id else "",
        village.name,
        household.number,
        case.ledger_head_name or "",
        idnumber.mask(case.ledger_head_id or ""),
        case.ledger_size,
        case.get_category_display() if case.category else "",
        case.get_primary_risk_display() if case.primary_risk else "",
        "、".join(RISK_LABELS.get(code, code) for code in case.secondary_risks or []),
        case.get_channel_display(),
        case.discovered_on,
        case.determined_on,
        case.document_number,
        case.ledger_income,
        case.ledger_income_year,
        _measures(case),
        _person(case.contact_person),
        case.eliminated_on if case.state == State.ELIMINATED else None,
        case.get_elimination_reason_display() if case.elimination_reason else "",
        case.get_state_display(),
    ]


def _cell(sheet: Any, column: Column, value: object) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None or value == "":
        return WriteOnlyCell(sheet, value=None)
    if column.kind == "date" and isinstance(value, datetime.date):
        # A real date cell (sortable, filterable in Excel); the stubs list datetime only.
        c = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
        c.number_format = "yyyy-mm-dd"
        return c
    if column.kind == "money" and isinstance(value, Decimal | int | float):
        c = WriteOnlyCell(sheet, value=float(value))  # yuan with cents: exact as a double
        c.number_format = "#,##0.00"
        return c
    if column.kind == "int" and isinstance(value, int):
        return WriteOnlyCell(sheet, value=value)
    return text_cell(sheet, value)


def write_ledger(
    cases: QuerySet[MonitoringCase],
    out: IO[bytes] | str,
    *,
    user: Any,
    filters: dict[str, str],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the ledger of `cases` (already scoped and filtered) to `out`; return the number
    of rows. `progress(rows_done)` is called every PROGRESS_EVERY rows."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    header = []
    for text in HEADERS:
        c = text_cell(sheet, text)
        c.font = bold
        c.fill = fill
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header.append(c)
    sheet.append(header)

    count = 0
    for case in selectors.ledger_cases(cases).iterator(chunk_size=CHUNK):
        sheet.append([_cell(sheet, column, value) for column, value in zip(COLUMNS, row(case), strict=True)])
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)

    about = workbook.create_sheet("说明")
    about.column_dimensions["A"].width = 14
    about.column_dimensions["B"].width = 60
    described = describe_filters(filters)
    for label, value in [
        ("导出内容", SHEET_TITLE),
        ("导出人", _person(user)),
        ("导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")),
        ("筛选条件", described or "无（工作范围内全部监测对象）"),
        ("行数", str(count)),
        ("说明", "身份证号已脱敏；完整号码只在农户详情页向有权限的人员显示，并记入访问日志。"),
    ]:
        label_cell = WriteOnlyCell(about, value=label)
        label_cell.font = bold
        about.append([label_cell, text_cell(about, value)])
    workbook.save(out)
    return count


FILTER_LABELS = {name: str(field.label) for name, field in CaseFilter.base_filters.items()}


def describe_filters(filters: dict[str, str]) -> str:
    """The filters in words for the file's 说明 sheet (codes as the list page shows them)."""
    choices: dict[str, dict[str, str]] = {}
    for name, f in CaseFilter.base_filters.items():
        field_choices = f.extra.get("choices")
        if field_choices and not callable(field_choices):
            choices[name] = {str(k): str(v) for k, v in field_choices}
    parts = []
    for key, value in filters.items():
        label = FILTER_LABELS.get(key, key)
        shown = choices.get(key, {}).get(value, value)
        if key in ("town", "village") and value.isdigit():
            shown = Area.objects.filter(pk=int(value)).values_list("name", flat=True).first() or value
        if value in ("true", "false") and key not in choices:
            shown = "是" if value == "true" else "否"
        parts.append(f"{label}：{shown}")
    return "；".join(parts)
