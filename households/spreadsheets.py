"""The one reader of office spreadsheets in the project: the registry import
(households.importer) and department screening (screening) both read their files here.

What it knows about files as government offices send them (DOMAIN.md §6: "expect the quirks
of real office spreadsheets"):
- Formats: .xlsx/.xlsm/.xls through python-calamine (hidden sheets never read); .csv and .txt
  as comma- or tab-separated text in UTF-8 (with or without BOM), GBK/GB18030, or UTF-16
  (Excel's "Unicode 文本" export, with or without BOM). A file named .xlsx that is really an
  HTML page or a CSV gets a message saying so.
- Text files are decoded as a stream, so a county-sized CSV is never held in memory as text.
- Header finding: the caller gives the columns it knows (a lookup from normalised header text
  to a column object with a `key`) and which keys a header must hold; the header is the first
  row among the first HEADER_SEARCH_ROWS rows that holds them, or two rows that do together
  (a merged group cell over sub-headers). Title and notes rows above it are skipped. Header
  text matches ignoring spaces, line breaks, full-width forms and "*" / (必填) markers.
- Cells: NFKC-normalised (full-width digits and letters, ideographic spaces), invisible
  characters dropped, trimmed, and the ="…" / leading-apostrophe tricks used to keep numbers
  as text undone.
- ID numbers: one that Excel stored as a number (a float, or text in scientific notation) has
  lost its last digits; `read_id_cell` says so and never guesses.
"""

import codecs
import csv
import datetime
import functools
import io
import itertools
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Generic, Protocol, TypeVar

from django.core.exceptions import ValidationError

from . import idnumber

HEADER_SEARCH_ROWS = 15
# .txt: Excel's "Unicode 文本" / "文本文件(制表符分隔)" exports, tab-separated.
SUPPORTED_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")
EXTENSIONS_TEXT = ".xlsx、.xls、.csv 和 .txt（制表符分隔）"

NUMERIC_ID_MESSAGE = "身份证号被 Excel 存成了数字（科学计数法），后几位已丢失，请把该列设为文本格式后重新填写。"

NOTE_ROW = re.compile(
    r"^(合计|总计|小计|共计|注|备注|说明|填表|填报|制表|审核|负责人|联系人|统计|经办|以上|村委会|签字|签名)"
    r"|[:：]|盖章|签字"
)  # a household number or ID number never holds a colon: "填报人：…  审核人：…"
SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d*)?E[+-]?\d+$", re.IGNORECASE)
DECIMAL = re.compile(r"^\d+\.\d+$")
WHITESPACE = re.compile(r"\s+")
INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u202a-\u202e]")
# Quote marks typed around a number to keep Excel from converting it ('4409…', 4409…', “4409…”).
ID_QUOTES = "'\"`‘’“”"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
DECODE_SLICE = 1 << 20

RowValues = list[Any]
NumberedRow = tuple[int, RowValues]  # (row number as Excel shows it, cell values)


class SpreadsheetError(Exception):
    """The file as a whole cannot be read (unreadable, unsupported, empty, no header row)."""


class HeaderColumn(Protocol):
    @property
    def key(self) -> str: ...


C = TypeVar("C", bound=HeaderColumn)


@dataclass
class Table:
    file_format: str
    sheet: str
    rows: Iterator[NumberedRow]  # row numbers as Excel shows them
    other_sheets: list[str] = field(default_factory=list)  # further visible sheets that also have a header
    # Text files: how the file is decoded and split, and its bytes (for text_line_ranges).
    encoding: str = ""
    delimiter: str = ""
    data: bytes = b""


@dataclass
class Header(Generic[C]):
    index: int  # position of the (first) header row in the rows searched
    last: int  # position of the last header row (index + 1 for a two-row header)
    positions: dict[int, C]  # position -> column
    texts: dict[int, str]  # position -> header text as the user sees it


# --- cells ---------------------------------------------------------------------------------


