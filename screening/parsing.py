"""Reading a department file against its layout: finding the header, and turning rows into
records or bad rows (DOMAIN.md §6: every bad row with its line and reason; nothing silently
dropped). Pure Python, no database: the services feed it rows and store what it returns."""

import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from households import spreadsheets
from households.spreadsheets import NumberedRow, SpreadsheetError, clean_text, clean_texts, is_note_text

from .layouts import Column, Layout

MEMO_SIZE = 50_000  # parsed cell texts remembered per column in a chunk
HEADER_MIN_COLUMNS = 2  # the ID number and at least one more column of the layout
MAX_AMOUNT = Decimal("999999999999.99")
EARLIEST_DATE = datetime.date(1950, 1, 1)
AMOUNT_CLUTTER = re.compile(r"[,，\s¥￥]|元$")
DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
INT_TEXT = re.compile(r"^(\d+)(?:\.0+)?\s*(?:天|日|级|个月)?$")
CHINESE_LEVELS = {"一": 1, "二": 2, "三": 3, "四": 4}
CJK_NAME = re.compile(r"^[\u3400-\u9fff·\s]+$")
EXCEL_EPOCH = datetime.date(1899, 12, 30)


class LayoutError(SpreadsheetError):
    """The file is readable but is not this department's layout."""


@dataclass
class FileLayout:
    """Where the layout's columns are in one file."""

    layout: Layout
    file_format: str
    sheet: str
    header_rows: str  # "3" or "3–4"
    keys: list[str]  # the layout's columns found, in file order
    positions: list[int]  # their positions in a row
    headers: dict[str, str]  # key -> header text as the file has it
    ignored: list[str]  # header texts of columns the layout does not know
    first_data_row: int = 0  # the row number after the header
    table: spreadsheets.Table | None = None  # as read (open_file only)

    def header(self, key: str) -> str:
        return self.headers.get(key) or self.layout.by_key[key].header


def header_rule(layout: Layout) -> str:
    names = "、".join(c.header for c in layout.all_columns if c.required)
    return (
        f"表头行必须包含「身份证号」和{layout.label}部门模板中的列（{names}）。请下载{layout.label}部门的模板对照填写。"
    )


def open_file(layout: Layout, fileobj: IO[bytes], filename: str) -> tuple[FileLayout, Iterator[NumberedRow]]:
    """The file's layout and its data rows (after the header); raise SpreadsheetError when the
    file cannot be read and LayoutError when it is not this department's layout."""

    def has_header(head: list[NumberedRow]) -> bool:
        return spreadsheets.find_header(head, layout.lookup, ("id_number",), HEADER_MIN_COLUMNS) is not None

    table = spreadsheets.read_table(fileobj, filename, has_header=has_header, header_rule=header_rule(layout))
    head: list[NumberedRow] = []
    for item in table.rows:
        head.append(item)
        if len(head) >= spreadsheets.HEADER_SEARCH_ROWS:
            break
    found = spreadsheets.find_header(head, layout.lookup, ("id_number",), HEADER_MIN_COLUMNS)
    if found is None:
        raise LayoutError(
            f"在前 {spreadsheets.HEADER_SEARCH_ROWS} 行中没有找到{layout.label}部门的表头：{header_rule(layout)}"
        )
    positions = dict(found.positions)
    texts = dict(found.texts)
    rest = spreadsheets.chain(head[found.last + 1 :], table.rows)
    header_rows = [head[i][1] for i in range(found.index, found.last + 1)]
    start, last = head[found.index][0], head[found.last][0]
    if found.last == found.index:
        # A sub-header right below (费用 over 总费用/自付) is merged in when the row holds no data.
        first = next(rest, None)
        if first is not None:
            extra = spreadsheets.sub_header_columns(first[1], positions, layout.lookup)
            id_position = next(p for p, c in positions.items() if c.key == "id_number")
            if extra and not clean_text(spreadsheets.cell(first[1], id_position)):
                positions.update(extra)
                texts.update({p: spreadsheets.header_text(first[1][p]) for p in extra})
                header_rows.append(first[1])
                last = first[0]
            else:
                rest = spreadsheets.chain([first], rest)
    keys = {c.key for c in positions.values()}
    if not keys - {"id_number", "name"}:
        raise LayoutError(
            f"该文件只有身份证号和姓名，没有{layout.label}部门模板中的任何一列，可能选错了部门或文件。{header_rule(layout)}"
        )
    missing = [c.header for c in layout.all_columns if c.required and c.key not in keys]
    if missing:
        raise LayoutError(f"缺少{layout.label}部门模板的必需列：{'、'.join(missing)}。请下载模板对照填写。")
    ignored = []
    for position in range(max(len(v) for v in header_rows)):
        if position in positions:
            continue
        text = next(
            (clean_text(v[position]) for v in reversed(header_rows) if position < len(v) and clean_text(v[position])),
            "",
        )
        if text and text not in ("序号", "编号", "行号"):
            ignored.append(text)
    ordered = sorted(positions.items())
    file_layout = FileLayout(
        layout=layout,
        file_format=table.file_format,
        sheet=table.sheet,
        header_rows=str(start) if last == start else f"{start}–{last}",
        keys=[c.key for _, c in ordered],
        positions=[p for p, _ in ordered],
        headers={c.key: texts[p] or c.header for p, c in ordered},
        ignored=ignored,
        first_data_row=last + 1,
        table=table,
    )
    return file_layout, rest


