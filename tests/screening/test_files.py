"""Department files as offices send them: each layout's template round trip, header synonyms,
office quirks, every kind of bad row with its row number, and the refusals that change nothing."""

import io

import openpyxl
import pytest
import python_calamine

from households.models import Department, Member
from screening import services
from screening.layouts import LAYOUTS
from screening.models import ScreeningBadRow, ScreeningRow, ScreeningUpload
from tests.screening.helpers import (
    MEDICAL_HEADER,
    api_upload,
    csv_bytes,
    medical_row,
    person_id,
    service_upload,
    xlsx_bytes,
)


def county_members(world):
    return list(Member.objects.filter(household__village__path__startswith=world.county.path).order_by("pk"))


def bad(upload):
    return [(b.row, b.column, b.reason) for b in upload.bad_rows.order_by("row", "pk")]


# --- layouts and templates -------------------------------------------------------------------


@pytest.mark.parametrize("kind", Department.Kind.values)
def test_each_departments_template_downloads_and_its_example_row_is_accepted_as_is(client, world, kind):
    Department.objects.get_or_create(county=world.county, kind=kind, defaults={"name": f"示例县{kind}"})
    client.force_login(world.county_officer)

    response = client.get(f"/api/screening/templates/{kind}/")
    page = client.get(f"/screening/templates/{kind}/")

    assert response.status_code == 200 and page.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0)
    header = sheet.to_python()[0]
    layout = LAYOUTS[kind]
    assert header == [c.header for c in layout.all_columns]
    upload = service_upload(world.county_officer, response.content, name="模板.xlsx", kind=kind)
    upload.refresh_from_db()
    assert upload.status == "done", upload.error_message
    assert (upload.rows_read, upload.rows_valid, upload.rows_invalid, upload.rows_unmatched) == (1, 1, 0, 1)
    row = ScreeningRow.objects.get(upload=upload)
    assert row.name == "张示例" and row.member_id is None
    if layout.amount:
        assert row.amount is not None
    if layout.code:
        assert row.code


def test_an_unknown_department_kind_has_no_template(client, world):
    client.force_login(world.department_staff)
    assert client.get("/api/screening/templates/police/").status_code == 404


def test_header_synonyms_full_width_text_and_extra_columns_are_read(world):
    member = county_members(world)[0]
    header = [
        "序号",
        "参保人姓名",
        "公民身份号码",
        "结算日期",
        "总费用（元）",
        "统筹支付金额",
        "个人负担金额",
        "住院",
        "备用",
    ]
    full_width_id = "".join(chr(ord(c) + 0xFEE0) for c in member.id_number)
    data = csv_bytes([[1, member.name, full_width_id, "2026/1/5", "１，２００", "700", "500", "住院", "x"]], header)

    upload = service_upload(world.department_staff, data)

    upload.refresh_from_db()
    assert bad(upload) == []
    row = ScreeningRow.objects.get(upload=upload)
    assert (row.member, str(row.amount), row.event_date.isoformat(), row.code) == (member, "500.00", "2026-01-05", "是")
    assert row.data["total_cost"] == "1200.00"
    assert upload.notices == ["以下列不在医保部门模板中，已忽略：备用。"]


def test_title_rows_a_two_row_header_notes_and_a_totals_row_in_a_gbk_file(world):
    members = county_members(world)[:2]
    lines = [
        "示例县医疗保障局2026年1月医疗费用明细表",
        "填报单位：示例县医疗保障局,,,,,,",
        "人员信息,,就诊信息,费用,,,",
        "姓名,身份证号,就诊日期,医疗总费用,报销金额,个人自付金额,是否住院",
        *(",".join(medical_row(m)) for m in members),
        "合计,,,2000,1200,800,",
        ",,,2000,1200,800,",
        "填表人：王某  审核人：李某,,,,,,",
    ]
    upload = service_upload(world.department_staff, ("\r\n".join(lines) + "\r\n").encode("gbk"))

    upload.refresh_from_db()
    assert upload.status == "done" and upload.header_rows == "4"  # the group row above names no column
    assert (upload.rows_read, upload.rows_valid, upload.rows_invalid, upload.rows_skipped) == (2, 2, 0, 3)
    assert upload.rows_matched == 2


