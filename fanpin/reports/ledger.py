"""The ledger (台账, issue 11 point 2): one row per case of the case list with its filters, as
the .xlsx a county bureau keeps.

Written with XlsxWriter in constant-memory mode, which writes each row to the sheet's file as
it comes, from one query read through a server-side cursor (`selectors.ledger_cases`: plain
tuples, no model objects) and the measures of each chunk of rows in one more query: memory
stays flat whatever the number of cases (issue 15: 20,000 cases in a few seconds). Chinese
headers, a frozen header row, set column widths, dates as dates and amounts as numbers; every
text cell is written as text (`write_string`: never a formula, never a number), ID numbers
masked.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import IO, Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from assistance.models import Measure
from households import idnumber
from households.models import Area
from monitoring import selectors as monitoring_selectors
from monitoring.filters import CaseFilter
from monitoring.models import Category, Channel, EliminationReason, MonitoringCase, RiskType, State

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


CATEGORY_LABELS = dict(Category.choices)
CHANNEL_LABELS = dict(Channel.choices)
STATE_LABELS = dict(State.choices)
ELIMINATION_LABELS = dict(EliminationReason.choices)
MEASURE_STATUS_LABELS = dict(Measure.Status.choices)


def _label(labels: dict[Any, Any], code: Any) -> str:
    return str(labels.get(code, code)) if code else ""


def row(values: tuple[Any, ...], measures: list[tuple[str, str]]) -> list[object]:
    """One ledger row, in COLUMNS order, from a row of selectors.ledger_cases (LEDGER_FIELDS)
    and the case's measures."""
    (
        _pk,
        town,
        village,
        number,
        head_name,
        head_id,
        size,
        category,
        primary_risk,
        secondary_risks,
        channel,
        discovered_on,
        determined_on,
        document_number,
        income,
        income_year,
        first_name,
        last_name,
        username,
        eliminated_on,
        elimination_reason,
        state,
    ) = values
    contact = (f"{first_name} {last_name}".strip() or username) if username is not None else ""
    return [
        town or "",
        village,
        number,
        head_name or "",
        idnumber.mask(head_id or ""),
        size,
        _label(CATEGORY_LABELS, category),
        _label(RISK_LABELS, primary_risk),
        "、".join(RISK_LABELS.get(code, code) for code in secondary_risks or []),
        _label(CHANNEL_LABELS, channel),
        discovered_on,
        determined_on,
        document_number,
        income,
        income_year,
        "；".join(f"{label}（{MEASURE_STATUS_LABELS.get(status, status)}）" for label, status in measures),
        contact,
        eliminated_on if state == State.ELIMINATED else None,
        _label(ELIMINATION_LABELS, elimination_reason),
        _label(STATE_LABELS, state),
    ]


def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


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
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,  # each row goes to the sheet's temporary file as it is written
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    header_format = workbook.add_format(
        {"bold": True, "bg_color": "#FFF2CC", "pattern": 1, "align": "center", "valign": "vcenter"}
    )
    header_format.set_text_wrap()
    header_format.set_num_format("@")
    formats = {
        "text": workbook.add_format({"num_format": "@"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "money": workbook.add_format({"num_format": "#,##0.00"}),
        "int": None,
    }
    sheet = workbook.add_worksheet(SHEET_TITLE)
    for index, column in enumerate(COLUMNS):
        sheet.set_column(index, index, column.width)
    sheet.freeze_panes(1, 0)
    for index, text in enumerate(HEADERS):
        sheet.write_string(0, index, text, header_format)

    writers = [_writer(sheet, column.kind, formats[column.kind]) for column in COLUMNS]
    count = 0
    for chunk in _chunks(selectors.ledger_cases(cases).iterator(chunk_size=CHUNK), CHUNK):
        measures = selectors.ledger_measures(values[0] for values in chunk)
        for values in chunk:
            count += 1
            for index, value in enumerate(row(values, measures.get(values[0], []))):
                if value is not None and value != "":
                    writers[index](count, index, value)
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)

    about = workbook.add_worksheet("说明")
    about.set_column(0, 0, 14)
    about.set_column(1, 1, 60)
    bold = workbook.add_format({"bold": True, "num_format": "@"})
    described = describe_filters(filters)
    for line, (label, value) in enumerate(
        [
            ("导出内容", SHEET_TITLE),
            ("导出人", _person(user)),
            ("导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")),
            ("筛选条件", described or "无（工作范围内全部监测对象）"),
            ("行数", str(count)),
            ("说明", "身份证号已脱敏；完整号码只在农户详情页向有权限的人员显示，并记入访问日志。"),
        ]
    ):
        about.write_string(line, 0, label, bold)
        about.write_string(line, 1, value, formats["text"])
    workbook.close()
    return count


def _writer(sheet: Any, kind: str, cell_format: Any) -> Callable[[int, int, Any], Any]:
    """The XlsxWriter call for a column's kind: dates as dates, amounts and counts as numbers,
    anything else as text (a value reading =HYPERLINK(…) stays the text it is, an ID number
    stays 18 digits)."""

    def text(r: int, c: int, value: Any) -> Any:
        return sheet.write_string(r, c, str(value), cell_format)

    if kind == "date":

        def date(r: int, c: int, value: Any) -> Any:
            if isinstance(value, datetime.date):
                return sheet.write_datetime(r, c, value, cell_format)
            return text(r, c, value)

        return date
    if kind in ("money", "int"):

        def number(r: int, c: int, value: Any) -> Any:
            if isinstance(value, Decimal | int | float):
                return sheet.write_number(r, c, float(value), cell_format)  # yuan with cents: exact as a double
            return text(r, c, value)

        return number
    return text


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