# --- rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadCell:
    row: int
    column: str  # header text as in the file ("" for the row as a whole)
    reason: str


Occurrence = tuple[tuple[Any, ...], list[str]]  # a valid record and its cells' texts


@dataclass
class ChunkResult:
    # One tuple per valid record, as it is staged for matching (screening.matching): row
    # number, record key, ID number, name, then the value of each of FileLayout.value_keys as
    # text (amounts "1234.50", dates ISO) or None when blank.
    records: list[tuple[Any, ...]] = field(default_factory=list)
    bad: list[BadCell] = field(default_factory=list)
    bad_cells: dict[int, list[str]] = field(default_factory=dict)  # row -> its cells, for the download
    rows_read: int = 0  # data rows: valid + invalid
    rows_invalid: int = 0
    rows_skipped: int = 0  # notes and totals lines
    cells: dict[int, list[str]] = field(default_factory=dict)  # row -> cells of each record kept
    # Record keys found more than once among this chunk's valid rows, with every occurrence in
    # file order: another chunk may hold the same record (see resolve_duplicates).
    repeated: dict[str, list[Occurrence]] = field(default_factory=dict)


def value_keys(file_layout: FileLayout) -> list[str]:
    """The layout's columns found in the file after the ID number and name, in file order."""
    return [k for k in file_layout.keys if k not in ("id_number", "name")]


