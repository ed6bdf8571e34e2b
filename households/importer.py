"""Registry import from office spreadsheets (.xlsx/.xls via calamine; .csv in UTF-8 or GBK;
.txt or .csv as Excel's tab-separated "Unicode 文本" (UTF-16) or "文本文件(制表符分隔)" exports).

One row per member; the household columns repeat on every row of a household (or are left
blank / merged after its first row). The page, the management command and the benchmark
all call `import_registry()`.

How real office files are read (DOMAIN.md §6: "expect the quirks of real office spreadsheets"):
- Workbooks: the first visible sheet whose first rows hold a header is read; hidden sheets
  never are; any further visible sheet with a header is reported as an error (nothing is
  imported from it, and the report does not say 全部导入成功).
- The header row is the first row among the first HEADER_SEARCH_ROWS rows that holds both the
  ID-number column and the household-number column, or two rows that do together (a group
  header such as 家庭成员基本信息 merged over sub-headers, with 户编号/序号 merged down across
  both rows); title and 填报单位 rows above it are ignored. Headers
  match by alias, ignoring spaces, line breaks, full-width forms and "*" required markers.
  A second header row right below it (sub-columns under a merged group such as 两不愁三保障)
  is merged in.
- Blank rows are skipped silently. A row with neither an ID number nor a household number
  (notes, 合计/填表人 lines) is skipped with a notice; so is a row whose household number reads
  like a totals or notes line (合计, 备注, …). A row with a household number but no ID number
  is an error.
- Merged cells: calamine returns a merged value only in the block's first cell. A row with an
  ID number but a blank 户编号 belongs to the household of the row right above it (only if that
  row is directly above: a blank row ends a block). Household columns (村, 住址, 户类型, 电话,
  易地搬迁, 两不愁三保障) may be filled on any one row of the household; two different
  non-blank values for the same household are an error.
- Cells are NFKC-normalised (full-width digits and letters, ideographic spaces), trimmed, and
  the ="…" / leading-apostrophe / leading-tab tricks used to keep numbers as text are undone.
- An ID number (or a long household number) that Excel stored as a number has lost its last
  digits: it is reported, never guessed.

Semantics of a re-import: households are matched by 户编号 and members by 身份证号, so importing
the same file twice updates and never duplicates. A blank cell leaves the stored value as it
is (a new record gets the model default); members of a household that are missing from the
file are left untouched (mark people who died or moved out with 人员状态).

Validation uses the model's own rules (Member/Household.full_clean, idnumber.parse) and the
same write scope as the pages (selectors.villages_writable_by). Each household is all or
nothing: a household with any error is not written at all, every other valid household is.
Existing rows are loaded in bulk for the whole file (a few queries whatever its size), and
valid households are written in batches with set-based inserts, falling back to one
savepoint per household if a batch clashes with a concurrent registration. Only fields that
differ from the stored rows are updated.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import enum
import gc
import io
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal, TypedDict, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model, QuerySet
from django.utils import timezone

from . import bulk_rows, idnumber, quality, selectors, services, spreadsheets
from .bulk_rows import Values
from .models import Area, Household, Member, RegistryClash
from .selectors import AnyUser
from .services import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from .spreadsheets import (  # noqa: F401 - NUMERIC_ID_MESSAGE and the extensions are part of this module's interface
    EXTENSIONS_TEXT,
    HEADER_SEARCH_ROWS,
    NUMERIC_ID_MESSAGE,
    SUPPORTED_EXTENSIONS,
    WHITESPACE,
    Header,
    NumberedRow,
    RowValues,
    SpreadsheetError,
    Table,
    cell,
    chain,
    clean_text,
    header_text,
    is_blank,
    is_note_text,
    looks_mangled,
    normalize_header,
)

# progress(step, done, total): see import_registry().
Progress = Callable[[str, int, int | None], None]
_M = TypeVar("_M", bound=Model)

GROUP_ROWS_SHOWN = 10
QUERY_CHUNK = 500
# Households per write transaction (one disk flush each): few, large transactions.
WRITE_BATCH = 2000
# Households per data-quality query (a UNION of four scans over the ids given).
QUALITY_CHUNK = 2000
# A write that added this many members makes PostgreSQL gather the tables' statistics again
# before the data-quality queries: after a county's first import into empty tables the
# planner still believes them empty and scans them whole for every query (10 s of a
# 50,000-member import, against about 1 s for ANALYZE).
ANALYZE_AFTER_MEMBERS = 10_000
# How often (in rows) the optional progress callback hears from the read and check steps.
PROGRESS_EVERY = 1000

NUMERIC_NUMBER_MESSAGE = "户编号被 Excel 存成了数字（科学计数法），后几位已丢失，请把该列设为文本格式后重新填写。"
HEADER_RULE = "表头行必须同时包含「户编号」和「身份证号」两列。请下载导入模板对照填写。"

# The file as a whole cannot be imported (unreadable, unsupported, no header row).
ImportFileError = SpreadsheetError


# --- columns -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # model field name
    header: str  # canonical header, as in the template
    aliases: tuple[str, ...] = ()
    level: str = "member"  # "household" or "member"
    kind: str = "text"  # text, name, phone, choice, bool, int, village, id, number
    required: bool = False
    model: type[Model] = Member

    @property
    def model_field(self) -> Field[Any, Any]:
        found = self.model._meta.get_field(self.key)
        assert isinstance(found, Field), self.key  # every column is a concrete model field
        return found


def _security_columns() -> list[Column]:
    columns = []
    for key, label in Household.SECURITY_ITEMS:
        aliases = (f"{label}不愁", f"不愁{label}") if label in ("吃", "穿") else (f"{label}有保障", f"{label}保障")
        columns.append(Column(f"{key}_secure", label, aliases, "household", "bool", model=Household))
    return columns


H: dict[str, Any] = {"level": "household", "model": Household}
COLUMNS = [
    Column("number", "户编号", ("户号", "农户编号", "家庭编号", "户编码"), kind="number", required=True, **H),
    Column(
        "village",
        "村",
        (
            "所属村",
            "村名",
            "村名称",
            "行政村",
            "村(社区)",
            "所属村(社区)",
            "村代码",
            "行政区划代码",
            "村行政区划代码",
            "村级行政区划代码",
        ),
        kind="village",
        required=True,
        **H,
    ),
    Column("address", "住址", ("家庭住址", "地址", "详细地址", "居住地址", "现住址"), **H),
    Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式", "户主电话"), kind="phone", **H),
    Column("household_type", "户类型", ("农户类型", "户类别", "农户属性", "户属性"), kind="choice", **H),
    Column(
        "relocated",
        "易地搬迁",
        ("易地扶贫搬迁", "易地扶贫搬迁户", "是否易地搬迁", "是否易地扶贫搬迁", "是否易地扶贫搬迁户"),
        kind="bool",
        **H,
    ),
    Column("name", "姓名", ("成员姓名", "人员姓名"), kind="name", required=True),
    Column(
        "id_number",
        "身份证号",
        ("身份证号码", "公民身份号码", "证件号码", "身份证", "证件号"),
        kind="id",
        required=True,
    ),
    Column("relation", "与户主关系", ("与户主的关系", "家庭关系", "关系"), kind="choice", required=True),
    Column("status", "人员状态", ("成员状态", "状态"), kind="choice"),
    Column("health", "健康状况", ("健康状态",), kind="choice"),
    Column("disability_category", "残疾类别", ("残疾类型",), kind="choice"),
    Column("disability_level", "残疾等级", ("残疾级别",), kind="int"),
    Column("labour_capacity", "劳动能力", ("劳动技能",), kind="choice"),
    Column("schooling", "在校生情况", ("在校情况", "在校生状况", "就学情况"), kind="choice"),
    Column("work_place", "务工地点", ("务工区域", "务工地域"), kind="choice"),
    Column("work_months", "务工时间（月）", ("务工时间", "务工月数", "务工时间月"), kind="int"),
    Column(
        "medical_insurance",
        "医保",
        ("参加医保", "是否参加医保", "城乡居民基本医疗保险", "参加城乡居民基本医疗保险"),
        kind="bool",
    ),
    Column(
        "pension_insurance",
        "养老保险",
        ("参加养老保险", "是否参加养老保险", "城乡居民基本养老保险", "参加城乡居民基本养老保险"),
        kind="bool",
    ),
    Column("dibao", "低保", ("享受低保", "是否低保", "是否享受低保", "低保户"), kind="bool"),
    Column("tekun", "特困供养", ("特困", "是否特困供养", "特困人员"), kind="bool"),
    *_security_columns(),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
HOUSEHOLD_COLUMNS = [c for c in COLUMNS if c.level == "household"]
MEMBER_COLUMNS = [c for c in COLUMNS if c.level == "member"]
HOUSEHOLD_KEYS = [c.key for c in HOUSEHOLD_COLUMNS]
_ABSENT = object()
assert {c.key for c in HOUSEHOLD_COLUMNS} <= set(HOUSEHOLD_FIELDS) | {"village"}
assert {c.key for c in MEMBER_COLUMNS} <= set(MEMBER_FIELDS)

TRUE_WORDS = {"是", "有", "有保障", "不愁", "已参加", "参加", "享受", "√", "✓", "✔", "Y", "YES", "TRUE", "1"}
FALSE_WORDS = {"否", "无", "无保障", "未参加", "不参加", "未享受", "×", "✗", "✘", "N", "NO", "FALSE", "0"}
CHINESE_DIGITS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
}
# Kinds whose model value is the cleaned text itself (a village is resolved with the household).
PLAIN_KINDS = ("text", "name", "village")
CJK_NAME = re.compile(r"^[\u3400-\u9fff·\s]+$")


HEADER_LOOKUP: dict[str, Column] = {}
for _column in COLUMNS:
    for _alias in (_column.header, *_column.aliases):
        HEADER_LOOKUP.setdefault(normalize_header(_alias), _column)


def choice_map(column: Column) -> dict[str, str]:
    """Label → value, from the model's TextChoices labels (no second table to keep in sync).
    Labels such as "儿媳/女婿" also match each part; where the field has a blank choice
    ("无", "非在校生", "未务工"), "无" and "否" mean blank too."""
    mapping: dict[str, str] = {}
    for value, label in column.model_field.choices or ():
        mapping[normalize_header(label)] = value
        for part in str(label).split("/"):
            mapping.setdefault(normalize_header(part), value)
        mapping.setdefault(normalize_header(value), value)
        if value == "":
            mapping.setdefault("无", "")
            mapping.setdefault("否", "")
    if column.key == "relation":
        # 本人 is how many office templates label the head's own row.
        mapping.setdefault("本人", Member.Relation.HEAD)
    return mapping


CHOICE_MAPS = {c.key: choice_map(c) for c in COLUMNS if c.kind == "choice"}


def allowed_labels(column: Column) -> list[str]:
    if column.kind == "choice":
        return [str(label) for _, label in column.model_field.choices or ()]
    if column.kind == "bool":
        if column.key.endswith("_secure"):
            return ["是", "否", "有保障", "无保障"]
        return ["是", "否"]
    return []


# --- report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        column = f"［{self.column}］" if self.column else ""
        return f"{where}{column}：{self.message}"


@dataclass
class ImportReport:
    file_format: str = ""
    sheet: str = ""
    header_row: int = 0
    header_last_row: int = 0  # the second row of a two-row header, else header_row
    households_created: int = 0
    households_updated: int = 0
    households_rejected: int = 0
    members_created: int = 0
    members_updated: int = 0
    rows_skipped: int = 0
    rows_read: int = 0
    errors: list[Issue] = field(default_factory=list)
    notices: list[Issue] = field(default_factory=list)
    findings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.households_rejected

    @property
    def header_rows(self) -> str:
        """'3' or '3–4', as the report shows where the header was found."""
        if self.header_last_row and self.header_last_row != self.header_row:
            return f"{self.header_row}–{self.header_last_row}"
        return str(self.header_row)

    def summary(self) -> str:
        return (
            f"新建农户 {self.households_created} 户，更新农户 {self.households_updated} 户，"
            f"拒绝 {self.households_rejected} 户；新建成员 {self.members_created} 人，"
            f"更新成员 {self.members_updated} 人；跳过 {self.rows_skipped} 行。"
        )

    def grouped(self, issues: Iterable[Issue]) -> list[dict[str, Any]]:
        """Issues with the same column and reason as one line: a column of ID numbers that
        Excel turned into numbers is one mistake to fix, not 50,000 lines to read."""
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for issue in issues:
            group = groups.setdefault(
                (issue.column, issue.message),
                {"column": issue.column, "message": issue.message, "count": 0, "rows": []},
            )
            group["count"] += 1
            if issue.row and len(group["rows"]) < GROUP_ROWS_SHOWN:
                group["rows"].append(issue.row)
        return sorted(groups.values(), key=lambda g: -g["count"])

    def lines(self) -> list[str]:
        """The whole report as text (management command output)."""
        where = f"工作表「{self.sheet}」，" if self.sheet else ""
        out = [
            f"读取 {self.file_format} 文件：{where}表头在第 {self.header_rows} 行，数据 {self.rows_read} 行。",
            self.summary(),
        ]
        for title, issues in (("错误", self.errors), ("提示", self.notices), ("数据质量提示", self.findings)):
            if issues:
                out.append(f"{title}（{len(issues)} 条）：")
                out.extend(f"  {issue}" for issue in issues)
        if not self.errors and not self.households_rejected:
            out.append("全部导入成功。")
        return out


# --- reading -----------------------------------------------------------------------------


def read_table(fileobj: IO[bytes] | IO[str], filename: str) -> Table:
    """Open the file and return its rows; raise ImportFileError if it cannot be read."""
    return spreadsheets.read_table(fileobj, filename, has_header=_has_header, header_rule=HEADER_RULE)


def _has_header(head: list[NumberedRow]) -> bool:
    return _find_header(head) is not None


def _find_header(rows: list[NumberedRow]) -> Header[Column] | None:
    """The header: one row, or two together, holding both the ID-number and the household-number column."""
    return spreadsheets.find_header(rows, HEADER_LOOKUP, ("id_number", "number"))


# --- parsing rows -------------------------------------------------------------------------


@dataclass
class Row:
    row: int
    number: str = ""
    id_text: str = ""
    values: dict[str, str] = field(default_factory=dict)  # key -> cleaned text, non-blank only
    parsed: dict[str, Any] = field(default_factory=dict)  # key -> model value
    errors: list[Issue] = field(default_factory=list)
    id_number: str = ""  # normalised, when it parsed
    # (getter, values): getter(stored member tuple) == values when the stored member holds
    # what this row's member cells say (_unchanged); None: compare field by field.
    stored_view: tuple[Callable[[tuple[Any, ...]], tuple[Any, ...]], tuple[Any, ...]] | None = None

    def member_signature(self) -> tuple[str, ...]:
        return tuple(self.values.get(c.key, "") for c in MEMBER_COLUMNS)


@dataclass
class Group:
    number: str
    rows: list[Row] = field(default_factory=list)
    # key -> (parsed value, text, row number)
    household_values: dict[str, tuple[Any, str | None, int]] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    household: Household | None = None  # a stored household (a new one is written from new_household)
    created: bool = False
    # A new household and its members, validated and written as rows (bulk_rows), not models.
    new_household: Values | None = None
    new_member_rows: list[Values] = field(default_factory=list)
    village: Area | None = None
    pk: int | None = None  # the household's id once written (or stored)
    new_members: list[Member] = field(default_factory=list)  # new members of a stored household
    changed_members: list[Member] = field(default_factory=list)  # stored members matched by ID number
    household_changes: list[str] = field(default_factory=list)  # field names that differ from the stored row
    unchanged: bool = False  # the rows say what is stored: nothing to check again or write
    unchanged_members: int = 0
    member_changes: dict[int, list[str]] = field(default_factory=dict)  # member pk -> field names that differ

    @property
    def first_row(self) -> int:
        return self.rows[0].row

    @property
    def saved_household(self) -> Household:
        """The stored household being written: validate() set it on every such group without errors."""
        assert self.household is not None, self.number
        return self.household

    @property
    def members_created(self) -> int:
        return len(self.new_members) + len(self.new_member_rows)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(r.errors for r in self.rows)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for one step of an import. A step builds hundreds
    of thousands of objects that all live until the import ends (rows, their values, stored
    tuples, households) and every automatic collection walks all of them again: 0.8 s of
    the 1.5 s of Python in parsing a 50,000-member file. Reference counting still frees
    whatever is dropped; the few reference cycles made meanwhile are collected once the
    collector runs again after the step."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class RegistryImport:
    """Parse, validate and write one file. Use `import_registry()`; the steps are separate so
    the benchmark can time them."""

    def __init__(self, user: AnyUser | None = None, progress: Progress | None = None) -> None:
        # user=None means the whole registry (management command run by an administrator).
        self.user = user
        self.clashes: list[
            services.Clash
        ] = []  # refused numbers held outside the importer's scope (services.registry_clashes_record)
        # progress(step, done, total): see import_registry(). It only observes; the report
        # is the same with or without it.
        self.progress = progress or _no_progress
        self.report = ImportReport()
        self.headers: dict[str, str] = {}  # key -> header text as written in the file
        self.groups: dict[str, Group] = {}  # household number -> Group, in file order
        self.column_positions: dict[str, int] = {}  # header text -> position, to list a row's issues left to right
        self._parsed_labels: dict[tuple[str, str], tuple[bool, str | bool | int]] = {}  # see _parse_value()
        self._cleaned_cells: dict[
            object, tuple[str, bool]
        ] = {}  # cell text -> (clean_text, formula_like): see _clean_cell()
        self._positions_seen: dict[int, Column] | None = None  # see _position_keys()
        self._position_key_list: list[tuple[int, str]] = []
        self._number_position = self._id_position = -1
        # (column, key, plain text?, {text: (ok, value or message)}) of the file's value columns
        self._value_columns: list[tuple[Column, str, bool, dict[str, tuple[bool, str | bool | int]]]] = []
        # See _parse_row() (set up by _position_keys()).
        self._label_position_keys: list[tuple[int, str]] = []
        self._label_positions: list[int] = []
        self._label_keys: set[str] = set()
        self._label_width = 0
        self._label_getter: Callable[[RowValues], tuple[Any, ...]] = _tuple_getter([])
        self._label_memo: dict[tuple[tuple[Any, ...], tuple[type, ...]], LabelEntry | Literal[_Slow.SLOW_ROW]] = {}
        self._own_positions: list[tuple[int, str]] = []
        self._own_values: list[tuple[str, dict[str, tuple[bool, str | bool | int]] | None]] = []
        self._own_required: list[str] = []
        # New households and members are validated as rows: full_clean's checks, each distinct
        # value of a column checked once (bulk_rows.RowCleaner).
        self._household_rows = bulk_rows.RowCleaner(Household, exclude=["village"])
        self._member_rows = bulk_rows.RowCleaner(Member, exclude=["household"])

    # Step 1: read and parse every row.
    @_collector_paused()
    def parse(self, table: Table) -> RegistryImport:
        self.report.file_format, self.report.sheet = table.file_format, table.sheet
        head: list[NumberedRow] = []
        for item in table.rows:
            head.append(item)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        found = _find_header(head)
        if found is None:
            raise ImportFileError(
                f"在前 {HEADER_SEARCH_ROWS} 行中没有找到表头：表头行必须同时包含「户编号」和「身份证号」两列。"
                "请下载导入模板对照填写。"
            )
        positions = found.positions
        header_row_number, header_values = head[found.index]
        self.report.header_row = header_row_number
        self.report.header_last_row = head[found.last][0]
        for position, column in positions.items():
            self.headers[column.key] = found.texts[position] or column.header
        rest = chain(head[found.last + 1 :], table.rows)
        if found.last == found.index:
            remaining = self._merge_sub_header(rest, positions)
        else:
            remaining = rest
        self.column_positions = {self.headers[c.key]: p for p, c in positions.items()}
        missing = [c.header for c in COLUMNS if c.required and c.key not in self.headers]
        if missing:
            raise ImportFileError(f"缺少必需的列：{'、'.join(missing)}。请下载导入模板对照填写。")
        header_rows = [head[i][1] for i in range(found.index, found.last + 1)]
        unknown: list[str] = []
        for position in range(max(len(v) for v in header_rows)):
            if position in positions:
                continue
            # The most specific text: the sub-header if there is one, else the group above it.
            text = next(
                (
                    clean_text(v[position])
                    for v in reversed(header_rows)
                    if position < len(v) and clean_text(v[position])
                ),
                "",
            )
            if text:
                unknown.append(text)
        if unknown:
            self.report.notices.append(Issue(header_row_number, "", f"以下列未识别，已忽略：{'、'.join(unknown)}。"))

        previous: Row | None = None
        seen_ids: dict[str, Row] = {}
        for row_number, values in remaining:
            row = self._parse_row(row_number, values, positions, previous)
            if row is None:
                previous = None
                continue
            if row is SKIPPED:
                self.report.rows_skipped += 1
                previous = None
                continue
            self.report.rows_read += 1
            if self.report.rows_read % PROGRESS_EVERY == 0:
                self.progress("read", self.report.rows_read, None)  # a streamed file has no known length
            previous = row
            if self._is_duplicate(row, seen_ids):
                continue
            group = self.groups.get(row.number)
            if group is None:
                group = self.groups[row.number] = Group(row.number)
            group.rows.append(row)
            self._merge_household_values(group, row)
        if not self.report.rows_read:
            self.report.errors.append(Issue(None, "", "表头下面没有成员数据行，没有导入任何农户。"))
        self.progress("read", self.report.rows_read, self.report.rows_read)
        for sheet in getattr(table, "other_sheets", ()):
            self.report.errors.append(
                Issue(
                    None,
                    "",
                    (
                        f"工作表「{sheet}」也有表头，但本次只导入了第一个有表头的工作表「{table.sheet}」；"
                        "请把其他工作表分别另存为单独的文件后再导入。"
                    ),
                )
            )
        return self

    def _merge_sub_header(self, rows: Iterator[NumberedRow], positions: dict[int, Column]) -> Iterator[NumberedRow]:
        """Sub-columns (吃, 穿, … under a merged 两不愁三保障 cell) sit one row below the header."""
        first = next(rows, None)
        if first is None:
            return rows
        _, values = first
        extra = spreadsheets.sub_header_columns(values, positions, HEADER_LOOKUP)
        id_position = next(p for p, c in positions.items() if c.key == "id_number")
        if extra and not clean_text(cell(values, id_position)):
            positions.update(extra)
            for position, column in extra.items():
                self.headers[column.key] = header_text(values[position]) or column.header
            return rows
        return chain([first], rows)

    def header(self, key: str) -> str:
        return self.headers.get(key) or COLUMN_BY_KEY[key].header

    def _parse_row(
        self, row_number: int, values: RowValues, positions: dict[int, Column], previous: Row | None
    ) -> Row | Literal[_Skipped.SKIPPED] | None:
        """One row, the common case fast: a row whose cells hold no mistake. Its repeating
        cells (villages, labels, yes/no, small numbers: the "label" columns) are looked up
        together, as one tuple, in what the import has already worked out for the same
        cells; only the row's own cells (household number, ID number, name, address,
        phone) are read one by one. A row with anything to report, or blank, goes through
        _parse_row_slow(), which reads it cell by cell and says what is wrong, in the same
        order: the fast path gives up before it has changed anything, so the outcome is
        _parse_row_slow()'s whatever path is taken."""
        self._position_keys(positions)
        size = len(values)
        if size >= self._label_width:
            raw = self._label_getter(values)
        else:
            raw = tuple(values[p] if p < size else None for p in self._label_positions)
        # The types are part of the key: True == 1 == 1.0 as keys, and they read differently.
        key = (raw, tuple(map(type, raw)))
        entry = self._label_memo.get(key)
        if entry is None:
            entry = self._label_memo[key] = self._label_entry(raw)
        if entry is SLOW_ROW:
            return self._parse_row_slow(row_number, values, positions, previous)
        cleaned = self._cleaned_cells
        own: list[tuple[str, str]] = []  # (key, cleaned text) of the row's own non-blank cells
        for position, column_key in self._own_positions:
            value = values[position] if position < size else None
            text, formula = cleaned.get(value) or self._clean_cell(value)
            if formula:
                return self._parse_row_slow(row_number, values, positions, previous)
            if text:
                own.append((column_key, text))
        if not own and not entry.texts:
            return self._parse_row_slow(row_number, values, positions, previous)  # blank, or only invisible characters
        texts = entry.texts.copy()
        texts.update(own)
        number, id_text = texts.pop("number", ""), texts.get("id_number", "")
        name = texts.get("name")
        for column_key in self._own_required:
            if column_key not in texts:
                return self._parse_row_slow(row_number, values, positions, previous)  # 姓名不能为空
        if not id_text and (not number or is_note_text(number)):
            self.report.notices.append(Issue(row_number, "", "没有身份证号，视为说明或合计行，已跳过。"))
            return SKIPPED
        row = Row(row_number)
        self._set_number(row, number, values, previous)
        row.values = texts
        if name and " " in name and CJK_NAME.match(name):
            name = texts["name"] = WHITESPACE.sub("", name)  # see _parse_row_slow()
        self._parse_id(row, cell(values, self._id_position), id_text)
        parsed = row.parsed = entry.parsed.copy()
        for column_key, outcomes in self._own_values:
            own_text = texts.get(column_key)
            if own_text is None:
                continue
            if outcomes is None:
                parsed[column_key] = own_text
                continue
            outcome = outcomes.get(own_text) or self._outcome(COLUMN_BY_KEY[column_key], outcomes, own_text)
            if not outcome[0]:
                # Reported in column order with the label columns' mistakes: the slow path does that.
                return self._parse_row_slow(row_number, values, positions, previous)
            parsed[column_key] = outcome[1]
        row.stored_view = (entry.member_getter, (*entry.member_values, name)) if name else None
        return row

    def _set_number(self, row: Row, number: str, values: RowValues, previous: Row | None) -> None:
        """The row's household number (its cleaned text `number`), or what is wrong with it."""
        if not number:
            if previous is not None and previous.row == row.row - 1:
                number = previous.number  # merged 户编号 cell: the household of the row above
            else:
                row.errors.append(Issue(row.row, self.header("number"), "户编号不能为空。"))
        elif looks_mangled(cell(values, self._number_position), number):
            row.errors.append(Issue(row.row, self.header("number"), NUMERIC_NUMBER_MESSAGE))
        row.number = number

    def _outcome(
        self, column: Column, outcomes: dict[str, tuple[bool, str | bool | int]], text: str
    ) -> tuple[bool, str | bool | int]:
        """(True, model value) or (False, message) of a cell of `column`, remembered in
        `outcomes` (choice, yes/no, number and phone columns repeat a handful of values)."""
        try:
            outcome: tuple[bool, str | bool | int] = (True, self._parse_value(column, text))
        except ValueError as exc:
            outcome = (False, str(exc))
        outcomes[text] = outcome
        return outcome

    def _clean_cell(self, value: object) -> tuple[str, bool]:
        """(clean_text, formula-like?) of a cell. Each distinct text cell is cleaned once per
        import (the cache holds text cells only: 1, 1.0 and True are equal as keys but read
        differently; callers look up `_cleaned_cells` first)."""
        text = clean_text(value)
        outcome = (text, bool(text) and spreadsheets.formula_like(text))
        if type(value) is str:
            self._cleaned_cells[value] = outcome
        return outcome

    def _label_entry(self, raw: tuple[Any, ...]) -> LabelEntry | Literal[_Slow.SLOW_ROW]:
        """What the label cells `raw` (one row's, in _label_positions order) hold, or SLOW_ROW
        when they hold a mistake to report (or a formula)."""
        cleaned = self._cleaned_cells
        texts: dict[str, str] = {}
        for (_, column_key), value in zip(self._label_position_keys, raw, strict=True):
            text, formula = cleaned.get(value) or self._clean_cell(value)
            if formula:
                return SLOW_ROW
            if text:
                texts[column_key] = text
        parsed: dict[str, Any] = {}
        for column, column_key, plain, outcomes in self._value_columns:
            if column_key not in self._label_keys:
                continue
            text = texts.get(column_key, "")
            if not text:
                if column.required and column.level == "member":
                    return SLOW_ROW
                continue
            if plain:
                parsed[column_key] = text
                continue
            outcome = outcomes.get(text) or self._outcome(column, outcomes, text)
            if not outcome[0]:
                return SLOW_ROW
            parsed[column_key] = outcome[1]
        # The stored member's values these cells must equal for the row to change nothing
        # (_unchanged), then the name (the getter's last index).
        compared = [(STORED_MEMBER_INDEX[k], v) for k, v in parsed.items() if k in STORED_MEMBER_INDEX]
        indices = [i for i, _ in compared] + [STORED_MEMBER_INDEX["name"]]
        return LabelEntry(texts, parsed, _tuple_getter(indices), tuple(v for _, v in compared))

    def _parse_row_slow(
        self,
        row_number: int,
        values: RowValues,
        positions: dict[int, Column],
        previous: Row | None,
    ) -> Row | Literal[_Skipped.SKIPPED] | None:
        # Column by column, each distinct text cell is cleaned once per import: a file repeats
        # its villages, labels and yes/no over every row (the cache holds text cells only:
        # 1, 1.0 and True are equal as keys but read differently).
        cleaned = self._cleaned_cells
        size = len(values)
        texts: dict[str, str] = {}  # key -> cleaned text, non-blank cells only
        formulas: list[tuple[str, str]] = []
        for position, key in self._position_keys(positions):
            value = values[position] if position < size else None
            text, formula = cleaned.get(value) or self._clean_cell(value)
            if formula:
                formulas.append((key, text))
            elif text:
                texts[key] = text
        if not texts and not formulas and not any(clean_text(v) for v in values):
            return None  # blank, or only invisible characters
        row = Row(row_number)
        for key, text in formulas:
            # =HYPERLINK(…), =cmd|…: refused with the reason, so nothing stored can run later in
            # a spreadsheet someone exports (issue 14 finding 11).
            row.errors.append(Issue(row_number, self.header(key), spreadsheets.formula_message(text)))
        number, id_text = texts.pop("number", ""), texts.get("id_number", "")
        if not id_text and (not number or is_note_text(number)):
            self.report.notices.append(Issue(row_number, "", "没有身份证号，视为说明或合计行，已跳过。"))
            return SKIPPED
        self._set_number(row, number, values, previous)
        row.values = texts
        name = row.values.get("name")
        if name and " " in name and CJK_NAME.match(name):
            # "张  三": offices pad two-character names with spaces to align columns (clean_text
            # has folded every kind of space into " ").
            row.values["name"] = WHITESPACE.sub("", name)
        self._parse_id(row, cell(values, self._id_position), id_text)
        row_values = row.values
        parsed = row.parsed
        for column, key, plain, outcomes in self._value_columns:
            text = row_values.get(key, "")
            if not text:
                # Household columns may be blank on all but one row of the household
                # (merged cells); the household as a whole is checked in validate().
                if column.required and column.level == "member":
                    row.errors.append(Issue(row_number, self.header(key), f"{column.header}不能为空。"))
                continue
            if plain:
                parsed[key] = text
                continue
            # Choice, yes/no, number and phone columns repeat a handful of values over every
            # row: the outcome (value or message) is remembered per import.
            outcome = outcomes.get(text) or self._outcome(column, outcomes, text)
            if outcome[0]:
                parsed[key] = outcome[1]
            else:
                row.errors.append(Issue(row_number, self.header(key), str(outcome[1])))
        return row

    def _position_keys(self, positions: dict[int, Column]) -> list[tuple[int, str]]:
        """(position, key) of the file's columns, in file order; worked out on the first row."""
        if self._positions_seen is not positions:
            self._positions_seen = positions
            self._position_key_list = [(p, c.key) for p, c in positions.items()]
            by_key = {c.key: p for p, c in positions.items()}
            self._number_position = by_key.get("number", -1)
            self._id_position = by_key.get("id_number", -1)
            self._value_columns = [
                (c, c.key, c.kind in PLAIN_KINDS, {})
                for c in COLUMNS
                if c.key not in ("number", "id_number") and c.key in self.headers
            ]
            # The fast path of _parse_row(): label columns repeat a few values over the file,
            # the row's own columns are read cell by cell.
            self._label_position_keys = [(p, c.key) for p, c in positions.items() if c.kind in LABEL_KINDS]
            self._label_positions = [p for p, _ in self._label_position_keys]
            self._label_keys = {k for _, k in self._label_position_keys}
            self._label_width = max(self._label_positions, default=-1) + 1
            self._label_getter = _tuple_getter(self._label_positions)
            self._label_memo = {}
            self._own_positions = [(p, c.key) for p, c in positions.items() if c.kind not in LABEL_KINDS]
            self._own_values = [
                (key, None if plain else outcomes)
                for _, key, plain, outcomes in self._value_columns
                if key not in self._label_keys
            ]
            self._own_required = [
                c.key
                for c, key, _, _ in self._value_columns
                if key not in self._label_keys and c.required and c.level == "member"
            ]
        return self._position_key_list

    def _parse_id(self, row: Row, raw: object, text: str) -> None:
        found = spreadsheets.read_id_cell(raw, text)
        row.id_text, row.id_number = found.text, found.number
        if found.error:
            row.errors.append(Issue(row.row, self.header("id_number"), found.error))

    def _parse_value(self, column: Column, text: str) -> str | bool | int:
        """A cell's model value; raises ValueError with the message to report. Choice, yes/no,
        number and phone columns repeat a handful of values over every row, so their outcome
        (value or message) is remembered per import: the same text always parses the same way."""
        if column.kind in PLAIN_KINDS:
            return text
        if column.kind not in ("choice", "bool", "int", "phone"):
            return self._parse_value_uncached(column, text)
        key = (column.key, text)
        outcome = self._parsed_labels.get(key)
        if outcome is None:
            try:
                outcome = (True, self._parse_value_uncached(column, text))
            except ValueError as exc:
                outcome = (False, str(exc))
            self._parsed_labels[key] = outcome
        ok, result = outcome
        if not ok:
            raise ValueError(result)
        return result

    def _parse_value_uncached(self, column: Column, text: str) -> str | bool | int:
        if column.kind == "choice":
            value = CHOICE_MAPS[column.key].get(normalize_header(text))
            if value is None:
                raise ValueError(f"「{text}」不是有效的{column.header}，可填：{'、'.join(allowed_labels(column))}。")
            return value
        if column.kind == "bool":
            word = normalize_header(text).upper()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError(f"「{text}」无法识别，请填写：{'、'.join(allowed_labels(column))}。")
        if column.kind == "int":
            match = re.fullmatch(r"(\d+|[一二三四五六七八九十]+)(?:\.0+)?(?:个月|月|级)?", text.replace(" ", ""))
            number = None
            if match:
                digits = match.group(1)
                number = int(digits) if digits.isdigit() else CHINESE_DIGITS.get(digits)
            if number is None:
                raise ValueError(f"「{text}」不是有效的整数。")
            return number
        if column.kind == "phone":
            return re.sub(r"[\s-]", "", text)
        return text  # text, name, village (resolved with the household)

    def _is_duplicate(self, row: Row, seen_ids: dict[str, Row]) -> bool:
        """An identical repeated row is a notice; the same ID with other content is an error."""
        key = row.id_number or row.id_text
        if not key or not row.id_text or (row.errors and any(i.message == NUMERIC_ID_MESSAGE for i in row.errors)):
            return False
        earlier = seen_ids.get(key)
        if earlier is None:
            seen_ids[key] = row
            return False
        same = (
            earlier.number == row.number
            and earlier.member_signature() == row.member_signature()
            and all(
                earlier.values.get(c.key, "") == row.values.get(c.key, "")
                or not earlier.values.get(c.key)
                or not row.values.get(c.key)
                for c in HOUSEHOLD_COLUMNS
            )
        )
        if same:
            self.report.rows_skipped += 1
            self.report.notices.append(Issue(row.row, "", f"与第 {earlier.row} 行重复，已忽略。"))
            return True
        # Neither row is trusted: importing the first would register a person under a number
        # that may be someone else's, and a later corrected file could not move it back.
        row.errors.append(
            Issue(
                row.row,
                self.header("id_number"),
                f"该身份证号与第 {earlier.row} 行相同，但其他内容不同，请核对后只保留一行。",
            )
        )
        earlier.errors.append(
            Issue(
                earlier.row,
                self.header("id_number"),
                f"该身份证号在第 {row.row} 行再次出现且内容不同，请核对后只保留一行。",
            )
        )
        return False

    def _merge_household_values(self, group: Group, row: Row) -> None:
        parsed = row.parsed
        known = group.household_values
        for key in HOUSEHOLD_KEYS:
            value = parsed.get(key, _ABSENT)
            if value is _ABSENT:
                continue
            first = known.get(key)
            if first is None:
                known[key] = (value, row.values.get(key), row.row)
            elif first[0] != value:
                row.errors.append(
                    Issue(
                        row.row,
                        self.header(key),
                        f"同一户（户编号 {group.number}）的{COLUMN_BY_KEY[key].header}与第 {first[2]} 行不一致。",
                    )
                )

    # Step 2: validate against the registry (bulk-loaded) and the model rules.
    @_collector_paused()
    def validate(self) -> RegistryImport:
        groups = [g for g in self.groups.values() if g.number]
        villages = self._writable_villages()
        writable_ids = villages["ids"]
        # The file's stored households and their members are read first as plain tuples:
        # a household whose rows say what is stored (most of a re-imported file) is settled
        # by comparing values, with no model built, nothing validated again and nothing
        # written. Only the others are loaded as models and go through the checks below.
        stored_households = {
            row[1]: row
            for row in bulk_rows.rows_where(Household, STORED_HOUSEHOLD, "number", [g.number for g in groups])
        }
        stored_members: dict[int, dict[str, tuple[Any, ...]]] = {}
        for row in bulk_rows.rows_where(
            Member, STORED_MEMBER, "household_id", [h[0] for h in stored_households.values()]
        ):
            stored_members.setdefault(row[1], {})[row[2]] = row
        changed: list[str] = []
        for group in groups:
            stored = stored_households.get(group.number)
            if stored is None:
                continue
            members = stored_members.get(stored[0], {})
            if self._unchanged(group, stored, members, villages):
                group.unchanged = True
                group.pk = stored[0]
                group.unchanged_members = len(group.rows)
            else:
                changed.append(group.number)
        existing_households = {
            h.number: h for h in _in_chunks(Household.objects.select_related("village"), "number", changed)
        }
        households_by_pk = {h.pk: h for h in existing_households.values()}
        members_by_household: dict[int, list[Member]] = {}
        for member in _in_chunks(Member.objects.all(), "household_id", list(households_by_pk)):
            member.household = households_by_pk[member.household_id]
            members_by_household.setdefault(member.household_id, []).append(member)
        # ID numbers not stored in their own row's household: new people, or people
        # registered in another household (an error).
        elsewhere = [
            r.id_number
            for g in groups
            if not g.unchanged
            for r in g.rows
            if r.id_number and r.id_number not in stored_members.get(stored_households.get(g.number, (0,))[0], {})
        ]
        # Most are new people (a county's first import: all of them): which ones are stored is
        # asked first, and only those are loaded with their household.
        known_ids: dict[str, Member] = {
            m.id_number: m
            for m in _in_chunks(
                Member.objects.select_related("household__village"),
                "id_number",
                bulk_rows.present(Member, "id_number", elsewhere),
            )
        }
        total = sum(len(g.rows) for g in groups)
        done = reported = 0
        for group in groups:
            if not group.unchanged:
                self._validate_group(
                    group,
                    villages,
                    writable_ids,
                    existing_households.get(group.number),
                    known_ids,
                    members_by_household,
                )
            done += len(group.rows)
            if done - reported >= PROGRESS_EVERY:
                self.progress("check", done, total)
                reported = done
        self.progress("check", total, total)
        if self.clashes:  # outside any transaction: kept although the rows are refused
            services.registry_clashes_record(user=self.user, clashes=self.clashes, channel="import")
        # Rows without a household number could not be grouped; they are rejected as they are.
        return self

    def _unchanged(
        self,
        group: Group,
        stored: tuple[Any, ...],
        members: dict[str, tuple[Any, ...]],
        villages: WritableVillages,
    ) -> bool:
        """Whether the group's rows say exactly what is stored, so that _validate_group would
        find no change and no error: same village, same household and member values for
        every filled cell, every row a stored member of this household, and a valid head.
        False sends the group through the full checks (which report any mistake)."""
        if group.errors or any(r.errors for r in group.rows) or stored[2] not in villages["ids"]:
            return False
        village_entry = group.household_values.get("village")
        if village_entry:
            found = villages["lookup"].get(normalize_header(village_entry[1]))
            if not isinstance(found, Area) or found.pk != stored[2]:
                return False
        elif "village" in self.headers:
            return False  # reported: 村不能为空
        for key, (value, _, _) in group.household_values.items():
            if key != "village" and stored[STORED_HOUSEHOLD_INDEX[key]] != value:
                return False
        heads = 0
        in_file = set()
        for row in group.rows:
            member = members.get(row.id_number) if row.id_number else None
            if member is None:
                return False
            view = row.stored_view
            if view is not None:
                if view[0](member) != view[1]:
                    return False
            else:
                for key, value in row.parsed.items():
                    index = STORED_MEMBER_INDEX.get(key)  # household columns: compared above
                    if index is not None and member[index] != value:
                        return False
            in_file.add(row.id_number)
            if member[STORED_MEMBER_INDEX["relation"]] == Member.Relation.HEAD and (
                member[STORED_MEMBER_INDEX["status"]] == Member.Status.ACTIVE
            ):
                heads += 1
        stored_heads = sum(
            1
            for id_number, m in members.items()
            if id_number not in in_file
            and m[STORED_MEMBER_INDEX["relation"]] == Member.Relation.HEAD
            and m[STORED_MEMBER_INDEX["status"]] == Member.Status.ACTIVE
        )
        # The head rules of _validate_group: one active head in the file and none stored
        # apart from it, or none in the file and the stored one kept.
        return (heads == 1 and not stored_heads) or (heads == 0 and stored_heads > 0)

    def _writable_villages(self) -> WritableVillages:
        if self.user is None:
            qs = Area.objects.filter(level=Area.Level.VILLAGE)
        else:
            qs = selectors.villages_writable_by(self.user)
        lookup: dict[str, Area | Literal["ambiguous"]] = {}
        ids: set[int] = set()
        for village in qs.select_related("parent"):
            ids.add(village.pk)
            keys = {normalize_header(village.code), normalize_header(village.name)}
            if village.parent:
                keys.add(normalize_header(village.parent.name + village.name))
            for key in keys:
                lookup[key] = village if lookup.get(key, village) == village else "ambiguous"
        return {"lookup": lookup, "ids": ids}

    def _validate_group(
        self,
        group: Group,
        villages: WritableVillages,
        writable_ids: set[int],
        existing: Household | None,
        known_ids: dict[str, Member],
        members_by_household: dict[int, list[Member]],
    ) -> None:
        number_header = self.header("number")
        village: Area | None = None
        village_entry = group.household_values.get("village")
        if village_entry:
            _, text, row_number = village_entry
            found = villages["lookup"].get(normalize_header(text))
            if found == "ambiguous":
                group.errors.append(
                    Issue(row_number, self.header("village"), f"有多个村名为「{text}」，请填写村的行政区划代码。")
                )
            elif found is None:
                group.errors.append(
                    Issue(
                        row_number,
                        self.header("village"),
                        f"「{text}」不是您可以登记农户的村（请填写村名或行政区划代码）。",
                    )
                )
            else:
                village = found
        elif existing is None or "village" in self.headers:
            group.errors.append(Issue(group.first_row, self.header("village"), "村不能为空。"))
        if existing is not None and existing.village_id not in writable_ids:
            if self._can_see(existing):
                message = f"户编号 {group.number} 已被您管辖范围以外的农户使用，不能导入。"
            else:
                # Outside what the importer may see: say nothing about where (or whether) it is registered.
                message = services.CLASH_MESSAGES[RegistryClash.Field.NUMBER]
                self.clashes.append((RegistryClash.Field.NUMBER, group.number, existing, village))
            group.errors.append(Issue(group.first_row, number_header, message))
            return
        group.created = existing is None
        group.village = village
        stored: dict[str, Member] = {}
        if existing is None:
            values = self._household_rows.new_values()
            values["number"] = group.number
            values["village_id"] = village.pk if village is not None else None
            for key, (value, _, _) in group.household_values.items():
                if key != "village":
                    values[key] = value
            self._household_errors(group, self._household_rows.clean(values))
            group.new_household = values
        else:
            household = existing
            group.household = household
            group.pk = household.pk
            before = _snapshot(household)
            if village is not None:
                household.village = village
            for key, (value, _, _) in group.household_values.items():
                if key != "village":
                    setattr(household, key, value)
            if _changed(household, before):  # unchanged: validated when saved
                try:
                    household.full_clean(exclude=["village"], validate_unique=False, validate_constraints=False)
                except ValidationError as exc:
                    self._household_errors(group, exc.message_dict)
            group.household_changes = _changed(household, before)
            stored = {m.id_number: m for m in members_by_household.get(household.pk, [])}

        heads: list[tuple[Row, object]] = []
        for row in group.rows:
            status: str | None
            if existing is None:
                values_or_none = self._validate_new_member(group, row, known_ids)
                status = values_or_none["status"] if values_or_none is not None else None
            else:
                member = self._validate_member(group, row, stored, known_ids)
                status = member.status if member is not None else None
            # Counted from the row itself, so a row rejected for another reason does not
            # also produce a misleading "no head" error.
            status = row.parsed.get("status") or status or Member.Status.ACTIVE
            if row.parsed.get("relation") == Member.Relation.HEAD and status == Member.Status.ACTIVE:
                heads.append((row, None))
        in_file = {r.id_number for r in group.rows if r.id_number}
        stored_heads = [
            m
            for i, m in stored.items()
            if i not in in_file and m.relation == Member.Relation.HEAD and m.status == Member.Status.ACTIVE
        ]
        relation = self.header("relation")
        # A row whose ID number could not be read may be the stored head himself: then the
        # file's head is no second head, and saying so would only hide the real mistake.
        if stored_heads and heads and all(r.id_number for r in group.rows):
            for row, _ in heads:
                group.errors.append(
                    Issue(
                        row.row,
                        relation,
                        f"户编号 {group.number} 在系统中已登记户主 {stored_heads[0].name}（{stored_heads[0].masked_id}），"
                        "每户只能有一名在户户主；如需更换户主，请把原户主也填入本表并修改其与户主关系。",
                    )
                )
        elif not stored_heads and not heads:
            group.errors.append(
                Issue(group.first_row, relation, f"户编号 {group.number} 没有在户的户主，每户必须有且只有一名户主。")
            )
        for row, _ in heads[1:]:
            group.errors.append(
                Issue(
                    row.row,
                    relation,
                    f"户编号 {group.number} 已有户主（第 {heads[0][0].row} 行），每户只能有一名在户户主。",
                )
            )

    def _household_errors(self, group: Group, message_dict: dict[str, list[str]]) -> None:
        for name, messages in message_dict.items():
            row_number = group.household_values.get(name, (None, None, group.first_row))[2]
            column = self.header(name) if name in COLUMN_BY_KEY else ""
            group.errors.extend(Issue(row_number, column, m) for m in messages)

    def _registered_elsewhere(self, group: Group, row: Row, other: Member) -> None:
        """The row's ID number belongs to a member of another household: an error, and a
        clash on record when that household lies outside what the importer may see."""
        if self._can_see(other.household):
            message = f"该身份证号已登记在另一农户（户编号 {other.household.number}）中，同一身份证号不能登记两次。"
        else:
            message = services.CLASH_MESSAGES[RegistryClash.Field.ID_NUMBER]
            village = group.household.village if group.household is not None else group.village
            self.clashes.append((RegistryClash.Field.ID_NUMBER, row.id_number, other.household, village))
        row.errors.append(Issue(row.row, self.header("id_number"), message))

    def _validate_new_member(self, group: Group, row: Row, known_ids: dict[str, Member]) -> Values | None:
        """A member of a new household, as a row of values (the checks of Member.full_clean)."""
        if row.id_number:
            other = known_ids.get(row.id_number)
            if other is not None:
                self._registered_elsewhere(group, row, other)
                return None
        values = self._member_rows.new_values()
        parsed = row.parsed
        for column in MEMBER_COLUMNS:
            if column.key in parsed:
                values[column.key] = parsed[column.key]
        # An unusable ID number is already reported; the stand-in lets the row's other
        # mistakes be reported in the same pass.
        values["id_number"] = row.id_number or STAND_IN_ID
        errors = self._member_rows.clean(values)
        if errors:
            header = self.header
            for name, messages in errors.items():
                where = header(name) if name in COLUMN_BY_KEY else ""
                # Member.full_clean reports each message once (field validator and clean()
                # both check the ID number).
                row.errors.extend(Issue(row.row, where, m) for m in dict.fromkeys(messages))
        group.new_member_rows.append(values)
        return values

    def _validate_member(
        self, group: Group, row: Row, stored: dict[str, Member], known_ids: dict[str, Member]
    ) -> Member | None:
        member = None
        if row.id_number:
            member = stored.get(row.id_number)
            other = known_ids.get(row.id_number)
            if member is None and other is not None:
                self._registered_elsewhere(group, row, other)
                return None
        member = member or Member()
        before = _snapshot(member)
        for column in MEMBER_COLUMNS:
            if column.key in row.parsed:
                setattr(member, column.key, row.parsed[column.key])
        # An unusable ID number is already reported; validate the other fields with a
        # stand-in so the row's other mistakes are reported in the same pass.
        member.id_number = row.id_number or STAND_IN_ID
        # A stored member the file does not change was validated when it was saved; skipping
        # the model's checks for it makes re-importing a large unchanged file much faster.
        if not member.pk or _changed(member, before):
            try:
                member.full_clean(exclude=["household"], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    header = self.header(name) if name in COLUMN_BY_KEY else ""
                    row.errors.extend(Issue(row.row, header, m) for m in messages)
        if member.pk:
            group.changed_members.append(member)
            group.member_changes[member.pk] = _changed(member, before)
        else:
            group.new_members.append(member)
        return member

    def _can_see(self, household: Household) -> bool:
        if self.user is None or selectors.is_admin(self.user):
            return True
        return any(household.village.path.startswith(a.path) for a in selectors.scope_areas(self.user))

    # Step 3: write every valid household, all or nothing per household.
    @_collector_paused()
    def write(self) -> ImportReport:
        for row in self.groups.get("", Group("")).rows:  # rows with no household number
            self.report.errors.extend(row.errors)
        valid: list[Group] = []
        for group in self.groups.values():
            if group.number and group.has_errors:
                self._reject(group)
            elif group.number:
                valid.append(group)
        written = [g for g in valid if g.unchanged]  # nothing to write
        valid = [g for g in valid if not g.unchanged]
        total = sum(len(g.rows) for g in valid)
        done = 0
        for start in range(0, len(valid), WRITE_BATCH):
            if start:
                # Outside the batch's transaction, so that a job row updated by the callback
                # is visible to other connections at once.
                self.progress("write", done, total)
            batch = valid[start : start + WRITE_BATCH]
            done += sum(len(g.rows) for g in batch)
            # A batch of households is written with a few set-based statements in one
            # transaction (one disk flush per batch, not per household). If it fails, which
            # only happens when someone registered the same number or ID since validate()
            # read the registry, the batch is rolled back and redone one household per
            # savepoint, so each household is still all or nothing and only the clashing
            # ones are rejected.
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        self._write_groups(batch)
                    written.extend(batch)
                    continue
                except IntegrityError:
                    for group in batch:
                        _forget_inserts(group)
                for group in batch:
                    try:
                        with transaction.atomic():
                            self._write_groups([group])
                    except IntegrityError:
                        _forget_inserts(group)
                        group.errors.append(
                            Issue(
                                group.first_row,
                                self.header("number"),
                                "保存时发现户编号或身份证号已被他人同时登记，请刷新后重新导入。",
                            )
                        )
                        self._reject(group)
                        continue
                    written.append(group)
        for group in written:
            if group.created:
                self.report.households_created += 1
            else:
                self.report.households_updated += 1
            self.report.members_created += group.members_created
            self.report.members_updated += len(group.changed_members) + group.unchanged_members
        # Checked like a page entry: the households this import created or changed. An
        # unchanged household was checked when it was saved (the registry-wide report lists it).
        # A new household is checked on the rows just validated and written (it has no income
        # records yet); a stored one in the database, with what it already held.
        self._new_household_findings([g for g in written if g.created])
        changed = [
            g
            for g in written
            if not g.created and (g.household_changes or g.members_created or any(g.member_changes.values()))
        ]
        if changed and connection.vendor == "postgresql" and self.report.members_created >= ANALYZE_AFTER_MEMBERS:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Household._meta.db_table}, {Member._meta.db_table}")
        self._quality_findings(changed)
        for issues in (self.report.errors, self.report.notices, self.report.findings):
            issues.sort(key=self._issue_order)
        self.progress("write", total, total)
        return self.report

    def _issue_order(self, issue: Issue) -> tuple[int, int]:
        # File-level notes first, then left to right; a column missing from the file (such as
        # 残疾类别 when only 残疾等级 was filled) after the columns the user can see.
        position = -1 if not issue.column else self.column_positions.get(issue.column, len(self.column_positions))
        return (issue.row or 0, position)

    def _reject(self, group: Group) -> None:
        self.report.households_rejected += 1
        self.report.errors.extend(group.errors)
        for row in group.rows:
            self.report.errors.extend(row.errors)
        self.report.notices.append(
            Issue(
                group.first_row,
                self.header("number"),
                f"户编号 {group.number} 有错误，该户（共 {len(group.rows)} 行）未导入，其他农户不受影响。",
            )
        )

    def _write_groups(self, groups: list[Group]) -> None:
        """Only what differs from the stored rows is written: re-importing an unchanged file
        touches nothing (its rows still count as updated: they were matched and checked)."""
        created = [g for g in groups if g.created]
        if created:
            now = timezone.now()
            rows: list[Values] = []
            for group in created:
                assert group.new_household is not None, group.number
                group.new_household["updated_at"] = now  # auto_now, as save() would set it
                rows.append(group.new_household)
            ids = bulk_rows.insert_rows(Household, HOUSEHOLD_ROW_FIELDS, rows, returning="number")
            rows = []
            for group in created:
                group.pk = ids[group.number]
                for values in group.new_member_rows:
                    values["household_id"] = group.pk
                    values["updated_at"] = now
                    rows.append(values)
            bulk_rows.insert_rows(Member, MEMBER_ROW_FIELDS, rows)
        for group in groups:
            if not group.created and group.household_changes:
                group.saved_household.save(update_fields=[*group.household_changes, "updated_at"])
        services.households_moved(
            g.saved_household.pk for g in groups if not g.created and "village" in g.household_changes
        )
        changed = [(m, g) for g in groups for m in g.changed_members if g.member_changes.get(m.pk)]
        # Demote or move out old heads before promoting new ones, so the one-active-head
        # constraint holds after every statement.
        changed.sort(
            key=lambda pair: pair[0].relation == Member.Relation.HEAD and pair[0].status == Member.Status.ACTIVE
        )
        for member, group in changed:
            member.save(update_fields=[*group.member_changes[member.pk], "updated_at"])
        new_members: list[Member] = []
        for group in groups:
            for member in group.new_members:
                member.household = group.saved_household
                new_members.append(member)
        Member.objects.bulk_create(new_members, batch_size=QUERY_CHUNK)

    def _new_household_findings(self, groups: list[Group]) -> None:
        """quality.findings_of (the checks of a page entry, in Python) for households this
        import created, on the rows it wrote: no query, and the same findings as the database
        would give (the test compares them with a stored household's)."""
        today = timezone.localdate()
        for group in groups:
            members = bulk_rows.instances(Member, group.new_member_rows)
            for finding in quality.findings_of(members, [], today):
                self.report.findings.append(
                    Issue(group.first_row, self.header("number"), f"户编号 {group.number}：{finding.message}")
                )

    def _quality_findings(self, groups: list[Group]) -> None:
        """The same data-quality checks as after a page entry (DOMAIN.md §8), for the imported
        households. The database finds the households that fail a check (the SQL twin of the
        checks, selectors.quality_failures_among); only those are loaded for the wording."""
        by_pk: dict[int, Group] = {}
        for group in groups:
            assert group.pk is not None, group.number
            by_pk[group.pk] = group
        pks = list(by_pk)
        today = timezone.localdate()
        failing: list[int] = []
        for start in range(0, len(pks), QUALITY_CHUNK):
            failing.extend(selectors.quality_failures_among(pks[start : start + QUALITY_CHUNK], today))
        for start in range(0, len(failing), QUERY_CHUNK):
            chunk = quality.prefetch_for_checks(Household.objects.filter(pk__in=failing[start : start + QUERY_CHUNK]))
            for household in chunk:
                for finding in quality.household_findings(household, today):
                    group = by_pk[household.pk]
                    self.report.findings.append(
                        Issue(group.first_row, self.header("number"), f"户编号 {group.number}：{finding.message}")
                    )


