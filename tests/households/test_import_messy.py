"""Registry import with files as a county data clerk really brings them (issue 2 item 6):
government-office workbooks (title, subtitle, two-row header, totals and notes), hidden and
extra sheets, office-style booleans and ID numbers, Excel's other export formats, files that
are not what their name says. Every error carries the row number Excel shows, the column and
a reason in Chinese; every valid household is imported; a re-import changes nothing."""

import datetime
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command

from households import idnumber
from households.importer import NUMERIC_ID_MESSAGE, ImportFileError, import_registry
from households.models import Household, Member
from tests.households.uploads import upload

FILES = Path(__file__).parent / "files"


def make_id(n):
    return idnumber.make("440981", datetime.date(1970, 1, 1) + datetime.timedelta(days=n * 300), 11 + n * 2)


IDS = [make_id(n) for n in range(12)]
# registry_2003.xls (made with xlwt, see test_old_excel_xls_file_is_read) holds IDS[0:4].
ID_X = next(
    i for i in (idnumber.make("440981", datetime.date(1985, 6, 1), s) for s in range(1, 999, 2)) if i.endswith("X")
)
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def wrong_check(number):
    return number[:17] + ("0" if number[17] != "0" else "1")


def issues(items):
    return [(i.row, i.column, i.message) for i in items]


