"""Registry import (issue 2 item 6): messy office files, exact error reports, idempotence, scope."""

import datetime
import io

import openpyxl
import pytest

from households import idnumber, quality
from households.importer import NUMERIC_ID_MESSAGE, ImportFileError, import_registry
from households.models import Household, Member
from tests.households.uploads import upload


def make_id(day, seq):
    """A valid ID number born on 1970-01-01 + day, odd sequence for men."""
    return idnumber.make("440981", datetime.date(1970, 1, 1) + datetime.timedelta(days=day), seq)


ID1, ID2, ID3, ID4, ID5, ID6 = (make_id(n * 400, 11 + n * 2) for n in range(6))
BAD_CHECK = ID5[:17] + ("0" if ID5[17] != "0" else "1")


def csv_bytes(lines, encoding):
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


MESSY_LINES = [
    "东山镇东山村农户家庭成员信息登记表（2025年）,,,,,,,,,,",
    '序号, 户编号 ,村,住址,户类型,姓名,"身份证\n号码",与户主关系,健康状况,劳动能力,低保',
    f"1,H001,东山村,一组1号,脱贫户,张三,{ID1},户主,健康,普通劳动力,否",
    f"2,H001,,,,李  四,{ID2},配偶,长期慢性病,弱劳动力或半劳动力,否",
    ",,,,,,,,,,",
    f"3,H002,东山村,一组2号,一般农户,王五,{ID3},户主,健康,普通劳动力,是",
    f"4,H002,,,,王小,{BAD_CHECK},子女,健康,无劳动力,否",
    "5,H003,东山村,二组,一般农户,赵六,4.40981E+17,户主,健康,普通劳动力,否",
    f"6,H004,东山村,三组,一般农户,钱七,{ID4},户主,大病,丧失劳动力,是",
    f"6,H004,东山村,三组,一般农户,钱七,{ID4},户主,大病,丧失劳动力,是",
    f"7,H005,东山村,四组,一般农户,孙八,{ID3},户主,健康,普通劳动力,否",
    "",
    "合计：5户,,,,,,,,,,",
    "填表人：李会计,,,,,,,,,,",
]


def report_rows(issues):
    return [(i.row, i.column, i.message) for i in issues]


def test_messy_gbk_csv_reports_every_error_and_imports_every_valid_household(world):
    data = csv_bytes(MESSY_LINES, "gbk")
    report = import_registry(io.BytesIO(data), "登记表.csv", user=world.village_cadre)

    assert report.file_format == "CSV"
    assert report.header_row == 2
    assert report_rows(report.errors) == [
        (6, "身份证号码", "该身份证号在第 11 行再次出现且内容不同，请核对后只保留一行。"),
        (7, "身份证号码", "身份证号校验位错误，请核对号码。"),
        (8, "身份证号码", NUMERIC_ID_MESSAGE),
        (11, "身份证号码", "该身份证号与第 6 行相同，但其他内容不同，请核对后只保留一行。"),
    ]
    print(report.lines())
    assert report_rows(report.notices) == [
        (2, "", "以下列未识别，已忽略：序号。"),
        (6, "户编号", "户编号 H002 有错误，该户（共 2 行）未导入，其他农户不受影响。"),
        (8, "户编号", "户编号 H003 有错误，该户（共 1 行）未导入，其他农户不受影响。"),
        (10, "", "与第 9 行重复，已忽略。"),
        (11, "户编号", "户编号 H005 有错误，该户（共 1 行）未导入，其他农户不受影响。"),
        (13, "", "没有身份证号，视为说明或合计行，已跳过。"),
        (14, "", "没有身份证号，视为说明或合计行，已跳过。"),
    ]
    assert (report.households_created, report.households_updated, report.households_rejected) == (2, 0, 3)
    assert (report.members_created, report.members_updated, report.rows_skipped) == (3, 0, 3)
    assert not report.ok

    h1 = Household.objects.get(number="H001")
    assert h1.village == world.village_a1
    assert (h1.address, h1.household_type) == ("一组1号", Household.Type.FORMERLY_POOR)
    members = {m.id_number: m for m in h1.members.all()}
    assert set(members) == {ID1, ID2}
    assert members[ID1].relation == Member.Relation.HEAD
    # The merged/blank household cells of row 4 belong to H001; the padded name is closed up.
    assert (members[ID2].name, members[ID2].relation) == ("李四", Member.Relation.SPOUSE)
    assert members[ID2].health == Member.Health.CHRONIC
    assert members[ID2].labour_capacity == Member.Labour.WEAK
    h4 = Household.objects.get(number="H004")
    assert [(m.name, m.dibao, m.health) for m in h4.members.all()] == [("钱七", True, Member.Health.SERIOUS)]
    assert not Household.objects.filter(number__in=["H002", "H003", "H005"]).exists()
    assert not Member.objects.filter(id_number=ID3).exists()