class _Slow(enum.Enum):
    SLOW_ROW = "slow"


SLOW_ROW = _Slow.SLOW_ROW  # label cells with a mistake to report: the row is read by _parse_row_slow()
# Columns whose cells repeat a handful of values over a file (see _parse_row()).
LABEL_KINDS = ("choice", "bool", "int", "village")


@dataclass(frozen=True)
class LabelEntry:
    """What one combination of label cells holds (see _parse_row())."""

    texts: dict[str, str]  # key -> cleaned text, non-blank only
    parsed: dict[str, Any]  # key -> model value
    member_getter: Callable[[tuple[Any, ...]], tuple[Any, ...]]  # stored member -> its label values, then name
    member_values: tuple[Any, ...]  # the label values the stored member must hold


def _tuple_getter(positions: list[int]) -> Callable[[Any], tuple[Any, ...]]:
    """operator.itemgetter that always returns a tuple (one position or none too)."""
    if len(positions) > 1:
        return operator.itemgetter(*positions)
    if positions:
        position = positions[0]
        return lambda values: (values[position],)
    return lambda values: ()


class _Skipped(enum.Enum):
    SKIPPED = "skipped"


SKIPPED = _Skipped.SKIPPED  # a notes or totals row


class WritableVillages(TypedDict):
    lookup: dict[str, Area | Literal["ambiguous"]]  # normalised code or name -> village
    ids: set[int]