def workbook_bytes(workbook):
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def sheet_bytes(rows, title="Sheet1"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    return workbook_bytes(workbook)


def run(data, name, user):
    return import_registry(io.BytesIO(data), name, user=user)


# --- the government-office workbook ----------------------------------------------------------


def government_workbook():
    """As a town office sends it: merged title, 填报单位/日期 subtitle, a two-row header whose
    ungrouped columns are merged down across both rows, columns in their own order, columns
    the system does not know (序号, 出生日期 as real dates, 备注), header cells with spaces, line
    breaks and full-width brackets, one household as a merged block, floats, office marks for
    yes/no, a totals row and notes at the bottom."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["东关村农户信息采集表（2026年）"])
    ws.merge_cells("A1:L1")
    ws.append(["填报单位：东山镇东山村（盖章）", None, None, None, None, None, None, None, "填报日期：2026年3月1日"])
    ws.append(
        [
            "序号",
            "户 编 号",
            "家庭成员基本信息",
            None,
            None,
            None,
            "家庭信息",
            None,
            None,
            "务工时间\n（月）",
            "是否享受\n低保",
            "备注",
        ]
    )
    ws.append(
        [
            None,
            None,
            "姓  名",
            "身份证号码",
            "与户主\n关系",
            "出生日期",
            "所属村",
            "家庭住址",
            "户类型（必填）",
            None,
            None,
            None,
        ]
    )
    for cells in ("A3:A4", "B3:B4", "J3:J4", "K3:K4", "L3:L4", "C3:F3", "G3:I3"):
        ws.merge_cells(cells)
    born = datetime.date(1970, 1, 1)
    ws.append([1, "DG001", "张三", IDS[0], "户主", born, "东山村", "一组1号", "脱贫户", 3.0, "√", None])
    ws.append([2, None, "李四", ID_X.lower(), "配偶", born, None, None, None, 0.0, "×", None])
    ws.append(
        [
            3,
            None,
            "张小",
            " ".join([IDS[2][:6], IDS[2][6:14], IDS[2][14:]]),
            "子女",
            born,
            None,
            None,
            None,
            None,
            "N",
            "在读",
        ]
    )
    for cells in ("B5:B7", "G5:G7", "H5:H7", "I5:I7"):
        ws.merge_cells(cells)
    ws.append([4, "DG002", "王五", "'" + IDS[3] + "'", "户主", None, "东山村", "二组", "一般农户", 12, "否", "外出"])
    ws.append([5, "DG003", "赵六", wrong_check(IDS[4]), "户主", None, "东山村", "三组", "一般农户", 0, "否", None])
    ws.append(
        [6, "DG004", "钱七", float(IDS[5][:15] + "000"), "户主", None, "东山村", "四组", "一般农户", 0, "否", None]
    )
    ws.append(["合计", None, "6人", None, None, None, None, None, None, 15, None, None])
    ws.append(["备注：1.本表由村委会填写；2.身份证号请填写18位。"])
    ws.merge_cells("A12:L12")
    ws.append(["填表说明：户类型填写脱贫户或一般农户。"])
    ws.append([None, "填报人：李会计      审核人：王书记"])
    return workbook_bytes(wb)


GOVERNMENT_ERRORS = [
    (9, "身份证号码", "身份证号校验位错误，请核对号码。"),
    (10, "身份证号码", NUMERIC_ID_MESSAGE),
]
GOVERNMENT_NOTICES = [
    (3, "", "以下列未识别，已忽略：序号、出生日期、备注。"),
    (9, "户编号", "户编号 DG003 有错误，该户（共 1 行）未导入，其他农户不受影响。"),
    (10, "户编号", "户编号 DG004 有错误，该户（共 1 行）未导入，其他农户不受影响。"),
    (11, "", "没有身份证号，视为说明或合计行，已跳过。"),
    (12, "", "没有身份证号，视为说明或合计行，已跳过。"),
    (13, "", "没有身份证号，视为说明或合计行，已跳过。"),
    (14, "", "没有身份证号，视为说明或合计行，已跳过。"),
]


def test_government_workbook_with_two_row_header_imports_every_valid_household(world):
    report = run(government_workbook(), "东关村.xlsx", world.village_cadre)

    assert (report.sheet, report.header_rows, report.rows_read) == ("Sheet1", "3–4", 6)
    assert issues(report.errors) == GOVERNMENT_ERRORS
    assert issues(report.notices) == GOVERNMENT_NOTICES
    assert (report.households_created, report.households_rejected, report.members_created) == (2, 2, 4)
    assert report.rows_skipped == 4

    block = Household.objects.get(number="DG001")
    assert (block.village, block.address, block.household_type) == (
        world.village_a1,
        "一组1号",
        Household.Type.FORMERLY_POOR,
    )
    members = {m.id_number: m for m in block.members.all()}
    assert set(members) == {IDS[0], ID_X, IDS[2]}  # lower-case x and inner spaces normalised
    assert (members[IDS[0]].work_months, members[IDS[0]].dibao) == (3, True)
    assert (members[ID_X].name, members[ID_X].relation, members[ID_X].dibao) == ("李四", "spouse", False)
    assert members[IDS[2]].name == "张小"
    second = Household.objects.get(number="DG002").members.get()
    assert (second.id_number, second.work_months) == (IDS[3], 12)  # apostrophes on both sides dropped
    assert not Household.objects.filter(number__in=["DG003", "DG004"]).exists()


def test_reimporting_the_government_workbook_changes_nothing(world):
    data = government_workbook()
    run(data, "东关村.xlsx", world.village_cadre)
    before = list(Member.objects.order_by("id").values_list("id", "household_id", "name", "updated_at"))

    again = run(data, "东关村.xlsx", world.village_cadre)

    assert (again.households_created, again.households_updated, again.households_rejected) == (0, 2, 2)
    assert (again.members_created, again.members_updated) == (0, 4)
    assert issues(again.errors) == GOVERNMENT_ERRORS
    assert list(Member.objects.order_by("id").values_list("id", "household_id", "name", "updated_at")) == before


def test_village_cadre_uploads_the_government_workbook_on_the_page(client, world):
    client.force_login(world.village_cadre)
    response = upload(client, government_workbook(), "东关村.xlsx")

    html = response.content.decode()
    assert response.status_code == 200
    assert "工作表「Sheet1」，表头在第 3–4 行，读取数据 6 行。" in html
    assert '<tr><td class="num">9</td><td>身份证号码</td><td>身份证号校验位错误，请核对号码。</td></tr>' in html
    assert f'<tr><td class="num">10</td><td>身份证号码</td><td>{NUMERIC_ID_MESSAGE}</td></tr>' in html
    assert Household.objects.filter(number__in=["DG001", "DG002"]).count() == 2


def test_command_imports_the_government_workbook_for_a_user(world, tmp_path):
    path = tmp_path / "东关村.xlsx"
    path.write_bytes(government_workbook())
    out = io.StringIO()

    with pytest.raises(SystemExit) as exit_info:
        call_command("import_households", str(path), "--user", "village", stdout=out)

    text = out.getvalue()
    assert exit_info.value.code == 1
    assert "读取 Excel 文件：工作表「Sheet1」，表头在第 3–4 行，数据 6 行。" in text
    assert "第 9 行［身份证号码］：身份证号校验位错误，请核对号码。" in text
    assert "第 14 行：没有身份证号，视为说明或合计行，已跳过。" in text
    assert Household.objects.filter(number__in=["DG001", "DG002"]).count() == 2


def test_sub_header_under_a_group_is_found_when_the_key_columns_share_the_top_row(world):
    """Top row: 户编号 and 身份证号 merged down, 两不愁三保障 over its items (the one-row case)."""
    rows = [
        ["户编号", "村", "姓名", "身份证号", "与户主关系", "两不愁三保障", None],
        [None, None, None, None, None, "住房安全有保障", "饮水安全有保障"],
        ["GH01", "东山村", "甲", IDS[0], "户主", "否", "是"],
    ]
    report = run(sheet_bytes(rows), "g.xlsx", world.village_cadre)

    assert report.errors == [] and report.header_rows == "1"
    household = Household.objects.get(number="GH01")
    assert (household.housing_secure, household.water_secure) == (False, True)


# --- sheets ------------------------------------------------------------------------------


def test_first_visible_sheet_with_a_header_is_read_and_other_data_sheets_are_reported(world):
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "填表说明"
    notes.append(["请按村分别填写"])
    hidden = wb.create_sheet("旧数据")
    hidden.append(["户编号", "村", "姓名", "身份证号", "与户主关系"])
    hidden.append(["OLD1", "东山村", "旧", IDS[0], "户主"])
    hidden.sheet_state = "hidden"
    first = wb.create_sheet("东山村农户")
    first.append(["户编号", "村", "姓名", "身份证号", "与户主关系"])
    first.append(["SH01", "东山村", "甲", IDS[1], "户主"])
    second = wb.create_sheet("南岭村农户")
    second.append(["户编号", "村", "姓名", "身份证号", "与户主关系"])
    second.append(["SH02", "南岭村", "乙", IDS[2], "户主"])

    report = run(workbook_bytes(wb), "两个村.xlsx", world.county_officer)

    assert report.sheet == "东山村农户"
    assert issues(report.errors) == [
        (
            None,
            "",
            (
                "工作表「南岭村农户」也有表头，但本次只导入了第一个有表头的工作表「东山村农户」；"
                "请把其他工作表分别另存为单独的文件后再导入。"
            ),
        )
    ]
    assert not report.ok  # the clerk must not read 全部导入成功 while a sheet was left out
    assert list(Household.objects.filter(number__in=["OLD1", "SH01", "SH02"]).values_list("number", flat=True)) == [
        "SH01"
    ]


def test_county_officer_sees_the_left_out_sheet_on_the_page(client, world):
    wb = openpyxl.Workbook()
    wb.active.append(["户编号", "村", "姓名", "身份证号", "与户主关系"])
    wb.active.append(["SH01", "东山村", "甲", IDS[1], "户主"])
    other = wb.create_sheet("西河村")
    other.append(["户编号", "村", "姓名", "身份证号", "与户主关系"])
    client.force_login(world.county_officer)

    html = upload(client, workbook_bytes(wb), "两个村.xlsx").content.decode()

    assert "工作表「西河村」也有表头" in html and "全部导入成功" not in html
    assert Household.objects.filter(number="SH01").exists()


# --- cells -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mark, expected",
    [
        ("是", True),
        ("否", False),
        ("√", True),
        ("×", False),
        ("✔", True),
        ("✘", False),
        ("Y", True),
        ("n", False),
        ("有", True),
        ("无", False),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (None, False),
    ],
)
def test_yes_no_written_as_office_marks(world, mark, expected):
    rows = [["户编号", "村", "姓名", "身份证号", "与户主关系", "低保"], ["YN01", "东山村", "甲", IDS[0], "户主", mark]]
    report = run(sheet_bytes(rows), "yn.xlsx", world.village_cadre)

    assert report.errors == []
    assert Member.objects.get(id_number=IDS[0]).dibao is expected


def test_unreadable_yes_no_mark_is_reported_not_guessed(world):
    rows = [["户编号", "村", "姓名", "身份证号", "与户主关系", "低保"], ["YN01", "东山村", "甲", IDS[0], "户主", "/"]]
    report = run(sheet_bytes(rows), "yn.xlsx", world.village_cadre)

    assert issues(report.errors) == [(2, "低保", "「/」无法识别，请填写：是、否。")]


def test_id_numbers_as_offices_type_them(world):
    cases = [
        ("'" + IDS[0], None),
        (IDS[1] + "'", None),
        ("\u200b" + IDS[2] + "\u00a0", None),  # pasted from a web page or a chat
        ("“" + IDS[3] + "”", None),
        (IDS[4].translate(FULLWIDTH), None),
        (ID_X.lower(), None),
        (int(IDS[6]), NUMERIC_ID_MESSAGE),
        (float(IDS[7]), NUMERIC_ID_MESSAGE),
        ("4.40981E+17", NUMERIC_ID_MESSAGE),
        (wrong_check(IDS[8]), "身份证号校验位错误，请核对号码。"),
        (IDS[9][:6] + IDS[9][8:17], "这是旧的 15 位身份证号，请填写现行的 18 位身份证号。"),
        (IDS[10][:17], "身份证号应为 18 位，当前为 17 位。"),
    ]
    rows = [["户编号", "村", "姓名", "身份证号", "与户主关系"]]
    rows += [[f"ID{n:02d}", "东山村", "甲", value, "户主"] for n, (value, _) in enumerate(cases)]

    report = run(sheet_bytes(rows), "ids.xlsx", world.village_cadre)

    assert issues(report.errors) == [(n + 2, "身份证号", message) for n, (_, message) in enumerate(cases) if message]
    stored = set(Member.objects.filter(household__number__startswith="ID").values_list("id_number", flat=True))
    assert stored == {IDS[0], IDS[1], IDS[2], IDS[3], IDS[4], ID_X}


def test_same_id_twice_with_different_names_rejects_both_households(world):
    rows = [
        ["户编号", "村", "姓名", "身份证号", "与户主关系"],
        ["DU01", "东山村", "甲", IDS[0], "户主"],
        ["DU01", "东山村", "乙", IDS[1], "配偶"],
        ["DU02", "东山村", "丙", IDS[0], "户主"],
        ["DU03", "东山村", "丁", IDS[2], "户主"],
    ]
    report = run(sheet_bytes(rows), "dup.xlsx", world.village_cadre)

    assert issues(report.errors) == [
        (2, "身份证号", "该身份证号在第 4 行再次出现且内容不同，请核对后只保留一行。"),
        (4, "身份证号", "该身份证号与第 2 行相同，但其他内容不同，请核对后只保留一行。"),
    ]
    assert list(Household.objects.filter(number__startswith="DU").values_list("number", flat=True)) == ["DU03"]


def test_heads_and_merged_household_numbers(world):
    rows = [
        ["户编号", "村", "姓名", "身份证号", "与户主关系", "务工时间"],
        ["HD01", "东山村", "甲", IDS[0], "户主", 3.5],
        ["HD02", "东山村", "乙", IDS[1], "户主", "三个月"],
        ["HD02", "东山村", "丙", IDS[2], "户主", None],
        ["HD03", "东山村", "丁", IDS[3], "配偶", None],
        ["HD04", "东山村", "戊", IDS[4], "户主", 6.0],
        [None, None, "己", IDS[5], "子女", datetime.date(2026, 3, 1)],
        [None, None, "庚", IDS[6], "子女", None],
        [],
        [None, None, "辛", IDS[7], "子女", None],
    ]
    report = run(sheet_bytes(rows), "heads.xlsx", world.village_cadre)

    assert issues(report.errors) == [
        (2, "务工时间", "「3.5」不是有效的整数。"),
        (4, "与户主关系", "户编号 HD02 已有户主（第 3 行），每户只能有一名在户户主。"),
        (5, "与户主关系", "户编号 HD03 没有在户的户主，每户必须有且只有一名户主。"),
        (7, "务工时间", "「2026-03-01」不是有效的整数。"),
        (10, "户编号", "户编号不能为空。"),
    ]
    assert not Household.objects.filter(number__startswith="HD").exists()


def test_notes_in_the_household_number_column_are_skipped(world):
    rows = [
        ["户编号", "村", "姓名", "身份证号", "与户主关系"],
        ["NT01", "东山村", "甲", IDS[0], "户主"],
        ["合计：1户1人"],
        ["填报人：李会计    审核人：王书记"],
        ["东山村村民委员会（盖章）"],
        ["NT02", "东山村", "乙", None, "户主"],
    ]
    report = run(sheet_bytes(rows), "notes.xlsx", world.village_cadre)

    assert issues(report.errors) == [(6, "身份证号", "身份证号不能为空。")]
    assert [n[0] for n in issues(report.notices) if "说明或合计行" in n[2]] == [3, 4, 5]
    assert Household.objects.filter(number="NT01").exists()


# --- empty, odd and disguised files --------------------------------------------------------


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"", "a.csv", "文件是空的。"),
        (b"\xef\xbb\xbf\r\n,,,\r\n", "a.csv", "文件中没有任何内容。"),
        (sheet_bytes([]), "a.xlsx", "文件中没有任何内容（所有可见的工作表都是空的）。"),
        ("户编号,村,姓名,身份证号,与户主关系\r\n".encode(), "a.xlsx", "内容是文本（CSV）格式"),
        (
            b"<html><body><table><tr><td>\xe6\x88\xb7</td></tr></table></body></html>",
            "导出.xls",
            "内容是网页（HTML）格式",
        ),
        (b"\x00\x01\x02\x03\xff\xfe garbage", "a.xlsx", "该文件不是有效的 Excel 文件"),
        (b"PK\x03\x04broken zip", "a.xlsx", "无法读取该 Excel 文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1broken", "a.xls", "无法读取该 Excel 文件"),
        (b"%PDF-1.4", "a.pdf", "只支持 .xlsx、.xls、.csv 和 .txt（制表符分隔）文件"),
    ],
)
def test_empty_and_disguised_files_get_a_clear_message(world, data, name, message):
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        run(data, name, world.village_cadre)


def test_disguised_file_on_the_page_is_a_form_error_not_a_500(client, world):
    client.force_login(world.county_officer)
    response = upload(client, "户编号,村,姓名,身份证号,与户主关系\r\n".encode(), "农户.xlsx")

    assert response.status_code == 200
    assert "内容是文本（CSV）格式" in response.content.decode()


def test_file_with_only_a_header_says_nothing_was_imported(client, world):
    client.force_login(world.village_cadre)
    html = upload(client, sheet_bytes([["标题"], ["户编号", "村", "姓名", "身份证号", "与户主关系"]]), "空表.xlsx")
    html = html.content.decode()

    assert "表头下面没有成员数据行，没有导入任何农户。" in html
    assert "全部导入成功" not in html


# --- other encodings and formats ---------------------------------------------------------


def test_gbk_csv_with_title_line_and_totals_line(world):
    lines = [
        "东关村农户信息采集表（2026年）,,,,,",
        "填报单位：东山村,,,填报日期：2026-03-01,,",
        "序号,户编号,村,姓名,身份证号码,与户主关系",
        f"1,GB01,东山村,张三,{IDS[0]},户主",
        f"2,GB01,东山村,李四,{IDS[1]},配偶",
        "合计,,,2人,,",
    ]
    report = run("\r\n".join(lines).encode("gbk"), "东关村.csv", world.village_cadre)

    assert report.errors == [] and report.header_rows == "3"
    assert issues(report.notices) == [
        (3, "", "以下列未识别，已忽略：序号。"),
        (6, "", "没有身份证号，视为说明或合计行，已跳过。"),
    ]
    assert Household.objects.get(number="GB01").members.count() == 2


@pytest.mark.parametrize(
    "name, encode",
    [
        ("东关村.txt", lambda text: ("\ufeff" + text).encode("utf-16-le")),  # Excel: 另存为 Unicode 文本
        ("东关村.csv", lambda text: text.encode("utf-16-le")),  # the same, renamed, BOM lost
        ("东关村.txt", lambda text: text.encode("gbk")),  # Excel: 文本文件（制表符分隔）
    ],
)
def test_excel_unicode_text_export_is_read(world, name, encode):
    lines = [
        "户编号\t村\t姓名\t身份证号\t与户主关系",
        f"UT01\t东山村\t王五\t{IDS[2]}\t户主",
        f'UT01\t东山村\t"赵六"\t{IDS[3]}\t子女',
    ]
    report = run(encode("\r\n".join(lines) + "\r\n"), name, world.village_cadre)

    assert report.errors == [] and report.file_format == "制表符分隔文本"
    assert sorted(Household.objects.get(number="UT01").members.values_list("name", flat=True)) == ["王五", "赵六"]


def test_old_excel_xls_file_is_read(world):
    """registry_2003.xls was written by xlwt (BIFF8, as Excel 2003 saves): a merged title, a
    two-row header, a merged household block, a date column, an ID stored as a number, a
    totals row and a note."""
    report = run((FILES / "registry_2003.xls").read_bytes(), "registry_2003.xls", world.village_cadre)

    assert (report.file_format, report.sheet, report.header_rows) == ("Excel", "农户信息", "2–3")
    assert issues(report.errors) == [(6, "身份证号码", NUMERIC_ID_MESSAGE)]
    assert (report.households_created, report.members_created, report.rows_skipped) == (2, 3, 2)
    assert sorted(Household.objects.get(number="XL01").members.values_list("id_number", flat=True)) == [IDS[0], IDS[1]]


# --- the downloaded template, filled in as a clerk would -----------------------------------


def test_downloaded_template_with_a_title_row_and_the_samples_replaced_imports(client, world):
    client.force_login(world.village_cadre)
    template = client.get("/households/import/template/xlsx/").content
    wb = openpyxl.load_workbook(io.BytesIO(template))
    sheet = wb["农户成员"]
    headers = [c.value for c in sheet[1]]
    sheet.delete_rows(2, 2)
    sheet.insert_rows(1)
    sheet["A1"] = "东山村农户信息（2026年3月）"
    for number, name, id_number, relation in (
        ("TP01", "甲", IDS[0], "户主"),
        ("TP01", "乙", IDS[1], "配偶"),
        ("TP02", "丙", IDS[2], "户主"),
    ):
        values = {
            "户编号": number,
            "村": "东山村",
            "姓名": name,
            "身份证号": id_number,
            "与户主关系": relation,
            "医保": "√",
            "务工时间（月）": 2.0,
        }
        sheet.append([values.get(h) for h in headers])

    html = upload(client, workbook_bytes(wb), "农户导入模板.xlsx").content.decode()

    assert "全部导入成功。" in html and "表头在第 2 行" in html
    assert (
        Member.objects.filter(household__number__in=["TP01", "TP02"], medical_insurance=True, work_months=2).count()
        == 3
    )


# --- re-imports --------------------------------------------------------------------------


def test_reimport_checks_data_quality_only_for_households_it_changes(world):
    child = idnumber.make("440981", datetime.date.today().replace(year=datetime.date.today().year - 10, day=1), 13)
    rows = [
        ["户编号", "村", "姓名", "身份证号", "与户主关系", "务工时间（月）"],
        ["QF01", "东山村", "家长", IDS[0], "户主", 0],
        ["QF01", "东山村", "孩子", child, "子女", 6],
        ["QF02", "东山村", "邻居", IDS[1], "户主", 0],
        ["QF02", "东山村", "邻孩", IDS[2], "子女", 6],
    ]
    first = run(sheet_bytes(rows), "q.xlsx", world.village_cadre)
    assert [i.row for i in first.findings] == [2]

    rows[4][5] = 8  # QF02 changes; QF01 is the same as stored
    again = run(sheet_bytes(rows), "q.xlsx", world.village_cadre)

    assert again.findings == [] and again.members_updated == 4
    rows[2][5] = 7  # now the child's row changes: checked, and still flagged
    third = run(sheet_bytes(rows), "q.xlsx", world.village_cadre)
    assert [i.message for i in third.findings] == [
        "户编号 QF01：孩子 未满 16 周岁，却登记了务工（工资性收入），请核实。"
    ]


def test_moving_a_person_to_another_household_of_the_same_file_is_refused(world):
    rows = [
        ["户编号", "村", "姓名", "身份证号", "与户主关系"],
        ["MV01", "东山村", "甲", IDS[0], "户主"],
        ["MV01", "东山村", "乙", IDS[1], "子女"],
        ["MV02", "东山村", "丙", IDS[2], "户主"],
    ]
    run(sheet_bytes(rows), "mv.xlsx", world.village_cadre)
    rows[2][0] = "MV02"  # 乙 married into MV02: the old household still holds the number

    report = run(sheet_bytes(rows), "mv.xlsx", world.village_cadre)

    assert issues(report.errors) == [
        (3, "身份证号", "该身份证号已登记在另一农户（户编号 MV01）中，同一身份证号不能登记两次。")
    ]
    assert Member.objects.get(id_number=IDS[1]).household.number == "MV01"


def test_stored_member_changed_by_the_file_is_validated_again(world):
    rows = [
        ["户编号", "村", "姓名", "身份证号", "与户主关系", "残疾等级"],
        ["VA01", "东山村", "甲", IDS[0], "户主", None],
    ]
    run(sheet_bytes(rows), "va.xlsx", world.village_cadre)
    rows[1][5] = 2  # a level without a category breaks the model's rule

    report = run(sheet_bytes(rows), "va.xlsx", world.village_cadre)

    assert [(i.row, i.message) for i in report.errors] == [(2, "填写残疾等级时必须选择残疾类别。")]
    assert Member.objects.get(id_number=IDS[0]).disability_level is None


# --- large files -------------------------------------------------------------------------


def test_a_whole_column_of_numeric_ids_is_one_grouped_line_on_the_page(client, world, monkeypatch):
    from households import import_views

    monkeypatch.setattr(import_views, "ISSUES_SHOWN", 5)
    rows = [["户编号", "村", "姓名", "身份证号", "与户主关系"]]
    rows += [[f"NUM{n:02d}", "东山村", "甲", float(IDS[n][:15] + "000"), "户主"] for n in range(8)]
    client.force_login(world.village_cadre)

    html = upload(client, sheet_bytes(rows), "numbers.xlsx").content.decode()

    assert (
        f'<tr><td class="num">8</td><td>身份证号</td><td>{NUMERIC_ID_MESSAGE}</td>'
        "<td>第 2、3、4、5、6、7、8、9 行</td></tr>"
    ) in html
    assert "以上只列出前 5 条错误，另有 3 条未列出（见上方汇总）。" in html
    assert html.count(f"<td>{NUMERIC_ID_MESSAGE}</td></tr>") == 5  # the first ones in full


def test_unreadable_id_of_the_stored_head_does_not_add_a_second_head_error(world):
    rows = [["户编号", "村", "姓名", "身份证号", "与户主关系"], ["SH01", "东山村", "甲", IDS[0], "户主"]]
    run(sheet_bytes(rows), "h.xlsx", world.village_cadre)
    rows[1][3] = float(IDS[0][:15] + "000")  # the next export lost the text format

    report = run(sheet_bytes(rows), "h.xlsx", world.village_cadre)

    assert issues(report.errors) == [(2, "身份证号", NUMERIC_ID_MESSAGE)]
