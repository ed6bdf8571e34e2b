"""The ledger (台账) export from the case list (issue 11 point 2): columns, masking, filters,
scoping, text cells, the background job for a large export, and the access-log entry."""

import datetime
import io

import openpyxl
import pytest

from fanpin.models import ExportJob
from fanpin.reports import ledger
from households.models import Member, PersonalDataView
from tests import factories as f
from tests.reports.county import days


def _sheet(response):
    assert response.status_code == 200, response
    assert response["Content-Type"] == ledger_type()
    body = b"".join(response.streaming_content)
    book = openpyxl.load_workbook(io.BytesIO(body))
    return book, book["监测对象台账"]


def ledger_type():
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(sheet):
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]


def _col(name):
    return ledger.HEADERS.index(name)


def test_county_ledger_has_every_column_masked_ids_and_real_dates(board, client):
    head = board.c4.household.members.get(relation=Member.Relation.HEAD)
    f.make_income(board.c4.household, year=2025, wage_income=12000)
    board.c4.document_number = "清乡振发〔2026〕12号"
    board.c4.contact_person = board.village_cadre_b
    board.c4.save()
    client.force_login(board.county_officer)
    book, sheet = _sheet(client.get("/cases/ledger.xlsx"))
    header = [c.value for c in sheet[1]]
    assert header == ledger.HEADERS
    assert header[:6] == ["乡镇", "村", "户编号", "户主姓名", "户主身份证号（脱敏）", "家庭人口"]
    assert sheet.freeze_panes == "A2"
    # Widths in characters (the file stores them with the cell padding added: 22.71 for 22).
    assert int(sheet.column_dimensions["E"].width) == 22 and int(sheet.column_dimensions["P"].width) == 44
    rows = _rows(sheet)
    assert len(rows) == 8  # every case of the county, none of the other county's
    numbers = {r[_col("户编号")] for r in rows}
    assert board.c8.household.number not in numbers
    row = next(r for r in rows if r[_col("户编号")] == board.c4.household.number)
    assert row[_col("乡镇")] == "西河镇" and row[_col("村")] == "西河村"
    assert row[_col("户主姓名")] == head.name
    masked = row[_col("户主身份证号（脱敏）")]
    assert masked == head.id_number[:4] + "*" * 10 + head.id_number[-4:] and head.id_number not in str(rows)
    assert row[_col("家庭人口")] == 2
    assert row[_col("监测对象类别")] == "边缘易致贫户" and row[_col("主要风险类型")] == "因灾"
    assert row[_col("发现渠道")] == "干部走访排查"
    assert row[_col("认定日期")] == datetime.datetime.combine(days(40), datetime.time())  # a date cell
    assert sheet.cell(row=rows.index(row) + 2, column=_col("认定日期") + 1).number_format == "yyyy-mm-dd"
    assert row[_col("认定文号")] == "清乡振发〔2026〕12号"
    assert row[_col("最新人均纯收入（元）")] == 6000 and row[_col("收入年度")] == 2025
    assert row[_col("帮扶措施（类型及状态）")] == "低保（计划中）"
    assert row[_col("帮扶联系人")] == "village_b"
    assert row[_col("状态")] == "监测帮扶中"
    c1 = next(r for r in rows if r[_col("户编号")] == board.c1.household.number)
    assert c1[_col("次要风险类型")] == "因残、因务工就业不稳"
    c5 = next(r for r in rows if r[_col("户编号")] == board.c5.household.number)
    assert c5[_col("风险消除日期")] == datetime.datetime.combine(days(20), datetime.time())
    about = {r[0].value: r[1].value for r in book["说明"].iter_rows()}
    assert about["行数"] == "8" and about["筛选条件"].startswith("无")


def test_ledger_follows_the_case_list_filters_and_the_user_scope(board, client):
    client.force_login(board.county_officer)
    _, sheet = _sheet(client.get("/cases/ledger.xlsx?stage=under_monitoring&primary_risk=illness"))
    assert sorted(r[_col("户编号")] for r in _rows(sheet)) == sorted(
        [board.c1.household.number, board.c3.household.number]
    )
    _, sheet = _sheet(client.get(f"/cases/ledger.xlsx?town={board.town_b.pk}&state=monitored"))
    assert [r[_col("户编号")] for r in _rows(sheet)] == [board.c4.household.number]
    client.force_login(board.village_cadre)
    _, sheet = _sheet(client.get("/cases/ledger.xlsx"))
    assert {r[_col("村")] for r in _rows(sheet)} == {"东山村"} and len(_rows(sheet)) == 3


