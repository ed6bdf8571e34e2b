"""Uploads through the page and the API: who may upload and see what, progress and counts,
re-uploads that replace a period, chunked processing equal to one chunk, interruptions that
leave no half state, and the beat sweep that recovers stale uploads."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fanpin.celery import app as celery_app
from households.models import Department, Member, Role
from screening import matching, services
from screening.models import ScreeningBadRow, ScreeningChunk, ScreeningRow, ScreeningUpload
from tests import factories as f
from tests.screening.helpers import api_upload, csv_bytes, medical_row, person_id, service_upload


def county_members(world):
    return list(Member.objects.filter(household__village__path__startswith=world.county.path).order_by("pk"))


def medical_file(world, extra=0, paid="400"):
    rows = [medical_row(m, paid=paid) for m in county_members(world)]
    rows += [medical_row(person_id(n), paid=paid) for n in range(extra)]
    return csv_bytes(rows)


@pytest.fixture
def no_worker(monkeypatch):
    """As on a deployment whose worker has not picked the upload up yet."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)


@pytest.fixture
def civil_affairs(world):
    return f.make_department(world.county, Department.Kind.CIVIL_AFFAIRS)


@pytest.fixture
def other_county_upload(world):
    department = f.make_department(world.other_county)
    staff = f.user_with_role("medical_other", Role.DEPARTMENT_STAFF, department=department)
    return service_upload(staff, csv_bytes([medical_row(person_id(1))]))


# --- the API contract ------------------------------------------------------------------------


def test_department_staff_upload_through_the_api_and_read_the_outcome(client, world):
    client.force_login(world.department_staff)

    response = api_upload(client, medical_file(world, extra=2), period="2026-01")

    assert response.status_code == 201
    body = client.get(f"/api/screening/uploads/{response.json()['id']}/").json()
    assert body["department"] == "medical_insurance" and body["period"] == "2026-01"
    assert body["status"] == "done" and body["progress"] == 100 and body["is_current"] is True
    members = len(county_members(world))
    assert (body["rows_read"], body["rows_valid"], body["rows_invalid"]) == (members + 2, members + 2, 0)
    assert (body["rows_matched"], body["rows_unmatched"]) == (members, 2)
    assert body["bad_rows"] == [] and body["bad_rows_total"] == 0
    assert not {"household", "households", "village", "members"} & set(body)


def test_the_detail_lists_bad_rows_with_row_column_and_reason(client, world):
    client.force_login(world.department_staff)
    response = api_upload(client, csv_bytes([medical_row(person_id(1), day="2026-13-01")]))
    body = client.get(f"/api/screening/uploads/{response.json()['id']}/").json()
    assert body["bad_rows"] == [{"row": 2, "column": "就诊日期", "reason": "日期 2026-13-01 不存在。"}]
    assert (body["rows_invalid"], body["rows_valid"]) == (1, 0)


def test_the_list_is_newest_first_and_scoped(client, world, civil_affairs, other_county_upload):
    first = service_upload(world.department_staff, medical_file(world), period="2026-01")
    second = service_upload(world.department_staff, medical_file(world), period="2026-02")
    civil = service_upload(
        world.county_officer,
        csv_bytes([["张三", person_id(2), "低保", "2026-01-01"]], ["姓名", "身份证号", "救助类别", "救助开始日期"]),
        kind="civil_affairs",
    )
    client.force_login(world.department_staff)
    assert [u["id"] for u in client.get("/api/screening/uploads/").json()["results"]] == [second.pk, first.pk]
    client.force_login(world.county_officer)
    assert [u["id"] for u in client.get("/api/screening/uploads/").json()["results"]] == [civil.pk, second.pk, first.pk]
    for user in (world.village_cadre, world.town_official):
        client.force_login(user)
        assert client.get("/api/screening/uploads/").json()["results"] == []
        assert client.get(f"/api/screening/uploads/{first.pk}/").status_code == 404


def test_department_staff_may_not_upload_for_another_department_of_their_county(client, world, civil_affairs):
    client.force_login(world.department_staff)
    response = api_upload(client, medical_file(world), department="civil_affairs")
    assert response.status_code == 403
    assert not ScreeningUpload.objects.exists()