def parse_chunk(file_layout: FileLayout, rows: Iterable[tuple[int, list[Any]]]) -> ChunkResult:
    """Records and bad rows of `rows` (row number, the layout's cells in FileLayout.keys order),
    in file order. Duplicates among them are settled by resolve_duplicates."""
    layout = file_layout.layout
    keys = file_layout.keys
    columns = [layout.by_key[k] for k in keys]
    headers = [file_layout.header(k) for k in keys]
    id_index = keys.index("id_number")
    name_index = keys.index("name") if "name" in keys else -1
    others: list[tuple[int, str, Column, Callable[[Column, object, str], Any], dict[str, Any]]] = [
        (i, c.key, c, PARSERS[c.kind], SHARED_MEMOS.get(c.kind, {}))
        for i, c in enumerate(columns)
        if i not in (id_index, name_index)
    ]  # in the order of value_keys
    other_keys = [key for _, key, _, _, _ in others]
    staged = value_keys(file_layout)
    key_positions = [staged.index(k) if k in staged else -1 for k in layout.key]
    name_column = layout.by_key["name"]
    cross_check = CROSS_CHECKS.get(layout.kind)
    result = ChunkResult()
    first: dict[str, Occurrence] = {}
    repeated = result.repeated
    plain_id = spreadsheets.plain_id_number
    for row_number, raw_cells in rows:
        texts = clean_texts(raw_cells)
        id_text = texts[id_index]
        raw_id = raw_cells[id_index]
        # Most rows: a plain, valid ID number in a text cell (then neither a note nor blank).
        number = plain_id(id_text) if type(raw_id) is str else ""
        if not number:
            if not any(texts):
                continue  # blank row
            if not id_text or is_note_text(id_text):
                other = next((t for i, t in enumerate(texts) if t and i != id_index), "")
                if not id_text and (not other or is_note_text(other) or _only_figures(texts, columns, id_index)):
                    result.rows_skipped += 1  # 合计 / 备注 / 填表人 lines, or a totals row of figures only
                    continue
                if id_text and is_note_text(id_text):
                    result.rows_skipped += 1
                    continue
        result.rows_read += 1
        problems: list[BadCell] = []
        if not number:
            found = spreadsheets.read_id_cell(raw_id, id_text)
            number = found.number
            if found.error:
                problems.append(BadCell(row_number, headers[id_index], found.error))
        name = texts[name_index] if name_index >= 0 else ""
        if not name:
            problems.append(BadCell(row_number, headers[name_index] if name_index >= 0 else "姓名", "姓名不能为空。"))
        elif len(name) > 100 or " " in name:  # else _parse_text returns it as it is
            try:
                name = _parse_text(name_column, None, name)
            except ValueError as exc:
                problems.append(BadCell(row_number, headers[name_index], str(exc)))
        # Most rows: every value cell a text this chunk (or, for amounts and dates, this
        # process) has parsed before without error: taken from the memos at once.
        values: dict[str, Any]
        stage_texts: list[str | None]
        try:
            hits = [memo[raw_cells[index]] for index, _, _, _, memo in others]
        except KeyError:  # a cell not seen yet, blank or not a text: cell by cell below
            hits = None
        if hits is not None and all(hit[2] == "" for hit in hits):
            stage_texts = [hit[1] for hit in hits]
            values = dict(zip(other_keys, [hit[0] for hit in hits], strict=True))
        else:
            values = {}
            stage_texts = []
            for index, key, column, parse, memo in others:
                text = texts[index]
                if not text:
                    if column.required:
                        problems.append(BadCell(row_number, headers[index], f"{column.header}不能为空。"))
                    stage_texts.append(None)
                    continue
                raw = raw_cells[index]
                # A text cell's value depends on its text only: dates, choices and amounts repeat.
                parsed = memo.get(raw) if type(raw) is str else None
                if parsed is None:
                    try:
                        value = parse(column, raw, text)
                        parsed = (value, _stage_text(value), "")
                    except ValueError as exc:
                        parsed = (None, None, str(exc))
                    if type(raw) is str:
                        if len(memo) >= MEMO_SIZE:
                            memo.clear()
                        memo[raw] = parsed
                if parsed[2]:
                    problems.append(BadCell(row_number, headers[index], parsed[2]))
                else:
                    values[key] = parsed[0]
                stage_texts.append(parsed[1])
        if not problems and cross_check is not None:
            problems.extend(cross_check(values, file_layout, row_number))
        if problems:
            _reject(result, row_number, problems, texts)
            continue
        record_key = "|".join([number, *[stage_texts[p] or "" if p >= 0 else "" for p in key_positions]])
        occurrence = ((row_number, record_key, number, name, *stage_texts), texts)
        earlier = first.get(record_key)
        if earlier is None:
            first[record_key] = occurrence
        elif record_key in repeated:
            repeated[record_key].append(occurrence)
        else:
            repeated[record_key] = [earlier, occurrence]
    kept = result.cells
    for record_key, (record, texts) in first.items():
        if record_key in repeated:
            continue
        result.records.append(record)
        kept[record[0]] = texts
    for occurrences in repeated.values():
        winner, rejected = resolve_duplicates(file_layout, occurrences)
        if winner is not None:
            result.records.append(winner[0])
            kept[winner[0][0]] = winner[1]
        for bad, texts in rejected:
            _reject(result, bad.row, [bad], texts)
    if repeated:
        result.records.sort(key=lambda r: r[0])  # in file order
    result.bad.sort(key=lambda b: b.row)
    return result