def _no_progress(step: str, done: int, total: int | None) -> None:
    pass


STAND_IN_ID = idnumber.make("110101", datetime.date(2000, 1, 1), 1)
# The columns a new household or member is inserted with (every concrete column but the id).
HOUSEHOLD_ROW_FIELDS = [f for f in Household._meta.concrete_fields if not f.primary_key]
MEMBER_ROW_FIELDS = [f for f in Member._meta.concrete_fields if not f.primary_key]


def _forget_inserts(group: Group) -> None:
    """After a rolled-back write, make the new rows look unsaved again (bulk_create set their pk)."""
    objects: list[Model] = [*group.new_members]
    if group.created:
        group.pk = None
    for obj in objects:
        obj.pk = None
        obj._state.adding = True


def _snapshot(instance: Model) -> dict[str, Any]:
    return {
        f.name: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if not f.primary_key and f.name != "updated_at"
    }


def _changed(instance: Model, before: dict[str, Any]) -> list[str]:
    return [name for name, value in _snapshot(instance).items() if before.get(name) != value]


# What _unchanged() compares, read as tuples: id, number, village, then the file's columns.
STORED_HOUSEHOLD = [
    "id",
    "number",
    "village_id",
    *(c.key for c in HOUSEHOLD_COLUMNS if c.key not in ("number", "village")),
]
STORED_HOUSEHOLD_INDEX = {name: i for i, name in enumerate(STORED_HOUSEHOLD)}
STORED_MEMBER = ["id", "household_id", "id_number", *(c.key for c in MEMBER_COLUMNS if c.key != "id_number")]
STORED_MEMBER_INDEX = {name: i for i, name in enumerate(STORED_MEMBER)}