def test_another_department_upload_is_403_for_staff_and_another_countys_is_404(
    client, world, civil_affairs, other_county_upload
):
    civil = service_upload(
        world.county_officer,
        csv_bytes([["张三", person_id(2), "低保", "2026-01-01"]], ["姓名", "身份证号", "救助类别", "救助开始日期"]),
        kind="civil_affairs",
    )
    client.force_login(world.department_staff)
    assert client.get(f"/api/screening/uploads/{civil.pk}/").status_code == 403
    assert client.get(f"/screening/uploads/{civil.pk}/").status_code == 403
    assert client.get(f"/api/screening/uploads/{other_county_upload.pk}/").status_code == 404
    assert client.get(f"/screening/uploads/{other_county_upload.pk}/").status_code == 404
    assert client.get(f"/api/screening/uploads/{other_county_upload.pk}/bad-rows/").status_code == 404
    client.force_login(world.county_officer)
    assert client.get(f"/api/screening/uploads/{other_county_upload.pk}/").status_code == 404


def test_county_officers_upload_for_any_department_of_their_county_naming_it(client, world, civil_affairs):
    client.force_login(world.county_officer)
    assert api_upload(client, medical_file(world)).status_code == 400  # which department?
    response = api_upload(client, medical_file(world), department="medical_insurance")
    assert response.status_code == 201 and response.json()["department"] == "medical_insurance"
    assert api_upload(client, medical_file(world), department="housing").status_code == 404  # none in the county


def test_village_and_town_may_not_upload(client, world):
    for user in (world.village_cadre, world.town_official, world.nobody):
        client.force_login(user)
        assert api_upload(client, medical_file(world), department="medical_insurance").status_code == 403
        assert client.get("/screening/").status_code == 403
    assert not ScreeningUpload.objects.exists()


def test_department_staff_see_their_rows_outcome_masked_and_never_household_details(client, world):
    upload = service_upload(world.department_staff, medical_file(world, extra=1))
    client.force_login(world.department_staff)

    rows = client.get(f"/api/screening/uploads/{upload.pk}/rows/").json()["results"]

    member = county_members(world)[0]
    assert rows[0] == {"row_number": 2, "id_number": member.masked_id, "name": member.name, "matched": True}
    assert rows[-1]["matched"] is False
    assert all(set(r) == {"row_number", "id_number", "name", "matched"} for r in rows)
    assert client.get(f"/households/{member.household_id}/").status_code == 404


def test_a_second_file_while_one_is_being_processed_is_a_conflict(client, world, no_worker):
    client.force_login(world.department_staff)
    assert api_upload(client, medical_file(world)).status_code == 201
    response = api_upload(client, medical_file(world))
    assert response.status_code == 409 and "正在处理" in response.json()["detail"]
    assert api_upload(client, medical_file(world), period="2026-02").status_code == 201  # another month
    assert ScreeningUpload.objects.count() == 2


def test_the_database_allows_one_active_and_one_current_upload_per_department_and_month(world):
    from django.db import IntegrityError, transaction

    upload = service_upload(world.department_staff, medical_file(world))
    with pytest.raises(IntegrityError), transaction.atomic():
        ScreeningUpload.objects.create(
            department=upload.department, period=upload.period, is_current=True, status="done"
        )
    ScreeningUpload.objects.create(department=upload.department, period=upload.period, status="queued")
    with pytest.raises(IntegrityError), transaction.atomic():
        ScreeningUpload.objects.create(department=upload.department, period=upload.period, status="running")


# --- re-uploads ------------------------------------------------------------------------------


def test_re_uploading_a_period_replaces_its_rows_without_duplicates(world):
    first = service_upload(world.department_staff, medical_file(world, extra=3))
    before = ScreeningRow.objects.current().count()

    second = service_upload(world.department_staff, medical_file(world, extra=3, paid="350"))

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_current, second.is_current) == (False, True)
    current = ScreeningRow.objects.current()
    assert current.count() == before == ScreeningRow.objects.count()  # the first upload's rows are gone
    assert set(current.values_list("amount", flat=True)) == {350}
    assert current.values("record_key").distinct().count() == before
    # Another month is another period: both kept.
    service_upload(world.department_staff, medical_file(world, extra=3), period="2025-12")
    assert ScreeningRow.objects.current().count() == 2 * before


def test_the_same_file_twice_gives_the_same_rows(world):
    data = medical_file(world, extra=4)
    service_upload(world.department_staff, data)
    once = sorted(ScreeningRow.objects.current().values_list("record_key", "member_id", "amount"))
    service_upload(world.department_staff, data)
    assert sorted(ScreeningRow.objects.current().values_list("record_key", "member_id", "amount")) == once


# --- chunks ------------------------------------------------------------------------------------


def outcome():
    rows = ScreeningRow.objects.current().values_list(
        "row_number", "record_key", "member_id", "household_id", "village_id", "amount", "event_date", "code", "data"
    )
    bad = ScreeningBadRow.objects.values_list("row", "column", "reason")
    counts = ScreeningUpload.objects.filter(is_current=True).values_list(
        "rows_read", "rows_valid", "rows_invalid", "rows_matched", "rows_unmatched", "rows_skipped"
    )
    return sorted(rows), sorted(bad), list(counts)