def resolve_duplicates(
    file_layout: FileLayout, occurrences: list[Occurrence]
) -> tuple[Occurrence | None, list[tuple[BadCell, list[str]]]]:
    """The record kept of the valid rows of one record key (in file order), and the rows
    rejected with their reason. The same record twice with the same content is one record, the
    repeat reported; with different content neither row is trusted and both are reported, and
    any later row of that record too."""
    layout = file_layout.layout
    id_header = file_layout.header("id_number")
    winner: Occurrence | None = occurrences[0]
    rejected: list[tuple[BadCell, list[str]]] = []
    for record, texts in occurrences[1:]:
        row = record[0]
        if winner is None:
            rejected.append((BadCell(row, id_header, _conflict_text(layout)), texts))
            continue
        earlier, earlier_texts = winner
        if earlier[3:] == record[3:]:
            rejected.append((BadCell(row, "", f"与第 {earlier[0]} 行完全相同，重复的行未计入。"), texts))
            continue
        # Neither row is trusted: the department must say which is right.
        first_row = earlier[0]
        reason = f"与第 {row} 行是同一条记录（{_key_label(layout)}相同）但内容不同，请核对后只保留一行。"
        rejected.append((BadCell(first_row, id_header, reason), earlier_texts))
        reason = f"与第 {first_row} 行是同一条记录（{_key_label(layout)}相同）但内容不同，请核对后只保留一行。"
        rejected.append((BadCell(row, id_header, reason), texts))
        winner = None
    return winner, rejected


def _stage_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _reject(result: ChunkResult, row: int, problems: list[BadCell], cells: list[str]) -> None:
    result.rows_invalid += 1
    result.bad.extend(problems)
    result.bad_cells[row] = cells


def _key_label(layout: Layout) -> str:
    return "、".join(["身份证号", *(layout.by_key[k].header for k in layout.key)])


def _conflict_text(layout: Layout) -> str:
    return f"该记录（{_key_label(layout)}）在文件中出现多次且内容不同，请核对后只保留一行。"


def _only_figures(texts: list[str], columns: list[Column], id_index: int) -> bool:
    """A totals row: no ID number, no name, only amounts or counts."""
    filled = [c for i, (t, c) in enumerate(zip(texts, columns, strict=True)) if t and i != id_index]
    return bool(filled) and all(c.kind in ("amount", "int") for c in filled)


def _medical_checks(values: dict[str, Any], file_layout: FileLayout, row: int) -> list[BadCell]:
    total, paid, reimbursed = values.get("total_cost"), values.get("self_paid"), values.get("reimbursed")
    if total is not None and paid is not None and paid > total:
        return [BadCell(row, file_layout.header("self_paid"), "个人自付金额大于医疗总费用。")]
    if total is not None and paid is not None and reimbursed is not None and paid + reimbursed > total + 1:
        return [BadCell(row, file_layout.header("reimbursed"), "报销金额与个人自付金额之和大于医疗总费用。")]
    return []


def _period_checks(values: dict[str, Any], file_layout: FileLayout, row: int) -> list[BadCell]:
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        return [BadCell(row, file_layout.header("end_date"), "结束日期早于开始日期。")]
    return []


# Checks across the columns of one row, per department kind.
CROSS_CHECKS = {"medical_insurance": _medical_checks, "civil_affairs": _period_checks}


# --- values --------------------------------------------------------------------------------


def parse_value(column: Column, raw: object, text: str) -> Any:
    """The cell's value for its column, or ValueError with the reason in Chinese."""
    return PARSERS[column.kind](column, raw, text)