def normalize_header(text: object) -> str:
    """Header text as compared: NFKC, no whitespace, no "*" or (必填) markers, lower case."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = re.sub(r"\s+", "", text).replace("*", "")
    text = re.sub(r"\((必填|选填|可选|必选)\)$", "", text)
    return text.lower()


def header_text(value: object) -> str:
    """The header as the user wrote it (full-width brackets kept), without stray whitespace."""
    return re.sub(r"\s+", "", str(value or "")).lstrip("\ufeff")


def clean_text(value: object) -> str:
    """A cell as the trimmed, NFKC-normalised text a person reads in it."""
    if isinstance(value, str):
        if not value:
            return ""
        if value.isascii():
            # Most cells of a large file: NFKC and the invisible characters are no-ops here.
            text = value.strip()
            if "  " in text or not text.isprintable():  # a tab or line break inside the cell
                text = WHITESPACE.sub(" ", text)
        elif value.isprintable() and "  " not in value and unicodedata.is_normalized("NFKC", value):
            # A plain Chinese name or label: nothing to fold (isprintable() is False for the
            # invisible characters below and for full-width spaces).
            text = value.strip()
        else:
            # Zero-width spaces, BOMs and direction marks come along when cells are pasted from
            # web pages or chat; nobody sees them, so they must not make an ID number 19 long.
            value = INVISIBLE.sub("", value)
            text = WHITESPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip()
        if text.startswith('="') and text.endswith('"'):
            text = text[2:-1].strip()
        if text.startswith("'"):
            text = text.lstrip("'").strip()
        return text
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return clean_text(str(value))


def clean_texts(values: list[Any]) -> list[str]:
    """clean_text of each cell of a row. A row of text cells that are all clean already (most
    rows of a large text file) is checked at once and returned as it is."""
    try:
        joined = "|".join(values)
    except TypeError:  # a workbook's numbers, dates and empty cells
        return [clean_text(v) for v in values]
    if (
        joined.isprintable()
        and "  " not in joined
        and " |" not in joined
        and "| " not in joined
        and joined[:1] != " "
        and joined[-1:] != " "
        and "'" not in joined
        and '="' not in joined
        and (joined.isascii() or unicodedata.is_normalized("NFKC", joined))
    ):
        return values
    return [clean_text(v) for v in values]


def is_number(value: object) -> bool:
    """A numeric cell (Excel stored a number, not text)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_blank(values: Iterable[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def is_note_text(text: str) -> bool:
    """A 合计 / 备注 / 填表人：… line rather than data."""
    return bool(NOTE_ROW.search(text))


def looks_mangled(raw: object, text: str) -> bool:
    """A long number (household number, account) Excel stored as a number or in scientific notation."""
    return (is_number(raw) and abs(raw) >= 1e15) or bool(SCIENTIFIC.match(text))  # type: ignore[arg-type]


def cell(values: RowValues, position: int) -> Any:
    return values[position] if position < len(values) else None


def chain(head: Iterable[NumberedRow], rest: Iterable[NumberedRow]) -> Iterator[NumberedRow]:
    """`head`, then `rest`. itertools.chain, not a generator: a file's rows pass through two or
    three of these (header search, sub-header look-ahead), and a generator frame per row per
    level cost ~0.3 s of the serial read of a 200,000-row workbook."""
    return itertools.chain(head, rest)


@dataclass(frozen=True)
class IdCell:
    number: str  # the valid, normalised ID number, or "" when the cell is not one
    text: str  # the cell's text as compared for duplicates (normalised when possible)
    error: str  # why it is not a valid ID number, in Chinese; "" when it is


def read_id_cell(raw: object, text: str) -> IdCell:
    """An ID-number cell: valid, or the reason it is not (never a guess at lost digits)."""
    if not text:
        return IdCell("", "", "身份证号不能为空。")
    if not is_number(raw):
        fast = plain_id_number(text)
        if fast:
            return IdCell(fast, fast, "")
    if is_number(raw) or SCIENTIFIC.match(text) or DECIMAL.match(text):
        return IdCell("", text, NUMERIC_ID_MESSAGE)
    stripped = text.strip(ID_QUOTES + " ")
    normal = idnumber.normalize(stripped)
    if re.fullmatch(r"\d{15}", normal):
        return IdCell("", normal, "这是旧的 15 位身份证号，请填写现行的 18 位身份证号。")
    try:
        return IdCell(idnumber.parse(stripped).number, normal, "")
    except ValidationError as exc:
        return IdCell("", normal, exc.messages[0])


def plain_id_number(text: str) -> str:
    """The number when `text` is a plain, valid 18-character ID number, else "" (then
    read_id_cell / idnumber.parse says why). The same checks as idnumber.parse, without its
    allocations: most of a million-row file takes this path."""
    if len(text) != 18 or not text.isascii() or not text[:17].isdigit():
        return ""
    last = text[17]
    if last == "x":
        last = "X"
    elif last != "X" and not last.isdigit():
        return ""
    if text[:2] not in idnumber.PROVINCES or not _birth_ok(text[6:14], _today_ordinal()):
        return ""
    # The weights are 2^17 … 2^1 mod 11, and 13 ≡ 2 (mod 11): reading the 17 digits as a
    # base-13 number gives the weighted sum / 2 mod 11 in one call.
    if idnumber.CHECK_CHARS[2 * int(text[:17], 13) % 11] != last:
        return ""
    return text if last == text[17] else text[:17] + last


def _today_ordinal() -> int:
    """date.today() costs more than the rest of the check: it is read once a minute of the
    clock (time.time(), so a test that moves the clock moves this too)."""
    minute = int(time.time() // 60)
    if minute != _TODAY[1]:
        _TODAY[:] = [datetime.date.today().toordinal(), minute]
    return _TODAY[0]


_TODAY: list[int] = [0, -1]


@functools.lru_cache(maxsize=65536)
def _birth_ok(digits: str, today: int) -> bool:
    try:
        birth = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return birth >= idnumber.EARLIEST_BIRTH and birth.toordinal() <= today


# --- headers -------------------------------------------------------------------------------


def header_columns(values: RowValues, lookup: Mapping[str, C]) -> dict[int, C]:
    """{position: column} for the cells of one row that are known headers (first one wins)."""
    found: dict[int, C] = {}
    for position, value in enumerate(values):
        if isinstance(value, str):
            column = lookup.get(normalize_header(value))
            if column is not None and column not in found.values():
                found[position] = column
    return found


def find_header(
    rows: list[NumberedRow], lookup: Mapping[str, C], required: Iterable[str], min_columns: int = 1
) -> Header[C] | None:
    """The header, or None. Either one row holds every `required` key (and at least
    `min_columns` known columns), or two rows do together: offices group columns under a
    merged cell (家庭成员基本信息 over 姓名/身份证号/…) and merge the ungrouped columns (序号,
    户编号) down across both rows, so those keep their text in the top row only. A sub-header
    names the column more precisely than the group above it, so it wins."""
    needed = set(required)

    def enough(positions: dict[int, C]) -> bool:
        keys = {c.key for c in positions.values()}
        return needed <= keys and len(keys) >= min_columns

    for index, (_, values) in enumerate(rows):
        top = header_columns(values, lookup)
        if enough(top):
            return Header(index, index, top, {p: header_text(values[p]) for p in top})
        if not top or index + 1 >= len(rows):
            continue
        below_values = rows[index + 1][1]
        below = header_columns(below_values, lookup)
        if not below:
            continue
        positions: dict[int, C] = {}
        texts: dict[int, str] = {}
        for position in sorted(set(top) | set(below)):
            source, column = (below_values, below[position]) if position in below else (values, top[position])
            if column not in positions.values():
                positions[position] = column
                texts[position] = header_text(source[position])
        if enough(positions):
            return Header(index, index + 1, positions, texts)
    return None


def sub_header_columns(values: RowValues, positions: Mapping[int, C], lookup: Mapping[str, C]) -> dict[int, C]:
    """Known columns in the row right below a one-row header that are not in it yet: the
    sub-columns (吃, 穿, … under a merged 两不愁三保障 cell). The caller decides whether the row
    is a sub-header (it holds no data) and merges them."""
    extra: dict[int, C] = {}
    for position, value in enumerate(values):
        if position in positions or not isinstance(value, str):
            continue
        column = lookup.get(normalize_header(value))
        if column is not None and column not in positions.values() and column not in extra.values():
            extra[position] = column
    return extra


# --- reading -------------------------------------------------------------------------------

HeaderTest = Callable[[list[NumberedRow]], bool]


def read_table(fileobj: IO[bytes] | IO[str], filename: str, *, has_header: HeaderTest, header_rule: str) -> Table:
    """Open the file and return its rows; raise SpreadsheetError if it cannot be read.

    `has_header(first rows)` tells whether a workbook sheet holds the caller's header (the
    first visible sheet that does is read); `header_rule` ends the message when none does
    (e.g. "表头行必须同时包含「户编号」和「身份证号」两列。请下载导入模板对照填写。")."""
    name = (filename or "").lower()
    data = fileobj.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data:
        raise SpreadsheetError("文件是空的。")
    if name and not name.endswith(SUPPORTED_EXTENSIONS):
        raise SpreadsheetError(f"只支持 {EXTENSIONS_TEXT}文件，请在 Excel 中“另存为”这几种格式之一。")
    if data[:4] == ZIP_MAGIC or data[:8] == OLE_MAGIC:
        return _read_workbook(data, has_header, header_rule)
    if name.endswith((".xlsx", ".xlsm", ".xls")):
        raise SpreadsheetError(_not_a_workbook(data))
    return _read_text(data)


def _not_a_workbook(data: bytes) -> str:
    """Why a file named .xlsx/.xls is not one, in words the clerk can act on."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")) or b"<table" in head:
        # Many web systems "export to Excel" as an HTML page named .xls.
        return (
            "该文件扩展名是 Excel，但内容是网页（HTML）格式，不是真正的 Excel 文件。"
            "请用 Excel 或 WPS 打开后“另存为” .xlsx 文件再导入。"
        )
    try:
        text = decode_text(data[:4096])
    except SpreadsheetError:
        text = ""
    if text and "\x00" not in text and sum(c.isprintable() or c in "\r\n\t" for c in text) > 0.95 * len(text):
        return (
            "该文件扩展名是 Excel，但内容是文本（CSV）格式。请把扩展名改为 .csv 后导入，或用 Excel 打开后另存为 .xlsx。"
        )
    return "该文件不是有效的 Excel 文件（可能已损坏或被改了扩展名），请用 Excel 打开后另存为 .xlsx 再导入。"


def _read_workbook(data: bytes, has_header: HeaderTest, header_rule: str) -> Table:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:  # calamine raises several error types for broken files
        raise SpreadsheetError(
            "无法读取该 Excel 文件，请确认文件未加密、未损坏（可用 Excel 打开后另存为 .xlsx 再导入）。"
        ) from None
    visible = [
        m.name for m in workbook.sheets_metadata if m.visible == python_calamine.SheetVisibleEnum.Visible
    ] or workbook.sheet_names
    # The first visible sheet with a header row is read; hidden sheets (old data, lookup
    # lists) never are. Other visible sheets with a header are reported, not silently dropped.
    found = None
    others = []
    any_content = False
    for sheet_name in visible:
        try:
            sheet = workbook.get_sheet_by_name(sheet_name)
        except Exception:  # a chart sheet or a sheet calamine cannot read
            continue
        # iter_rows() starts at the sheet's first row (A1's row) even when the used range
        # starts lower, so position + 1 is the row number Excel shows.
        # (Each row a new list already: no copy, no generator frame per row.)
        rows = enumerate(sheet.iter_rows(), start=1)
        head = [r for r in (next(rows, None) for _ in range(HEADER_SEARCH_ROWS)) if r is not None]
        any_content = any_content or any(clean_text(v) for _, values in head for v in values)
        if not has_header(head):
            continue
        if found is None:
            found = Table("Excel", sheet_name, chain(head, rows))
        else:
            others.append(sheet_name)
    if found is None:
        if not any_content:
            raise SpreadsheetError("文件中没有任何内容（所有可见的工作表都是空的）。")
        names = "、".join(f"「{n}」" for n in visible)
        raise SpreadsheetError(f"在工作表{names}的前 {HEADER_SEARCH_ROWS} 行中都没有找到表头：{header_rule}")
    found.other_sheets = others
    return found


def text_encoding(data: bytes) -> str:
    """The encoding of a text export: UTF-16 (Excel's "Unicode 文本", with or without BOM),
    then UTF-8 (with or without BOM) if the whole file is valid UTF-8, then GB18030 (a
    superset of GBK). UTF-8 is checked slice by slice, so no copy of the text is built."""
    if data[:2] == b"\xff\xfe":
        return "utf-16-le-bom"
    if data[:2] == b"\xfe\xff":
        return "utf-16-be-bom"
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(b"\x00") * 4 >= len(sample):
        # UTF-16 without a BOM: every ASCII character (digits, commas, tabs) has a zero byte.
        odd_zeros = sample[1::2].count(b"\x00")
        even_zeros = sample[0::2].count(b"\x00")
        encoding = "utf-16-le" if odd_zeros >= even_zeros else "utf-16-be"
        if _decodes(data, encoding):
            return encoding
    if _decodes(data, "utf-8"):
        return "utf-8-sig"
    if _decodes(data, "gb18030"):
        return "gb18030"
    raise SpreadsheetError("无法识别该文件的文字编码，请另存为 UTF-8 或 GBK 编码的 CSV。")


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for start in range(0, len(data), DECODE_SLICE):
            decoder.decode(view[start : start + DECODE_SLICE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data: bytes) -> str:
    """The whole text of a (small) text file, decoded as text_encoding() says."""
    encoding = text_encoding(data)
    if encoding.endswith("-bom"):
        return data.decode("utf-16")
    return data.decode(encoding)


def _read_text(data: bytes) -> Table:
    encoding = text_encoding(data)
    stream: IO[str]
    if encoding.startswith("utf-16"):
        text = data.decode("utf-16") if encoding.endswith("-bom") else data.decode(encoding)
        has_nul, blank = "\x00" in text, not text.strip(" \t\r\n,;\ufeff")
        stream = io.StringIO(text, newline="")
    else:
        has_nul = b"\x00" in data
        blank = not data.replace(b"\xef\xbb\xbf", b"").strip(b" \t\r\n,;")
        # Decoded as it is read: a 1,000,000-row file is never one string in memory.
        stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    if has_nul:
        raise SpreadsheetError(
            "该文件不是文本（CSV）文件，可能已损坏或被改了扩展名。请用 Excel 打开后另存为 .xlsx 或 .csv 再导入。"
        )
    if blank:
        raise SpreadsheetError("文件中没有任何内容。")
    head_text = data[:65536].decode(encoding.replace("-bom", "") if "16" in encoding else encoding, errors="ignore")
    sample = "\n".join(head_text.splitlines()[:HEADER_SEARCH_ROWS])
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(stream, delimiter=delimiter)
    # One CSV record is one spreadsheet row, even when a quoted cell holds a line break.
    return Table(
        "CSV" if delimiter == "," else "制表符分隔文本",
        "",
        _numbered(reader),
        encoding=encoding,
        delimiter=delimiter,
        data=data,
    )


# Encodings in which the bytes of a line break and a quote mark never occur inside a character.
LINE_SAFE_ENCODINGS = ("utf-8-sig", "gb18030")


def text_line_ranges(table: Table, first_row: int, parts: int) -> list[tuple[int, int, int]] | None:
    """Byte ranges of the rows from `first_row` on, in at most `parts` runs of whole lines, as
    (start, end, row number of its first line), so that several processes can read one file
    at once (read_text_range); None when the file's rows are not simply its lines: UTF-16, a
    quote mark anywhere (a quoted cell may hold a line break), or a lone carriage return (an
    old Mac line end). Those files are read row by row from `table.rows`."""
    data = table.data
    if table.encoding not in LINE_SAFE_ENCODINGS or not data or b'"' in data:
        return None
    if data.count(b"\r") != data.count(b"\r\n"):
        return None
    start = 0
    for _ in range(first_row - 1):
        found = data.find(b"\n", start)
        if found < 0:
            return []
        start = found + 1
    size = len(data)
    if start >= size:
        return []
    ranges = []
    row = first_row
    for part in range(1, parts + 1):
        if part == parts:
            end = size
        else:
            end = data.find(b"\n", max(start, start + (size - start) // (parts - part + 1) - 1))
            end = size if end < 0 else end + 1
        ranges.append((start, end, row))
        row += data.count(b"\n", start, end)
        start = end
    return ranges


def text_line_count(table: Table, first_row: int) -> int:
    """How many lines a text file has from row `first_row` on (see text_line_ranges)."""
    data = table.data
    start = 0
    for _ in range(first_row - 1):
        found = data.find(b"\n", start)
        if found < 0:
            return 0
        start = found + 1
    lines = data.count(b"\n", start)
    return lines + (1 if start < len(data) and not data.endswith(b"\n") else 0)


def read_text_range(data: bytes, encoding: str, delimiter: str, first_row: int) -> Iterator[NumberedRow]:
    """The rows of one range of text_line_ranges, numbered as the whole file numbers them."""
    reader = csv.reader(io.StringIO(data.decode(encoding), newline=""), delimiter=delimiter)
    yield from enumerate(reader, start=first_row)


def _numbered(reader: Iterator[list[str]]) -> Iterator[NumberedRow]:
    try:
        for index, values in enumerate(reader):
            yield index + 1, list(values)
    except UnicodeDecodeError:  # text_encoding() checked the file: only a truncated multibyte tail gets here
        raise SpreadsheetError("无法识别该文件的文字编码，请另存为 UTF-8 或 GBK 编码的 CSV。") from None


# --- formulas (CSV / formula injection, OWASP) -----------------------------------------------

FORMULA_MESSAGE = "「{text}」以 {first} 开头，会被 Excel 或 WPS 当作公式执行，不能导入。请去掉开头的符号；如确需以该符号开头，请联系管理员。"
_PLAIN_SIGNED = re.compile(r"^[+\-][\d\s\-().]*$")  # "+86 139…", "-", "-3": numbers and phones, not formulas


def formula_like(text: str) -> bool:
    """True if a spreadsheet would run `text` as a formula: it starts with =, @, or + / -
    followed by more than a plain number (OWASP: also after a leading tab or line break)."""
    stripped = text.lstrip("\t\r\n ")
    if not stripped:
        return False
    first = unicodedata.normalize("NFKC", stripped[0])
    if first in "=@":
        return True
    if first in "+-":
        return not _PLAIN_SIGNED.match(first + stripped[1:])
    return False


def formula_message(text: str) -> str:
    """The reason a cell is refused on import (formula_like)."""
    stripped = text.lstrip("\t\r\n ")
    shown = stripped if len(stripped) <= 30 else stripped[:30] + "…"
    return FORMULA_MESSAGE.format(text=shown, first=f"“{stripped[:1]}”")


def formula_safe(value: object) -> str:
    """A value for a CSV cell that no spreadsheet runs: text a formula would start with gets a
    leading apostrophe, the OWASP remedy (Excel and WPS show the text, nothing runs)."""
    text = "" if value is None else str(value)
    return "'" + text if formula_like(text) or text[:1] in ("\t", "\r") else text


def text_csv(header: Iterable[object], rows: Iterable[Iterable[object]]) -> bytes:
    """UTF-8 CSV with a BOM (Excel opens it in the right encoding), every cell formula_safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([formula_safe(v) for v in header])
    for row in rows:
        writer.writerow([formula_safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def text_cells(sheet: Any) -> None:
    """Mark every text cell of an openpyxl worksheet as a string, never a formula (for sheets
    built cell by cell; text_workbook does it as it writes)."""
    for row in sheet.iter_rows():
        for c in row:
            if isinstance(c.value, str):
                c.data_type = "s"


# --- writing -------------------------------------------------------------------------------


def text_workbook(sheets: list[tuple[str, list[str], Iterable[Iterable[object]]]]) -> bytes:
    """An .xlsx of (sheet title, header, rows) where every cell is text: a value that starts
    with "=" (or looks like a number, such as an ID) is written as the string it is, never as
    a formula or a number Excel would round."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title)
        for index, text in enumerate(header):
            sheet.column_dimensions[_column_letter(index)].width = max(10, len(text) * 2 + 4)
        header_cells = []
        for text in header:
            c = WriteOnlyCell(sheet, value=text)
            c.font = bold
            header_cells.append(c)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([text_cell(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def text_cell(sheet: Any, value: object) -> Any:
    """A write-only cell holding `value` as text, never a formula or a number: a cell reading
    =HYPERLINK(…) stays the text it is (formula injection, OWASP), an ID stays 18 digits."""
    from openpyxl.cell import WriteOnlyCell

    c = WriteOnlyCell(sheet, value="" if value is None else str(value))
    c.data_type = "s"  # never "f"
    c.number_format = "@"
    return c


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