def mixed_file(world):
    members = county_members(world)
    rows = [medical_row(m, day=f"2026-01-{d:02d}") for m in members for d in (3, 9)]
    rows += [medical_row(person_id(n)) for n in range(15)]
    rows += [medical_row(members[0], day="2026-01-03", paid="1")]  # conflicts with the first row
    rows += [medical_row(members[1], day="2026-01-09")]  # an exact repeat
    rows += [medical_row(person_id(99), total="x"), ["合计", "", "", "9999", "", "", ""]]
    return csv_bytes(rows)


def test_a_file_split_into_many_chunks_gives_exactly_the_one_chunk_result(world, settings):
    data = mixed_file(world)
    settings.SCREENING_CHUNK_ROWS = 100_000
    service_upload(world.department_staff, data)
    single = outcome()
    assert ScreeningUpload.objects.get(is_current=True).chunks_total == 1
    ScreeningUpload.objects.all().delete()

    settings.SCREENING_CHUNK_ROWS = 4
    upload = service_upload(world.department_staff, data)

    upload.refresh_from_db()
    assert upload.chunks_total == 9  # 33 data rows / 4
    assert outcome() == single
    assert single[2][0][2] == 4  # the conflict (2 rows), the repeat, the bad amount
    assert not ScreeningChunk.objects.exists()  # dropped once finished


def sent_chunks(sent):
    """(upload id, number of chunks, attempt) of the chunks the prepare task sent, one by one
    and in order, for a single upload (send_chunk patched to keep them in `sent`)."""
    ((upload_id, attempt),) = {(u, a) for u, _, a in sent}
    indices = [i for _, i, _ in sent]
    assert indices == list(range(len(indices)))
    return upload_id, len(indices), attempt


@pytest.mark.parametrize(
    ("quoted", "in_database"),
    [(False, False), (False, True), (True, False)],
    ids=["byte ranges read from the stored file", "byte ranges copied into the database", "rows read first"],
)
def test_chunks_run_in_any_order_give_exactly_the_one_chunk_result(world, monkeypatch, settings, quoted, in_database):
    """Workers finish chunks in any order: a record repeated across chunks is settled in file
    order whichever chunk wrote it first (a text file is cut into byte ranges, which each chunk
    reads from the stored file or, for workers without shared storage, from the database; one
    with quote marks is read row by row first)."""
    data = mixed_file(world)
    if quoted:
        data = data.replace("合计".encode(), '"合计"'.encode())
    settings.SCREENING_CHUNKS_IN_DATABASE = in_database
    settings.SCREENING_CHUNK_ROWS = 100_000
    service_upload(world.department_staff, data)
    single = outcome()
    ScreeningUpload.objects.all().delete()

    settings.SCREENING_CHUNK_ROWS = 3
    sent = []
    monkeypatch.setattr(services, "send_chunk", lambda *args: sent.append(args) or True)
    service_upload(world.department_staff, data)
    upload_id, chunks, attempt = sent_chunks(sent)
    for index in reversed(range(chunks)):
        assert services.chunk_process(upload_id=upload_id, index=index, attempt=attempt) is True
    assert services.upload_finalize(upload_id=upload_id, attempt=attempt) is True

    assert chunks == 11
    assert outcome() == single
    assert len(single[1]) == 4


def test_a_chunk_delivered_twice_or_from_an_earlier_attempt_writes_nothing_twice(world, monkeypatch, settings):
    settings.SCREENING_CHUNK_ROWS = 5
    sent = []
    monkeypatch.setattr(services, "send_chunk", lambda *args: sent.append(args) or True)
    upload = service_upload(world.department_staff, medical_file(world, extra=10))
    upload_id, chunks, attempt = sent_chunks(sent)

    assert services.chunk_process(upload_id=upload_id, index=0, attempt=attempt) is True
    rows = ScreeningRow.objects.filter(upload=upload).count()
    assert services.chunk_process(upload_id=upload_id, index=0, attempt=attempt) is False  # a second delivery
    assert services.chunk_process(upload_id=upload_id, index=1, attempt=attempt - 1) is False  # a stale attempt
    assert ScreeningRow.objects.filter(upload=upload).count() == rows
    assert services.upload_finalize(upload_id=upload_id, attempt=attempt) is False  # chunks still pending
    for index in range(1, chunks):
        services.chunk_process(upload_id=upload_id, index=index, attempt=attempt)
    assert services.upload_finalize(upload_id=upload_id, attempt=attempt) is True
    upload.refresh_from_db()
    assert upload.status == "done" and upload.rows_valid == len(county_members(world)) + 10