def test_utf8_bom_csv_with_header_on_first_line_imports(world):
    lines = [
        "户编号,村,姓名,身份证号,与户主关系,人员状态,务工地点,务工时间（月）",
        f"B001,{world.village_a1.code},周一,{ID1.lower() if ID1.endswith('X') else ID1},户主,在户,省外,10",
        f"B001,{world.village_a1.code},吴二,{ID2},子女,迁出,,",
    ]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8-sig")), "b.csv", user=world.village_cadre)

    assert report.errors == [] and report.ok
    assert (report.households_created, report.members_created) == (1, 2)
    household = Household.objects.get(number="B001")
    assert household.village == world.village_a1  # matched by 行政区划代码
    head = household.members.get(id_number=ID1)
    assert (head.work_place, head.work_months) == (Member.WorkPlace.OUT_PROVINCE, 10)
    assert household.members.get(id_number=ID2).status == Member.Status.MOVED_OUT


def messy_workbook(village_name):
    """Title row merged across, a blank row, a two-row header (两不愁三保障 group), a merged
    household block, a numeric ID cell and full-width digits with spaces."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append(["东山村农户花名册"])
    ws.merge_cells("A1:H1")
    ws.append([])
    ws.append(["户编号", "村", "住址", "姓名", "身份证号码", "与户主关系", "两不愁三保障", None])
    ws.append([None, None, None, None, None, None, "住房安全", "饮水安全"])
    ws.merge_cells("G3:H3")
    # Rows 5-7: one household block with merged 户编号/村/住址 cells.
    ws.append(["X001", village_name, "五组 3 号", "陈大", ID1, "户主", "无保障", "有保障"])
    ws.append([None, None, None, "陈二", " ".join(ID2[i : i + 6] for i in range(0, 18, 6)), "子女", None, None])
    fullwidth = ID3.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    ws.append([None, None, None, "陈三", fullwidth, "子女", None, None])
    for cell in ("A5:A7", "B5:B7", "C5:C7"):
        ws.merge_cells(cell)
    ws.append(["X002", village_name, "六组", "林四", int(ID4[:15]) * 1000, "户主", "有保障", "有保障"])
    ws.append(["X003", village_name, "七组", "黄五", ID5, "户主", None, None])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_with_title_merged_block_and_numeric_id(world):
    data = messy_workbook("东山村")
    report = import_registry(io.BytesIO(data), "花名册.xlsx", user=world.village_cadre)

    assert (report.file_format, report.sheet, report.header_row) == ("Excel", "花名册", 3)
    assert report_rows(report.errors) == [(8, "身份证号码", NUMERIC_ID_MESSAGE)]
    assert (report.households_created, report.households_rejected, report.members_created) == (2, 1, 4)
    block = Household.objects.get(number="X001")
    assert block.address == "五组 3 号"
    assert (block.housing_secure, block.water_secure) == (False, True)
    assert sorted(block.members.values_list("id_number", flat=True)) == sorted([ID1, ID2, ID3])
    assert Household.objects.get(number="X003").members.get().name == "黄五"
    assert not Household.objects.filter(number="X002").exists()


def test_reimporting_the_same_file_updates_and_never_duplicates(world):
    data = messy_workbook("东山村")
    import_registry(io.BytesIO(data), "花名册.xlsx", user=world.village_cadre)
    counts = (Household.objects.count(), Member.objects.count())
    Member.objects.filter(id_number=ID2).update(name="改过的名字")

    again = import_registry(io.BytesIO(data), "花名册.xlsx", user=world.village_cadre)

    assert (again.households_created, again.households_updated, again.households_rejected) == (0, 2, 1)
    assert (again.members_created, again.members_updated) == (0, 4)
    assert (Household.objects.count(), Member.objects.count()) == counts
    assert Member.objects.get(id_number=ID2).name == "陈二"  # the file is the source of truth


def test_village_outside_write_scope_is_refused(world):
    lines = [
        "户编号,村,姓名,身份证号,与户主关系",
        f"S001,{world.village_b1.name},甲,{ID1},户主",  # another town's village
        f"S002,{world.other_village.code},乙,{ID2},户主",  # another county
        f"S003,东山村,丙,{ID3},户主",
    ]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "s.csv", user=world.village_cadre)

    assert report_rows(report.errors) == [
        (2, "村", "「西河村」不是您可以登记农户的村（请填写村名或行政区划代码）。"),
        (3, "村", f"「{world.other_village.code}」不是您可以登记农户的村（请填写村名或行政区划代码）。"),
    ]
    assert list(Household.objects.filter(number__startswith="S").values_list("number", flat=True)) == ["S003"]


def test_household_number_of_another_village_is_refused_without_details(world):
    foreign = world.household_b1
    lines = ["户编号,村,姓名,身份证号,与户主关系", f"{foreign.number},东山村,冒名,{ID1},户主"]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "f.csv", user=world.village_cadre)

    assert report_rows(report.errors) == [
        # Not even the fact that the number is taken elsewhere is told (issue 14 finding 6).
        (2, "户编号", "该户编号不能使用，请核对或换一个户编号；如有疑问请联系县乡村振兴局。"),
    ]
    foreign.refresh_from_db()
    assert foreign.village == world.village_b1 and foreign.members.count() == 2
    assert "西河" not in " ".join(report.lines())


def test_id_registered_in_another_household_is_an_error(world):
    taken = world.household_a1.members.first()
    hidden = world.household_b1.members.first()
    lines = [
        "户编号,村,姓名,身份证号,与户主关系",
        f"D001,东山村,重复,{taken.id_number},户主",
        f"D002,东山村,看不见,{hidden.id_number},户主",
    ]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "d.csv", user=world.village_cadre)

    assert report_rows(report.errors) == [
        (
            2,
            "身份证号",
            f"该身份证号已登记在另一农户（户编号 {world.household_a1.number}）中，同一身份证号不能登记两次。",
        ),
        # Out of the cadre's scope: neither the household nor that it is registered is told.
        (3, "身份证号", "该身份证号不能在此登记。请核对号码；如号码无误，请联系县乡村振兴局核实处理。"),
    ]
    assert report.households_rejected == 2


def test_household_needs_exactly_one_active_head(world):
    lines = [
        "户编号,村,姓名,身份证号,与户主关系,人员状态",
        f"K001,东山村,甲,{ID1},配偶,在户",
        f"K001,东山村,乙,{ID2},户主,死亡",
        f"K002,东山村,丙,{ID3},户主,",
        f"K002,东山村,丁,{ID4},本人,",
        f"K003,东山村,戊,{ID5},户主,在户",
    ]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "k.csv", user=world.village_cadre)

    assert report_rows(report.errors) == [
        (2, "与户主关系", "户编号 K001 没有在户的户主，每户必须有且只有一名户主。"),
        (5, "与户主关系", "户编号 K002 已有户主（第 4 行），每户只能有一名在户户主。"),
    ]
    assert list(Household.objects.filter(number__startswith="K").values_list("number", flat=True)) == ["K003"]


def test_invalid_choice_and_number_values_are_reported_per_column(world):
    lines = [
        "户编号,村,户类型,姓名,身份证号,与户主关系,健康状况,残疾等级,务工时间（月）,低保",
        f"V001,东山村,贫困户,甲,{ID1},户主,很好,5,13,也许",
    ]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "v.csv", user=world.village_cadre)

    assert report_rows(report.errors) == [
        (2, "户类型", "「贫困户」不是有效的户类型，可填：脱贫户、一般农户。"),
        (2, "健康状况", "「很好」不是有效的健康状况，可填：健康、长期慢性病、大病、残疾。"),
        (2, "残疾等级", "确保该值小于或等于4。"),
        (2, "务工时间（月）", "确保该值小于或等于12。"),
        (2, "低保", "「也许」无法识别，请填写：是、否。"),
        (2, "残疾类别", "填写残疾等级时必须选择残疾类别。"),
    ]
    assert not Household.objects.filter(number="V001").exists()


def test_a_wrong_label_repeated_on_many_rows_is_reported_on_each_row(world):
    """Labels are parsed once per import and remembered: the error must still reach every row."""
    lines = [
        "户编号,村,姓名,身份证号,与户主关系,健康状况,低保",
        f"R001,东山村,甲,{ID1},户主,很好,否",
        f"R001,东山村,乙,{ID2},配偶,健康,也许",
        f"R002,东山村,丙,{ID3},户主,很好,也许",
        f"R003,东山村,丁,{ID4},户主,健康,否",
    ]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "r.csv", user=world.village_cadre)

    health = "「很好」不是有效的健康状况，可填：健康、长期慢性病、大病、残疾。"
    assert report_rows(report.errors) == [
        (2, "健康状况", health),
        (3, "低保", "「也许」无法识别，请填写：是、否。"),
        (4, "健康状况", health),
        (4, "低保", "「也许」无法识别，请填写：是、否。"),
    ]
    assert report.households_rejected == 2
    member = Member.objects.get(id_number=ID4)
    assert (member.health, member.dibao, member.household.number) == (Member.Health.HEALTHY, False, "R003")


def test_validation_reads_the_registry_in_a_constant_number_of_queries(world, django_assert_max_num_queries):
    from households.importer import RegistryImport, read_table

    lines = ["户编号,村,姓名,身份证号,与户主关系"]
    lines += [f"Q{n:03d},东山村,人{n},{make_id(n, 1 + 2 * (n % 400))},户主" for n in range(60)]
    table = read_table(io.BytesIO(csv_bytes(lines, "utf-8")), "q.csv")
    with django_assert_max_num_queries(6):
        RegistryImport(world.village_cadre).parse(table).validate()


def test_file_without_header_or_with_unknown_type_is_refused(world):
    with pytest.raises(ImportFileError, match="没有找到表头"):
        import_registry(io.BytesIO("姓名,年龄\n张三,40\n".encode()), "x.csv", user=world.village_cadre)
    with pytest.raises(ImportFileError, match="只支持"):
        import_registry(io.BytesIO(b"hello"), "x.pdf", user=world.village_cadre)
    with pytest.raises(ImportFileError, match="缺少必需的列：村"):
        import_registry(io.BytesIO("户编号,身份证号,姓名,与户主关系\n".encode()), "x.csv", user=world.village_cadre)


# --- page, templates, command ----------------------------------------------------------


def test_village_cadre_uploads_a_file_and_sees_the_report(client, world):
    client.force_login(world.village_cadre)
    page = client.get("/households/import/")
    assert page.status_code == 200
    assert "/households/import/template/xlsx/" in page.content.decode()

    response = upload(client, csv_bytes(MESSY_LINES, "gbk"), "登记表.csv")

    html = response.content.decode()
    assert response.status_code == 200
    assert "新建农户" in html and "拒绝" not in html
    assert "<dt>新建农户</dt><dd>2 户</dd>" in html
    assert "身份证号校验位错误，请核对号码。" in html
    assert "与第 9 行重复，已忽略。" in html
    assert Household.objects.filter(number__in=["H001", "H004"]).count() == 2


def test_upload_page_shows_file_level_errors_on_the_form(client, world):
    client.force_login(world.village_cadre)
    assert "请选择要导入的文件。" in client.post("/households/import/", {}).content.decode()
    assert "只支持 .xlsx、.xls、.csv 和 .txt（制表符分隔）文件。" in upload(client, b"x", "a.pdf").content.decode()
    assert "没有找到表头" in upload(client, "姓名\n张三\n".encode(), "a.csv").content.decode()
    assert not Household.objects.filter(number__startswith="H0").exists()


def test_town_official_and_department_staff_get_403(client, world):
    for user in (world.town_official, world.department_staff, world.nobody):
        client.force_login(user)
        assert client.get("/households/import/").status_code == 403
        assert upload(client, csv_bytes(MESSY_LINES, "gbk"), "a.csv").status_code == 403
        assert client.get("/households/import/template/xlsx/").status_code == 403
    assert not Household.objects.filter(number="H001").exists()


def test_anonymous_user_is_sent_to_login(client, world):
    response = client.get("/households/import/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_xlsx_template_opens_in_calamine_and_imports_as_is(client, world):
    import python_calamine

    client.force_login(world.village_cadre)
    response = client.get("/households/import/template/xlsx/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert workbook.sheet_names == ["农户成员", "填写说明"]
    rows = list(workbook.get_sheet_by_name("农户成员").iter_rows())
    assert rows[0][:9] == ["户编号", "村", "住址", "联系电话", "户类型", "易地搬迁", "姓名", "身份证号", "与户主关系"]
    assert isinstance(rows[1][7], str) and len(rows[1][7]) == 18
    notes = list(workbook.get_sheet_by_name("填写说明").iter_rows())
    assert notes[[r[0] for r in notes].index("健康状况")][:3] == ["健康状况", "选填", "健康、长期慢性病、大病、残疾"]
    opened = openpyxl.load_workbook(io.BytesIO(response.content))
    assert opened["农户成员"]["H2"].number_format == "@"

    report = import_registry(io.BytesIO(response.content), "模板.xlsx", user=world.village_cadre)
    assert report.errors == [] and (report.households_created, report.members_created) == (1, 2)


def test_csv_template_starts_with_bom_and_imports_as_is(client, world):
    client.force_login(world.village_cadre)
    response = client.get("/households/import/template/csv/")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf\xe6\x88\xb7\xe7\xbc\x96\xe5\x8f\xb7")  # BOM + 户编号
    report = import_registry(io.BytesIO(response.content), "模板.csv", user=world.village_cadre)
    assert report.errors == [] and report.members_created == 2
    assert client.get("/households/import/template/pdf/").status_code == 404


def write_file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_command_prints_the_report_and_exits_1_when_rows_were_rejected(world, tmp_path):
    from django.core.management import call_command

    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "import_households",
            write_file(tmp_path, "m.csv", csv_bytes(MESSY_LINES, "gbk")),
            "--user",
            "village",
            stdout=out,
        )
    assert exit_info.value.code == 1
    text = out.getvalue()
    assert "新建农户 2 户，更新农户 0 户，拒绝 3 户；新建成员 3 人，更新成员 0 人；跳过 3 行。" in text
    assert "第 7 行［身份证号码］：身份证号校验位错误，请核对号码。" in text
    assert f"第 8 行［身份证号码］：{NUMERIC_ID_MESSAGE}" in text
    assert Household.objects.filter(number="H001").exists()


def test_command_without_user_imports_with_administrator_scope_and_exits_0(world, tmp_path):
    from django.core.management import call_command

    lines = ["户编号,村,姓名,身份证号,与户主关系", f"C001,{world.other_village.code},甲,{ID1},户主"]
    out = io.StringIO()
    call_command("import_households", write_file(tmp_path, "ok.csv", csv_bytes(lines, "utf-8")), stdout=out)
    assert "全部导入成功。" in out.getvalue()
    assert Household.objects.get(number="C001").village == world.other_village


def test_command_refuses_unreadable_files_and_unknown_users(world, tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="只支持"):
        call_command("import_households", write_file(tmp_path, "a.pdf", b"%PDF"))
    with pytest.raises(CommandError, match="不是有效的 Excel 文件"):
        call_command("import_households", write_file(tmp_path, "a.xlsx", b"\x00\x9f\x92\x96 not a zip"))
    with pytest.raises(CommandError, match="无法打开文件"):
        call_command("import_households", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="没有登记农户的权限"):
        call_command("import_households", write_file(tmp_path, "b.csv", b"x"), "--user", "town")


def test_head_can_be_handed_over_by_reimport(world):
    lines = [
        "户编号,村,姓名,身份证号,与户主关系,人员状态",
        f"T001,东山村,老父,{ID1},户主,在户",
        f"T001,东山村,儿子,{ID2},子女,在户",
    ]
    import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "t.csv", user=world.village_cadre)
    lines[1:] = [f"T001,东山村,老父,{ID1},父母,死亡", f"T001,东山村,儿子,{ID2},户主,在户"]

    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "t.csv", user=world.village_cadre)

    assert report.errors == [] and report.members_updated == 2
    assert Household.objects.get(number="T001").head.id_number == ID2


def test_registration_racing_the_import_rejects_only_the_clashing_household(world):
    from households.importer import RegistryImport, read_table

    lines = ["户编号,村,姓名,身份证号,与户主关系", f"R001,东山村,甲,{ID1},户主", f"R002,东山村,乙,{ID2},户主"]
    job = RegistryImport(world.village_cadre).parse(read_table(io.BytesIO(csv_bytes(lines, "utf-8")), "r.csv"))
    job.validate()
    # Someone registers ID2 on a page between the importer's read and its write.
    Member.objects.create(
        household=world.household_a1,
        id_number=ID2,
        name="抢先",
        relation=Member.Relation.CHILD,
        sex="M",
        birth_date=idnumber.parse(ID2).birth_date,
    )

    report = job.write()

    assert report_rows(report.errors) == [
        (3, "户编号", "保存时发现户编号或身份证号已被他人同时登记，请刷新后重新导入。"),
    ]
    assert (report.households_created, report.households_rejected) == (1, 1)
    assert Household.objects.get(number="R001").members.get().id_number == ID1
    assert not Household.objects.filter(number="R002").exists()


def test_missing_id_missing_number_and_conflicting_household_cells_are_errors(world):
    lines = [
        "户编号,村,住址,姓名,身份证号,与户主关系",
        f"M001,东山村,一组,甲,{ID1},户主",
        "M001,,,乙,,子女",  # a member without an ID number is not silently dropped
        "",
        f",,,丙,{ID2},子女",  # blank 户编号 after a blank row: no household above to belong to
        f"M002,东山村,二组,丁,{ID3},户主",
        f"M002,东山村,三组,戊,{ID4},配偶",  # the same household with another address
    ]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "m.csv", user=world.village_cadre)

    assert report_rows(report.errors) == [
        (3, "身份证号", "身份证号不能为空。"),
        (5, "户编号", "户编号不能为空。"),
        (7, "住址", "同一户（户编号 M002）的住址与第 6 行不一致。"),
    ]
    assert report.households_rejected == 2
    assert not Household.objects.filter(number__in=["M001", "M002"]).exists()


@pytest.mark.parametrize("large", [False, True])
def test_imported_households_get_the_same_data_quality_findings_as_page_entries(world, monkeypatch, large):
    if large:  # as after a county's first import: PostgreSQL gathers statistics before the checks
        monkeypatch.setattr("households.importer.ANALYZE_AFTER_MEMBERS", 1)
    child = idnumber.make("440981", datetime.date.today().replace(year=datetime.date.today().year - 10, day=1), 13)
    lines = [
        "户编号,村,姓名,身份证号,与户主关系,务工地点,务工时间（月）,低保,特困供养",
        f"Q001,东山村,家长,{ID1},户主,,,是,是",
        f"Q001,东山村,孩子,{child},子女,省外,6,否,否",
    ]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "q.csv", user=world.village_cadre)

    assert report.errors == [] and report.households_created == 1
    assert [i.message for i in report.findings] == [
        "户编号 Q001：家长 同时登记为低保和特困供养，两者不能同时享受。",
        "户编号 Q001：孩子 未满 16 周岁，却登记了务工（工资性收入），请核实。",
    ]


def test_new_households_are_checked_on_their_rows_as_the_stored_households_would_be(world):
    """A new household's findings come from the rows just written, not from the database: the
    same findings, in the same order, as quality.household_findings of the stored household."""
    today = datetime.date.today()
    child = idnumber.make("440981", today.replace(year=today.year - 10, day=1), 13)
    student = idnumber.make("440981", today.replace(year=today.year - 17, day=1), 15)
    lines = [
        "户编号,村,姓名,身份证号,与户主关系,人员状态,在校生情况,劳动能力,务工地点,务工时间（月）,残疾等级,残疾类别,低保,特困供养",
        f"QN01,东山村,家长,{ID1},户主,,,,,,,,是,是",
        f"QN01,东山村,孩子,{child},子女,,,,省外,6,,,否,否",
        f"QN02,东山村,学生,{student},户主,,高中,,县内,3,,,,",
        f"QN02,东山村,老人,{ID2},父母,,,丧失劳动力,省内县外,,,,,",
        f"QN03,东山村,户主三,{ID3},户主,,,,,,2,肢体残疾,,",
        f"QN03,东山村,已故,{ID4},配偶,死亡,,丧失劳动力,县内,4,,,是,是",
        f"QN04,东山村,无事,{ID5},户主,,,,,,,,,",
    ]
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "qn.csv", user=world.village_cadre)

    assert report.errors == [] and report.households_created == 4
    expected = []
    for household in quality.prefetch_for_checks(Household.objects.filter(number__startswith="QN").order_by("number")):
        expected.extend(f"户编号 {household.number}：{f.message}" for f in quality.household_findings(household))
    # 低保 and 特困, a child and a student at work, unable to work; none for the dead or QN03/QN04
    assert len(expected) == 4
    assert [i.message for i in report.findings] == expected


def test_reimport_checks_again_a_household_changed_since_the_first_import(world):
    lines = [
        "户编号,村,姓名,身份证号,与户主关系",
        f"U001,东山村,甲,{ID1},户主",
        f"U001,东山村,乙,{ID2},配偶",
        f"U002,东山村,丙,{ID3},户主",
        f"U003,东山村,丁,{ID4},户主",
    ]
    data = csv_bytes(lines, "utf-8")
    assert import_registry(io.BytesIO(data), "u.csv", user=world.village_cadre).ok
    # Since then: 乙 moved to U002 and U003's head died, by whatever path.
    Member.objects.filter(id_number=ID2).update(household=Household.objects.get(number="U002"))
    Member.objects.filter(id_number=ID4).update(status=Member.Status.DECEASED)

    again = import_registry(io.BytesIO(data), "u.csv", user=world.village_cadre)

    assert report_rows(again.errors) == [
        (3, "身份证号", "该身份证号已登记在另一农户（户编号 U002）中，同一身份证号不能登记两次。"),
        (5, "与户主关系", "户编号 U003 没有在户的户主，每户必须有且只有一名户主。"),
    ]
    assert (again.households_updated, again.households_rejected, again.members_updated) == (1, 2, 1)


def test_a_household_imported_into_another_village_takes_its_case_along(world):
    """The case keeps its household's village (monitoring's MonitoringCase.village, told through
    FANPIN_HOUSEHOLDS_MOVED): after the import moved the household, the case is scoped there."""
    from monitoring.models import MonitoringCase

    lines = ["户编号,村,姓名,身份证号,与户主关系", f"M001,{world.village_a1.code},周一,{ID1},户主"]
    import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "m.csv", user=world.county_officer)
    household = Household.objects.get(number="M001")
    case = MonitoringCase.objects.create(
        household=household, channel="self_declared", discovered_on=datetime.date(2026, 3, 1), reason="突发大病"
    )
    assert case.village == world.village_a1
    lines[1] = f"M001,{world.village_b1.code},周一,{ID1},户主"
    report = import_registry(io.BytesIO(csv_bytes(lines, "utf-8")), "m.csv", user=world.county_officer)
    assert report.ok and report.errors == []
    assert MonitoringCase.objects.get(pk=case.pk).village == world.village_b1