def test_an_xlsx_with_a_sub_header_row_under_merged_group_cells(world):
    member = county_members(world)[0]
    rows = [
        ["医保费用"],
        ["姓名", "身份证号", "就诊日期", "费用", None, None, "是否住院"],
        [None, None, None, "医疗总费用", "报销金额", "个人自付金额", None],
        medical_row(member),
    ]
    upload = service_upload(world.department_staff, xlsx_bytes(rows), name="医保.xlsx")

    upload.refresh_from_db()
    assert upload.status == "done" and upload.header_rows == "2–3"
    assert (upload.rows_valid, upload.rows_matched) == (1, 1)


# --- bad rows ----------------------------------------------------------------------------------


def test_every_kind_of_bad_row_is_reported_with_its_row_number_column_and_reason(world):
    members = county_members(world)
    good = members[0]
    wrong_check = good.id_number[:-1] + ("0" if good.id_number[-1] != "0" else "1")
    rows = [
        medical_row(good),  # row 2: valid
        ["无号", "", "2026-01-03", "100", "50", "50", "否"],  # 3: missing ID
        ["错号", wrong_check, "2026-01-03", "100", "50", "50", "否"],  # 4: check digit
        ["日期", "440981197002301113", "2026-01-03", "100", "50", "50", "否"],  # 5: impossible birth date
        ["科学", "4.40981E+17", "2026-01-03", "100", "50", "50", "否"],  # 6: scientific notation
        medical_row(members[1], total="一千"),  # 7: bad amount
        medical_row(members[2], day="2026-02-30"),  # 8: impossible date
        medical_row(members[3], day="上周"),  # 9: not a date
        medical_row(members[4], paid="-5"),  # 10: negative amount
        medical_row(members[5], day="2026-01-20", paid="300"),  # 11: conflicts with 12
        medical_row(members[5], day="2026-01-20", paid="900", total="2000"),  # 12
        medical_row(members[6], day="2026-01-21"),  # 13: valid
        medical_row(members[6], day="2026-01-21"),  # 14: identical repeat of 13
        medical_row(person_id(7), paid="2000"),  # 15: self-paid above total
    ]
    upload = service_upload(world.department_staff, csv_bytes(rows))

    upload.refresh_from_db()
    reported = bad(upload)
    assert [r for r, _, _ in reported] == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]
    reasons = {r: (c, m) for r, c, m in reported}
    assert reasons[3] == ("身份证号", "身份证号不能为空。")
    assert "校验位" in reasons[4][1] and "不存在" in reasons[5][1] and "科学计数法" in reasons[6][1]
    assert reasons[7] == ("医疗总费用", "「一千」不是有效的金额。")
    assert reasons[8] == ("就诊日期", "日期 2026-02-30 不存在。")
    assert reasons[9][0] == "就诊日期" and "不是有效的日期" in reasons[9][1]
    assert reasons[10][0] == "个人自付金额" and "负数" in reasons[10][1]
    assert "第 12 行" in reasons[11][1] and "第 11 行" in reasons[12][1] and "内容不同" in reasons[12][1]
    assert reasons[14] == ("", "与第 13 行完全相同，重复的行未计入。")
    assert reasons[15] == ("个人自付金额", "个人自付金额大于医疗总费用。")
    assert (upload.rows_read, upload.rows_valid, upload.rows_invalid) == (14, 2, 12)
    assert sorted(ScreeningRow.objects.filter(upload=upload).values_list("row_number", flat=True)) == [2, 13]


def test_an_id_number_excel_stored_as_a_number_in_an_xlsx_is_reported_never_guessed(world):
    member = county_members(world)[0]
    rows = [MEDICAL_HEADER, [member.name, float(member.id_number[:17] + "0"), "2026-01-05", 100, 50, 50, "否"]]
    upload = service_upload(world.department_staff, xlsx_bytes(rows), name="医保.xlsx")

    upload.refresh_from_db()
    assert [(r, c) for r, c, _ in bad(upload)] == [(2, "身份证号")]
    assert "科学计数法" in bad(upload)[0][2]
    assert not ScreeningRow.objects.exists()


