"""The monthly report (issue 11 point 3) against hand-counted data: warnings raised in the month
and their verification by department and by town; cases newly determined, eliminated and
closed by town; each role's scope; the .xlsx; every number links to its list."""

import datetime
import io

import openpyxl
import pytest

from fanpin.reports import selectors
from households.models import PersonalDataView
from tests.reports.county import T, make_case, make_warning

M = selectors.month_start(T, 2)
BEFORE = selectors.month_start(T, 3)


def d(n):
    return M.replace(day=n)


@pytest.fixture
def month_data(world):
    w = world
    hx = make_case(w.village_a1, "monitored", category="edge", primary_risk="illness", determined_on=d(10)).household
    hz = make_case(
        w.village_a2,
        "eliminated",
        category="edge",
        primary_risk="illness",
        determined_on=BEFORE.replace(day=2),
        eliminated_on=d(12),
    ).household
    make_case(
        w.village_b1, "closed", discovered_on=BEFORE.replace(day=2), determined_on=BEFORE.replace(day=2), ended_on=d(20)
    )
    hw = make_case(w.village_b1, "monitored", category="sudden", primary_risk="disaster", determined_on=d(15)).household
    make_case(w.village_a1, "monitored", category="edge", primary_risk="illness", determined_on=BEFORE.replace(day=20))
    ho = make_case(w.other_village, "monitored", category="edge", primary_risk="illness", determined_on=d(10)).household
    make_warning(w, w.village_a1, hx, "medical_insurance", "red", "included", raised_on=d(3))
    make_warning(w, w.village_a1, w.household_a1, "medical_insurance", "orange", "excluded", raised_on=d(4))
    make_warning(w, w.village_a2, hz, "medical_insurance", "yellow", "dispatched", raised_on=d(5))
    make_warning(w, w.village_b1, hw, "housing", "red", "new", raised_on=d(6), risk="housing")
    make_warning(w, w.village_a1, hx, "housing", "orange", "included", raised_on=BEFORE.replace(day=9), risk="housing")
    make_warning(w, w.other_village, ho, "medical_insurance", "red", "included", raised_on=d(3))
    return w


def table(rows):
    return {r.label: [c.value for c in r.cells] for r in rows}


def test_county_report(month_data):
    w = month_data
    r = selectors.monthly_report(w.county_officer, M, T)
    assert r.warning_headers == ["预警户次", "核实纳入", "核实排除", "待核实", "其中超期未核实"]
    assert table(r.by_department) == {"住建": [1, 0, 0, 1, 1], "医保": [3, 1, 1, 1, 1]}
    assert table(r.by_town) == {"东山镇": [3, 1, 1, 1, 1], "西河镇": [1, 0, 0, 1, 1]}
    assert [c.value for c in r.warning_total.cells] == [4, 1, 1, 2, 2]
    assert r.case_headers == ["新识别认定", "风险消除", "自然减少（关闭）"]
    assert table(r.cases_by_town) == {"东山镇": [1, 1, 0], "西河镇": [1, 0, 1]}
    assert [c.value for c in r.case_total.cells] == [2, 1, 1]


def test_town_and_village_reports_keep_to_their_scope(month_data):
    w = month_data
    r = selectors.monthly_report(w.town_official, M, T)
    assert table(r.by_department) == {"医保": [3, 1, 1, 1, 1]}
    assert table(r.cases_by_town) == {"东山镇": [1, 1, 0]}
    r = selectors.monthly_report(w.village_cadre, M, T)
    assert table(r.by_department) == {"医保": [2, 1, 1, 0, 0]}  # a village sees dispatched warnings only
    assert [c.value for c in r.case_total.cells] == [1, 0, 0]


def test_every_number_links_to_a_list_with_that_number(month_data, client):
    w = month_data
    client.force_login(w.county_officer)
    r = selectors.monthly_report(w.county_officer, M, T)
    for row in [*r.by_department, *r.by_town, r.warning_total]:
        for cell in row.cells:
            assert f"预警（{cell.value}）" in client.get(cell.url).content.decode(), cell.url
    for row in [*r.cases_by_town, r.case_total]:
        for cell in row.cells:
            assert f"<strong>{cell.value}</strong> 个监测对象" in client.get(cell.url).content.decode(), cell.url


def test_page_and_xlsx(month_data, client):
    w = month_data
    client.force_login(w.county_officer)
    html = client.get(f"/reports/monthly/?month={M:%Y-%m}").content.decode()
    assert f"{M.year}年{M.month}月" in html and "预警排查结果（按来源部门）" in html
    assert f'href="/reports/monthly.xlsx?month={M:%Y-%m}"' in html
    response = client.get(f"/reports/monthly.xlsx?month={M:%Y-%m}")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == f"示例县{M.year}年{M.month}月防止返贫动态监测预警排查结果统计表"
    flat = [tuple(v for v in row if v is not None) for row in values]
    assert ("医保", 3, 1, 1, 1, 1) in flat and ("合计", 4, 1, 1, 2, 2) in flat
    assert ("西河镇", 1, 0, 1) in flat and ("合计", 2, 1, 1) in flat
    entry = PersonalDataView.objects.get(action="export")
    assert entry.export_name == "月度报表" and entry.filters == {"month": f"{M:%Y-%m}"}


def test_month_defaults_to_last_month_and_a_bad_one_says_so(world, client):
    client.force_login(world.county_officer)
    last = selectors.month_start(T, 1)
    assert f"{last.year}年{last.month}月" in client.get("/reports/monthly/").content.decode()
    html = client.get("/reports/monthly/?month=2026-13").content.decode()
    assert "月份应写成 YYYY-MM" in html and f"{last.year}年{last.month}月" in html


def test_only_area_roles_see_the_report(world, client):
    client.force_login(world.department_staff)
    assert client.get("/reports/monthly/").status_code == 403
    assert client.get("/reports/monthly.xlsx").status_code == 403


def test_month_start():
    assert selectors.month_start(datetime.date(2026, 1, 31), 1) == datetime.date(2025, 12, 1)
    assert selectors.month_start(datetime.date(2026, 3, 5), 14) == datetime.date(2025, 1, 1)