def _parse_text(column: Column, raw: object, text: str) -> str:
    if column.key == "name" and " " in text and not text.isascii() and CJK_NAME.match(text):
        text = text.replace(" ", "")  # "张  三": names padded to align columns (clean_text made them single spaces)
    if len(text) > 100:
        raise ValueError(f"{column.header}太长（最多 100 个字）。")
    return text


def _parse_choice(column: Column, raw: object, text: str) -> str:
    value = column.choice_lookup.get(text) or column.choice_lookup.get(spreadsheets.normalize_header(text))
    if value is None:
        raise ValueError(f"「{text}」不是有效的{column.header}，可填：{column.allowed()}。")
    return value


def _parse_int(column: Column, raw: object, text: str) -> int:
    match = INT_TEXT.match(text)
    if match:
        number = int(match.group(1))
    else:
        bare = text.removesuffix("级")
        if bare not in CHINESE_LEVELS:
            raise ValueError(f"「{text}」不是有效的{column.header}（应为整数）。")
        number = CHINESE_LEVELS[bare]
    if column.minimum is not None and number < column.minimum or column.maximum is not None and number > column.maximum:
        raise ValueError(f"{column.header}应在 {column.minimum} 到 {column.maximum} 之间，当前为 {number}。")
    return number


def parse_amount(raw: object, text: str) -> Decimal:
    if type(raw) is str and len(text) <= 12 and text.isascii() and text.isdigit():
        return Decimal(text + ".00")  # whole yuan as text (most cells): the value the steps below give
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    elif text.isdigit():
        value = Decimal(text)
    else:
        try:
            value = Decimal(AMOUNT_CLUTTER.sub("", text))
        except InvalidOperation:
            raise ValueError(f"「{text}」不是有效的金额。") from None
        if not value.is_finite():
            raise ValueError(f"「{text}」不是有效的金额。")
    if value < 0:
        raise ValueError(f"金额不能为负数（{text}）。")
    if value > MAX_AMOUNT:
        raise ValueError(f"金额 {text} 过大，请核对。")
    return value.quantize(Decimal("0.01"))


def parse_date(raw: object, text: str) -> datetime.date:
    if isinstance(raw, datetime.datetime):
        day = raw.date()
    elif isinstance(raw, datetime.date):
        day = raw
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool) and 18264 <= raw <= 73051:
        day = EXCEL_EPOCH + datetime.timedelta(days=int(raw))  # an Excel date serial (1950–2099)
    elif len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"日期 {text} 不存在。"
                if text.replace("-", "").isdigit()
                else f"「{text}」不是有效的日期（例如 2026-01-15）。"
            ) from None
    else:
        match = DATE_TEXT.match(text) or DATE_DIGITS.match(text)
        if not match:
            raise ValueError(f"「{text}」不是有效的日期（例如 2026-01-15）。")
        try:
            day = datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise ValueError(f"日期 {text} 不存在。") from None
    if day < EARLIEST_DATE or day.year > 2099:
        raise ValueError(f"日期 {text} 不合理，请核对。")
    return day


def _parse_amount(column: Column, raw: object, text: str) -> Decimal:
    return parse_amount(raw, text)


def _parse_date(column: Column, raw: object, text: str) -> datetime.date:
    return parse_date(raw, text)


# Amounts and dates parse to the same value, or the same reason they are bad, in any column:
# remembered across the columns and chunks one process reads (a 医保 file's amounts are mostly
# texts an earlier chunk had). Other kinds depend on their column (choices, range, header):
# remembered per column for one chunk.
SHARED_MEMOS: dict[str, dict[Any, Any]] = {"amount": {}, "date": {}}

PARSERS: dict[str, Callable[[Column, object, str], Any]] = {
    "text": _parse_text,
    "amount": _parse_amount,
    "date": _parse_date,
    "choice": _parse_choice,
    "int": _parse_int,
}