def test_a_chunk_interrupted_halfway_leaves_nothing_and_the_previous_period_data_stays(world, monkeypatch, settings):
    service_upload(world.department_staff, medical_file(world, extra=2))
    before = sorted(ScreeningRow.objects.current().values_list("record_key", "amount"))
    settings.SCREENING_CHUNK_ROWS = 3
    real_insert = matching.insert_rows
    calls = []

    def dies_on_the_second_chunk(**kwargs):
        calls.append(kwargs["chunk"])
        written = real_insert(**kwargs)
        if len(calls) == 2:
            raise OSError("worker killed")  # after the rows were inserted, inside the chunk's transaction
        return written

    monkeypatch.setattr(matching, "insert_rows", dies_on_the_second_chunk)
    failed = service_upload(world.department_staff, medical_file(world, extra=2, paid="999"))

    failed.refresh_from_db()
    assert failed.status == "failed" and "系统错误" in failed.error_message and not failed.is_current
    assert not ScreeningRow.objects.filter(upload=failed).exists()
    assert sorted(ScreeningRow.objects.current().values_list("record_key", "amount")) == before


def test_matching_is_set_based_the_queries_do_not_grow_with_the_rows(world, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "send_chunk", lambda *args: sent.append(args) or True)
    counts = []
    for extra, period in ((5, "2026-01"), (300, "2026-02")):
        service_upload(world.department_staff, medical_file(world, extra=extra), period=period)
        upload_id, _, attempt = sent[-1]
        with CaptureQueriesContext(connection) as queries:
            services.chunk_process(upload_id=upload_id, index=0, attempt=attempt)
        counts.append(len(queries))
        assert ScreeningRow.objects.filter(upload_id=upload_id).count() == len(county_members(world)) + extra
    assert counts[0] == counts[1] and counts[0] < 25


# --- recovery ------------------------------------------------------------------------------------


def test_the_sweep_restarts_an_upload_whose_worker_died_and_it_is_processed_once(world, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "send_chunk", lambda *args: sent.append(args) or True)
    upload = service_upload(world.department_staff, medical_file(world))
    upload_id, _, attempt = sent[-1]
    services.chunk_process(upload_id=upload_id, index=0, attempt=attempt)  # then the worker dies
    monkeypatch.undo()
    stale = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    ScreeningUpload.objects.filter(pk=upload_id).update(heartbeat_at=stale)

    result = services.uploads_sweep()  # eager: prepare, chunks and finalize run now

    assert (result.restarted, result.failed) == (1, 0)
    upload.refresh_from_db()
    assert upload.status == "done" and upload.attempt == 2 and upload.is_current
    assert ScreeningRow.objects.filter(upload=upload).count() == len(county_members(world))
    assert services.upload_finalize(upload_id=upload_id, attempt=attempt) is False


def test_the_sweep_fails_an_upload_after_repeated_interruptions_and_resends_lost_messages(world, no_worker):
    upload = service_upload(world.department_staff, medical_file(world))
    now = datetime.datetime.now(datetime.UTC)
    assert services.uploads_sweep(now=now).resent == 0
    assert services.uploads_sweep(now=now + datetime.timedelta(minutes=11)).resent == 1
    ScreeningUpload.objects.filter(pk=upload.pk).update(
        status="running", attempt=services.MAX_ATTEMPTS, heartbeat_at=now - datetime.timedelta(hours=1)
    )
    assert services.uploads_sweep(now=now).failed == 1
    upload.refresh_from_db()
    assert upload.status == "failed" and "处理中断" in upload.error_message


def test_beat_runs_the_screening_sweep_every_ten_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-screening-uploads"]
    assert entry == {"task": "screening.sweep_uploads", "schedule": 600.0}
    assert "screening.sweep_uploads" in celery_app.tasks


# --- pages -------------------------------------------------------------------------------------