def test_user_typed_text_is_written_as_text_never_as_a_formula(board, client):
    Member.objects.filter(household=board.c1.household, relation=Member.Relation.HEAD).update(
        name='=HYPERLINK("http://example.com","点我")'
    )
    client.force_login(board.county_officer)
    _, sheet = _sheet(client.get("/cases/ledger.xlsx?state=monitored"))
    cell = next(
        r[_col("户主姓名")] for r in sheet.iter_rows(min_row=2) if r[_col("户编号")].value == board.c1.household.number
    )
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_every_export_is_in_the_access_log(board, client):
    client.force_login(board.town_official)
    client.get("/cases/ledger.xlsx?stage=under_monitoring&page=2")
    entry = PersonalDataView.objects.get(action="export")
    assert (entry.user, entry.export_name, entry.row_count, entry.channel) == (
        board.town_official,
        "监测对象台账",
        3,
        "page",
    )
    assert entry.filters == {"stage": "under_monitoring"} and entry.area == board.town_a


def test_bad_filters_go_back_to_the_list_with_a_message(board, client):
    client.force_login(board.county_officer)
    response = client.get("/cases/ledger.xlsx?determined=2026-13", follow=True)
    assert "筛选条件有误" in response.content.decode()
    assert not PersonalDataView.objects.filter(action="export").exists()


def test_only_area_roles_export(world, client):
    client.force_login(world.department_staff)
    assert client.get("/cases/ledger.xlsx").status_code == 403
    client.force_login(world.nobody)
    assert client.get("/cases/ledger.xlsx").status_code == 403


def test_case_list_offers_the_export_with_its_filters(board, client):
    client.force_login(board.county_officer)
    html = client.get("/cases/?stage=under_monitoring&category=edge").content.decode()
    assert 'id="ledger-export" href="/cases/ledger.xlsx?stage=under_monitoring&amp;category=edge"' in html
    client.force_login(board.department_staff)
    assert "ledger-export" not in client.get("/cases/").content.decode()


def test_a_large_export_runs_as_a_job_with_progress_and_a_download(
    board, client, settings, django_capture_on_commit_callbacks
):
    settings.FANPIN_LEDGER_SYNC_ROWS = 2
    client.force_login(board.county_officer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get("/cases/ledger.xlsx?stage=open")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert "排队中" in page and "js/job_progress.js" in page and 'data-bar="export-job-bar"' in page
    status = client.get(f"/exports/{job.pk}/status/").json()
    assert (status["status"], status["finished"], status["rows_total"]) == ("queued", False, 6)

    for callback in callbacks:  # the worker (eager without REDIS_URL) runs the task
        callback()
    job.refresh_from_db()
    assert job.status == "done" and job.rows_done == 6
    assert client.get(f"/exports/{job.pk}/status/").json()["finished"] is True
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert f'href="/exports/{job.pk}/download/"' in page and "job_progress.js" not in page
    _, sheet = _sheet(client.get(f"/exports/{job.pk}/download/"))
    assert len(_rows(sheet)) == 6
    entry = PersonalDataView.objects.get(action="export")
    assert (entry.row_count, entry.channel, entry.filters) == (6, "task", {"stage": "open"})

    # The job and its file are the requester's alone.
    for other in (board.town_official, board.village_cadre, board.nobody):
        client.force_login(other)
        for path in ("", "status/", "download/"):
            assert client.get(f"/exports/{job.pk}/{path}").status_code == 404


def test_a_job_runs_once_and_a_failure_says_so(board, monkeypatch):
    from django.http import QueryDict

    from fanpin.reports import services

    job = ExportJob.objects.create(user=board.county_officer, query="stage=open", rows_total=6)
    assert services.export_job_run(job_id=job.pk) is True
    assert services.export_job_run(job_id=job.pk) is False  # a duplicated message does nothing
    broken = ExportJob.objects.create(user=board.county_officer, query=QueryDict("").urlencode(), rows_total=1)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ledger, "write_ledger", fail)
    services.export_job_run(job_id=broken.pk)
    broken.refresh_from_db()
    assert broken.status == "failed" and "系统错误" in broken.error_message
    assert PersonalDataView.objects.filter(action="export").count() == 1


def test_download_before_the_file_is_ready_is_404(board, client):
    job = ExportJob.objects.create(user=board.county_officer, query="", rows_total=6)
    client.force_login(board.county_officer)
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404


@pytest.mark.parametrize("query,expected", [({"town": "x"}, "乡镇：x"), ({"overdue": "true"}, "认定超期：是")])
def test_filters_in_words(query, expected):
    assert ledger.describe_filters(query) == expected