def test_the_bad_rows_download_has_the_original_cells_and_a_reason_column_all_text(client, world):
    formula = '=HYPERLINK("http://example.com")'
    rows = [[formula, "123", "2026-01-05", "100", "50", "50", "否"], medical_row(person_id(3), total="x")]
    upload = service_upload(world.department_staff, csv_bytes(rows))
    client.force_login(world.department_staff)

    for url in (f"/screening/uploads/{upload.pk}/bad-rows.xlsx", f"/api/screening/uploads/{upload.pk}/bad-rows/"):
        response = client.get(url)
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content))["错误行"]
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert values[0] == ["原行号", *MEDICAL_HEADER, "错误原因"]
        assert values[1][:2] == ["2", formula] and "身份证号应为 18 位" in values[1][-1]
        assert sheet["B2"].data_type == "s"  # the formula is text, not a formula
        assert values[2][0] == "3" and "「x」不是有效的金额" in values[2][-1]


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("医保.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "不是有效的 Excel 文件"),
        ("医保.csv", b"", "文件是空的"),
        ("医保.csv", b"\r\n,,\r\n", "没有任何内容"),
        ("医保.pdf", b"%PDF-1.4", "只支持"),
        (
            "残联.csv",
            "姓名,身份证号,残疾类别,残疾等级\r\n张三,440981197001010011,肢体残疾,2\r\n".encode(),
            "没有医保部门模板",
        ),
        (
            "医保.csv",
            "姓名,身份证号,就诊日期\r\n张三,440981197001010011,2026-01-01\r\n".encode(),
            "缺少医保部门模板的必需列",
        ),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_empty_or_not_the_layout_is_refused_and_nothing_changes(
    client, world, name, data, message
):
    earlier = service_upload(world.department_staff, csv_bytes([medical_row(county_members(world)[0])]))
    client.force_login(world.department_staff)

    response = api_upload(client, data, name=name)

    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert list(ScreeningUpload.objects.all()) == [earlier]
    assert ScreeningRow.objects.current().count() == 1


def test_a_bad_period_is_refused(client, world):
    client.force_login(world.department_staff)
    for period in ("2026-13", "202601", "2099-01"):
        response = api_upload(client, csv_bytes([medical_row(person_id(1))]), period=period)
        assert response.status_code == 400 and "period" in response.json()
    assert not ScreeningUpload.objects.exists()


def test_the_screen_command_prints_the_summary_and_bad_rows_and_exits_0(world, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "医保.csv"
    path.write_bytes(
        csv_bytes([medical_row(county_members(world)[0]), medical_row(person_id(5), paid="abc")], encoding="gbk")
    )

    call_command("screen", str(path), "--department", "medical_insurance", "--period", "2026-01", "--county", "示例县")

    out = capsys.readouterr().out
    assert "读取 2 行，有效 1 行，错误 1 行；比对上登记册 1 行，未在登记册中 0 行" in out
    assert "第 3 行［个人自付金额］：「abc」不是有效的金额。" in out
    upload = ScreeningUpload.objects.get()
    assert upload.status == "done" and upload.uploaded_by is None and upload.is_current


def test_the_screen_command_exits_non_zero_when_the_file_is_refused(world, tmp_path):
    import subprocess
    import sys

    from django.core.management import CommandError, call_command

    path = tmp_path / "医保.csv"
    path.write_bytes("姓名,身份证号,残疾类别\r\n".encode())
    with pytest.raises(CommandError, match="没有医保部门模板"):
        call_command("screen", str(path), "--department", "medical_insurance", "--period", "2026-01")
    assert not ScreeningUpload.objects.exists()
    # As a process: the exit status a shell script sees.
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "screen",
            str(tmp_path / "missing.csv"),
            "--department",
            "health",
            "--period",
            "2026-01",
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "SECRET_KEY": "x"},
    )
    assert result.returncode != 0 and "无法打开文件" in result.stderr


def test_rows_are_matched_only_to_the_departments_county_and_a_different_name_is_flagged(world):
    own, other = county_members(world)[0], Member.objects.get(household=world.household_other)
    rows = [medical_row(own, name="别名"), medical_row(other)]

    upload = service_upload(world.department_staff, csv_bytes(rows))

    by_row = {r.row_number: r for r in ScreeningRow.objects.filter(upload=upload)}
    assert by_row[2].member == own and by_row[2].name_differs is True
    assert by_row[2].household == own.household and by_row[2].village == own.household.village
    assert by_row[2].town == own.household.village.parent
    assert by_row[3].member is None and by_row[3].household is None  # registered in another county
    upload.refresh_from_db()
    assert (upload.rows_matched, upload.rows_unmatched) == (1, 1)


def test_bad_row_numbers_are_those_excel_shows_in_an_xlsx_with_blank_rows(world):
    rows = [["标题"], [], MEDICAL_HEADER, [], medical_row(person_id(1), day="bad")]
    upload = service_upload(world.department_staff, xlsx_bytes(rows), name="a.xlsx")
    assert [r for r, _, _ in bad(upload)] == [5]
    assert ScreeningBadRow.objects.get().cells[0] == "某人"


def test_services_refuse_an_unknown_kind(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.check_upload_department(world.county_officer, kind="police")