def _in_chunks(queryset: QuerySet[_M], field_name: str, values: Iterable[object]) -> Iterator[_M]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), QUERY_CHUNK):
        yield from queryset.filter(**{f"{field_name}__in": unique[start : start + QUERY_CHUNK]})


def import_registry(
    fileobj: IO[bytes] | IO[str],
    filename: str,
    *,
    user: AnyUser | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a registry file and return its ImportReport.

    `user` bounds the villages written to (selectors.villages_writable_by); None imports with
    administrator scope (the management command without --user). Raises ImportFileError when
    the file as a whole cannot be read.

    `progress`, if given, is called as progress(step, done, total) with step "read" (rows
    read so far; total None until the last call, as a file is streamed), "check" (rows of the
    households validated) and "write" (rows of the valid households written), each step
    ending with done == total. Calls to it happen outside any transaction of the import.
    """
    table = read_table(fileobj, filename)
    return RegistryImport(user, progress).parse(table).validate().write()


# --- templates ---------------------------------------------------------------------------

COLUMN_NOTES = {
    "number": "同一户的各成员填写相同的户编号；合并单元格也可以",
    "village": "村名或村的行政区划代码，须是您可以登记农户的村",
    "id_number": "18 位，最后一位可以是 X；请把该列设为文本格式，否则 Excel 会把号码改成科学计数法",
    "relation": "每户必须有且只有一名在户的户主",
    "status": "留空表示在户",
    "disability_level": "1-4 级，填写等级时必须填写残疾类别",
    "work_months": "0-12 的整数",
}


def sample_rows(village_name: str) -> list[dict[str, str]]:
    """Two demo rows (a head and his spouse) with valid, obviously fictitious ID numbers."""
    head = idnumber.make("440981", datetime.date(1968, 3, 12), 19)
    spouse = idnumber.make("440981", datetime.date(1970, 8, 2), 24)
    base = {
        "number": "示例0001",
        "village": village_name,
        "address": "一组 8 号",
        "phone": "13800138000",
        "household_type": "一般农户",
        "relocated": "否",
        "medical_insurance": "是",
        "pension_insurance": "是",
        "dibao": "否",
        "tekun": "否",
        "status": "在户",
        "health": "健康",
        "labour_capacity": "普通劳动力",
        "work_months": "0",
        **{f"{key}_secure": "是" for key, _ in Household.SECURITY_ITEMS},
    }
    return [
        {**base, "name": "张示例", "id_number": head, "relation": "户主", "work_place": "县内", "work_months": "6"},
        {
            **base,
            "name": "李示例",
            "id_number": spouse,
            "relation": "配偶",
            "health": "长期慢性病",
            "labour_capacity": "弱劳动力或半劳动力",
        },
    ]


def template_xlsx(village_name: str) -> bytes:
    """The import template as .xlsx bytes: header, two sample rows, and a 填写说明 sheet."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = "农户成员"
    sheet.append([c.header for c in COLUMNS])
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    text_columns = {"number", "id_number", "phone", "village"}
    for index, column in enumerate(COLUMNS, start=1):
        header_cell = sheet.cell(row=1, column=index)
        header_cell.font = bold
        header_cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if column.required:
            header_cell.fill = required_fill
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 22 if column.key == "id_number" else max(10, len(column.header) * 2 + 2)
        if column.key in text_columns:
            # Text format ("@") keeps Excel from turning ID numbers into 4.40981E+17.
            sheet.column_dimensions[letter].number_format = "@"
    for values in sample_rows(village_name):
        sheet.append([values.get(c.key, "") for c in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        if column.key in text_columns:
            for row in range(2, 1001):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    spreadsheets.text_cells(sheet)  # the village name is data: never a formula

    notes = workbook.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "可填写的值", "说明"])
    for note_cell in notes[1]:
        note_cell.font = bold
    for column in COLUMNS:
        notes.append(
            [
                column.header,
                "必填" if column.required else "选填",
                "、".join(allowed_labels(column)),
                COLUMN_NOTES.get(column.key, ""),
            ]
        )
    notes.append([])
    for line in (
        "每行填写一名家庭成员；同一户的户编号相同，村、住址等农户信息只需在该户第一行填写（合并单元格也可以）。",
        "表头上方可以有标题行；表头必须包含「户编号」和「身份证号」两列，列的顺序不限。",
        "重复导入同一文件会按户编号更新农户、按身份证号更新成员，不会重复登记；留空的单元格不会覆盖已登记的内容。",
        "某一户有任何错误时，该户整户不导入，其他农户照常导入；导入结果会列出每个错误的行号、列名和原因。",
        "示例行（户编号 示例0001）仅作参考，填写前请删除。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["C"].width = 60
    notes.column_dimensions["D"].width = 60
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_csv(village_name: str) -> bytes:
    """The import template as UTF-8 CSV with a BOM, so Excel opens it in the right encoding.
    ID numbers and household numbers start with a tab so Excel keeps them as text; the
    importer trims it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    for values in sample_rows(village_name):
        writer.writerow(
            [
                "\t" + values.get(c.key, "")
                if c.key in ("number", "id_number")
                else spreadsheets.formula_safe(values.get(c.key, ""))
                for c in COLUMNS
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
