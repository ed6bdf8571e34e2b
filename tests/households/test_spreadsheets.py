"""The one spreadsheet reader (households.spreadsheets) that the registry import and department
screening share: encodings, header finding with a caller's own columns, ID cells Excel mangled,
and text-only workbooks for downloads."""

import datetime
import io
from dataclasses import dataclass

import pytest
import python_calamine

from households import idnumber, spreadsheets
from households.spreadsheets import SpreadsheetError, find_header, read_id_cell, read_table


@dataclass(frozen=True)
class Col:
    key: str


LOOKUP = {
    spreadsheets.normalize_header(text): Col(key)
    for text, key in [("身份证号", "id"), ("公民身份号码", "id"), ("姓名", "name"), ("个人自付金额", "paid")]
}


def read(data, name="f.csv"):
    table = read_table(
        io.BytesIO(data),
        name,
        has_header=lambda head: find_header(head, LOOKUP, {"id"}, 2) is not None,
        header_rule="请下载模板。",
    )
    return table, list(table.rows)


ID = idnumber.make("440981", datetime.date(1970, 1, 1), 11)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le"])
def test_it_reads_text_exports_in_every_office_encoding(encoding):
    text = f"某县医保局2026年1月数据\r\n姓名,身份证号,个人自付金额\r\n张三,{ID},12.5\r\n"
    table, rows = read(text.encode(encoding))
    assert rows[1:] == [(2, ["姓名", "身份证号", "个人自付金额"]), (3, ["张三", ID, "12.5"])]
    assert rows[0][1][0].lstrip("\ufeff") == "某县医保局2026年1月数据"
    assert table.file_format == "CSV"


def test_it_reads_tab_separated_text_and_keeps_a_quoted_line_break_in_one_row():
    data = f'姓名\t身份证号\n"张\n三"\t{ID}\n李四\t{ID}\n'.encode("gbk")
    table, rows = read(data, "f.txt")
    assert table.file_format == "制表符分隔文本"
    assert [number for number, _ in rows] == [1, 2, 3]


def test_it_refuses_a_binary_file_named_csv_and_a_text_file_named_xlsx():
    with pytest.raises(SpreadsheetError, match="不是文本"):
        read(b"\x00\x01\x02abc\x00" * 10, "f.csv")
    with pytest.raises(SpreadsheetError, match="内容是文本"):
        read("姓名,身份证号\n".encode(), "f.xlsx")
    with pytest.raises(SpreadsheetError, match="文件是空的"):
        read(b"", "f.csv")
    with pytest.raises(SpreadsheetError, match="只支持"):
        read(b"abc", "f.pdf")


def test_a_workbook_without_the_callers_header_names_the_rule():
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["户编号", "村"])
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(SpreadsheetError, match="没有找到表头：请下载模板。"):
        read(out.getvalue(), "f.xlsx")


def test_two_row_header_and_full_width_header_text_are_found_with_the_callers_columns():
    rows = [(1, ["医保数据"]), (2, ["人员信息", "", "费用"]), (3, ["姓 名", "公民身份号码", "个人自付金额（元）"])]
    assert find_header(rows, LOOKUP, {"id"}, 2).positions == {0: Col("name"), 1: Col("id")}
    rows = [(1, ["人员信息", "", "个人自付金额"]), (2, ["姓名", "身份证号", ""])]
    header = find_header(rows, LOOKUP, {"id"}, 3)
    assert (header.index, header.last) == (0, 1)
    assert header.positions == {0: Col("name"), 1: Col("id"), 2: Col("paid")}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (4.40981197001011e17, "科学计数法"),
        ("4.40981E+17", "科学计数法"),
        ("440981197001011.0", "科学计数法"),
        ("", "不能为空"),
        ("440981700101111", "15 位"),
        (ID[:-1] + ("0" if ID[-1] != "0" else "1"), "校验位"),
        ("440981197002301110", "不存在"),
    ],
)
def test_an_id_cell_that_is_not_a_valid_id_says_why(raw, message):
    found = read_id_cell(raw, spreadsheets.clean_text(raw))
    assert found.number == "" and message in found.error


def test_an_id_cell_in_full_width_digits_or_quotes_is_read():
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ID)
    assert read_id_cell(full_width, spreadsheets.clean_text(full_width)).number == ID
    assert read_id_cell(f"'{ID}", spreadsheets.clean_text(f"'{ID}")).number == ID
    assert read_id_cell(f'="{ID}"', spreadsheets.clean_text(f'="{ID}"')).number == ID


def test_clean_text_collapses_inner_whitespace_and_drops_invisible_characters():
    assert spreadsheets.clean_text("  a\t b\n") == "a b"
    assert spreadsheets.clean_text("\u200b１２３\u3000") == "123"
    assert spreadsheets.clean_text(12.0) == "12"


def test_text_workbook_writes_formulas_and_long_numbers_as_text():
    data = spreadsheets.text_workbook([("错误行", ["行号", "原因"], [[3, '=HYPERLINK("http://x","y")'], [4, ID]])])
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("错误行")
    rows = sheet.to_python()
    assert rows[1] == ["3", '=HYPERLINK("http://x","y")'] and rows[2][1] == ID
    import openpyxl

    cell = openpyxl.load_workbook(io.BytesIO(data))["错误行"]["B2"]
    assert cell.data_type == "s"


def test_a_row_is_cleaned_at_once_exactly_as_cell_by_cell():
    from households.spreadsheets import clean_text, clean_texts

    rows = [
        ["张三", "440981199001011234", "2026-01-15", "1000", "是"],
        ["张 三", " 4409", "a  b", "x\tb", "'4409"],
        ['="4409"', "ｱ", "１２３", "a\u200bb", "\u3000张三"],
        ["plain", "ends ", "", "|", "a|b"],
        ["张三", None, 3.0, 12.5, True],
        ["Ⅻ", "ﬁ", "e\u0301", "＝", "x"],
    ]
    for row in rows:
        assert clean_texts(row) == [clean_text(v) for v in row], row