def test_the_page_uploads_and_shows_the_summary_and_past_uploads(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import TestCase

    client.force_login(world.department_staff)
    page = client.get("/screening/").content.decode()
    assert "/screening/templates/medical_insurance/" in page and 'name="department"' not in page

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/screening/",
            {
                "period": "2026-01",
                "file": SimpleUploadedFile("一月.csv", csv_bytes([medical_row(person_id(1), paid="x")])),
            },
        )

    upload = ScreeningUpload.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/screening/uploads/{upload.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert "已完成" in html and "<dt>错误</dt><dd>1 行</dd>" in html and "「x」不是有效的金额。" in html
    assert f"/screening/uploads/{upload.pk}/bad-rows.xlsx" in html and "job_progress.js" not in html
    assert "一月.csv" in client.get("/screening/").content.decode()


def test_a_refused_file_stays_on_the_form_with_the_reason(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.department_staff)
    response = client.post(
        "/screening/", {"period": "2026-01", "file": SimpleUploadedFile("a.csv", "姓名,身份证号\r\n".encode())}
    )
    assert response.status_code == 200 and "没有医保部门模板中的任何一列" in response.content.decode()
    assert not ScreeningUpload.objects.exists()


def test_a_queued_upload_page_polls_its_status(client, world, no_worker):
    client.force_login(world.department_staff)
    upload_id = api_upload(client, medical_file(world)).json()["id"]
    html = client.get(f"/screening/uploads/{upload_id}/").content.decode()
    assert "排队中" in html and "js/job_progress.js" in html
    assert f'data-status-url="/screening/uploads/{upload_id}/status/"' in html
    status = client.get(f"/screening/uploads/{upload_id}/status/").json()
    assert (status["status"], status["progress"], status["finished"]) == ("queued", 0, False)


def test_the_upload_list_page_needs_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.county_officer)
    for period in ("2025-10", "2025-11", "2025-12"):
        service_upload(world.department_staff, medical_file(world), period=period)
    with django_assert_max_num_queries(12):
        assert client.get("/screening/").status_code == 200
    with django_assert_max_num_queries(12):
        assert len(client.get("/api/screening/uploads/").json()["results"]) == 3


def test_the_navigation_shows_screening_to_department_and_county_only(client, world):
    client.force_login(world.department_staff)
    assert 'href="/screening/"' in client.get("/screening/").content.decode()
    client.force_login(world.village_cadre)
    assert 'href="/screening/"' not in client.get("/inbox/").content.decode()


def test_a_finished_upload_calls_the_handlers_named_in_settings_once_with_its_id(world, settings):
    settings.SCREENING_UPLOAD_DONE = ["tests.screening.test_uploads.remember_upload"]
    CALLED.clear()
    upload = service_upload(world.department_staff, medical_file(world))
    assert [upload.pk] == CALLED
    from screening import selectors

    rows = selectors.current_rows(kind="medical_insurance", period=upload.period, county=world.county)
    assert rows.matched().count() == len(county_members(world)) and not rows.unmatched().exists()


CALLED = []


def remember_upload(*, upload_id):
    CALLED.append(upload_id)


def test_one_person_spelled_differently_lands_in_one_chunk_and_is_found_a_duplicate(world, settings):
    settings.SCREENING_CHUNK_ROWS = 2
    member = county_members(world)[0]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in member.id_number)
    rows = [medical_row(person_id(n)) for n in range(8)]
    rows += [
        medical_row(member),
        medical_row(
            member.id_number.lower() if member.id_number.endswith("X") else f"'{member.id_number}", member.name
        ),
        medical_row(full_width, member.name),
        medical_row(f'="{member.id_number}"', member.name, paid="1"),
    ]
    upload = service_upload(world.department_staff, csv_bytes(rows))

    upload.refresh_from_db()
    assert upload.status == "done" and upload.chunks_total > 3
    reasons = {b.row: b.reason for b in upload.bad_rows.all()}
    assert set(reasons) == {10, 11, 12, 13}  # the repeats, and the conflicting pair
    assert not ScreeningRow.objects.filter(upload=upload, id_number=member.id_number).exists()


def test_cells_with_a_backslash_or_left_blank_are_kept_as_the_file_has_them(world):
    """The staging COPY escapes what its text format would misread (a backslash) and writes a
    blank optional cell as NULL, whether or not the rest of the chunk needs it."""
    rows = [medical_row(person_id(n), name=f"王{n}") for n in range(3)]
    rows.append(medical_row(person_id(7), name="王\\五"))
    rows.append(medical_row(person_id(8), name="赵六", inpatient="", total="1234"))
    upload = service_upload(world.department_staff, csv_bytes(rows))

    upload.refresh_from_db()
    assert upload.status == "done" and upload.rows_valid == 5
    kept = {r.name: r for r in ScreeningRow.objects.filter(upload=upload)}
    assert set(kept) == {"王0", "王1", "王2", "王\\五", "赵六"}
    assert kept["赵六"].code == "" and kept["赵六"].data["inpatient"] is None
    assert kept["赵六"].data["total_cost"] == "1234.00" and kept["王0"].amount == 400
