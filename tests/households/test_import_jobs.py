"""Page imports run as background jobs: the upload is stored and queued, a Celery task claims
the job once, imports the file with a progress callback and stores the report the job page
shows. Only the uploader and administrators see a job."""

import datetime
import io
import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction

from fanpin.celery import app as celery_app
from households import idnumber, import_jobs, importer
from households.import_jobs import import_job_run
from households.models import Household, ImportJob, Member
from households.tasks import run_import_job
from tests.celery_fixtures import BROKER_ENV
from tests.households.uploads import post_upload


def make_id(n):
    return idnumber.make("440981", datetime.date(1972, 1, 1) + datetime.timedelta(days=n * 97), 21 + n * 2)


def registry_csv(households=3, members=2, village="东山村"):
    """`households` households of `members` members each, numbered J001…"""
    lines = ["户编号,村,姓名,身份证号,与户主关系"]
    n = 0
    for h in range(1, households + 1):
        for m in range(members):
            lines.append(f"J{h:03d},{village},成员{n},{make_id(n)},{'户主' if m == 0 else '子女'}")
            n += 1
    return ("\n".join(lines) + "\n").encode()


def queued_job(user, data, name="登记表.csv"):
    return ImportJob.objects.create(user=user, file=ContentFile(data, name=name), original_name=name)


@pytest.fixture
def no_worker(monkeypatch):
    """CELERY_TASK_ALWAYS_EAGER off with the in-memory broker and nobody consuming it: as on a
    deployment whose worker has not picked the job up yet."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)


# --- the importer's progress callback -------------------------------------------------------


def test_progress_callback_reports_each_step_and_leaves_the_report_unchanged(world, monkeypatch):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 4)
    monkeypatch.setattr(importer, "WRITE_BATCH", 2)
    data = registry_csv(households=5, members=2)
    calls = []
    with transaction.atomic():
        with_progress = importer.import_registry(
            io.BytesIO(data), "a.csv", user=world.village_cadre, progress=lambda *args: calls.append(args)
        )
        transaction.set_rollback(True)
    assert not Household.objects.filter(number="J001").exists()

    without = importer.import_registry(io.BytesIO(data), "a.csv", user=world.village_cadre)

    assert with_progress == without
    assert (without.households_created, without.members_created) == (5, 10)
    assert calls == [
        ("read", 4, None),
        ("read", 8, None),
        ("read", 10, 10),
        ("check", 4, 10),
        ("check", 8, 10),
        ("check", 10, 10),
        ("write", 4, 10),
        ("write", 8, 10),
        ("write", 10, 10),
    ]


def test_rejected_households_do_not_count_as_rows_to_write(world):
    data = registry_csv(households=2, members=2) + f"J003,邻村,外人,{make_id(50)},户主\n".encode()
    calls = []
    importer.import_registry(io.BytesIO(data), "a.csv", user=world.village_cadre, progress=lambda *a: calls.append(a))
    assert calls[-1] == ("write", 4, 4)
    assert ("check", 5, 5) in calls


# --- the plain function the task calls ------------------------------------------------------


def test_queued_job_is_imported_and_its_report_stored(world):
    job = queued_job(world.village_cadre, registry_csv(households=3, members=2))

    assert import_job_run(job_id=job.pk) is True

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.get_status_display() == "已完成"
    assert job.started_at and job.finished_at and job.finished_at >= job.started_at
    assert (job.step, job.rows_done, job.rows_total, job.percent) == ("write", 6, 6, 100)
    assert job.report["households_created"] == 3 and job.report["members_created"] == 6
    assert job.report["ok"] is True and job.report["errors_total"] == 0
    assert job.summary.startswith("新建农户 3 户")
    assert Member.objects.filter(household__number__in=["J001", "J002", "J003"]).count() == 6


def test_a_second_delivery_of_the_task_imports_nothing(world):
    job = queued_job(world.village_cadre, registry_csv(households=2, members=2))
    run_import_job(job.pk)
    job.refresh_from_db()
    finished, report = job.finished_at, job.report
    Member.objects.filter(household__number="J001", relation=Member.Relation.CHILD).delete()  # would come back

    run_import_job(job.pk)  # Celery delivers at least once

    job.refresh_from_db()
    assert (job.finished_at, job.report) == (finished, report)
    assert Member.objects.filter(household__number="J001").count() == 1


def test_a_job_already_running_elsewhere_is_not_claimed(world):
    job = queued_job(world.village_cadre, registry_csv())
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)

    assert import_job_run(job_id=job.pk) is False

    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and job.report is None
    assert not Household.objects.filter(number="J001").exists()


def test_the_job_row_shows_progress_while_the_import_runs(world, monkeypatch):
    monkeypatch.setattr(importer, "WRITE_BATCH", 1)
    job = queued_job(world.village_cadre, registry_csv(households=3, members=2))
    seen = []
    write_groups = importer.RegistryImport._write_groups

    def spy(self, groups):
        seen.append(ImportJob.objects.values_list("status", "step", "rows_done", "rows_total").get(pk=job.pk))
        return write_groups(self, groups)

    monkeypatch.setattr(importer.RegistryImport, "_write_groups", spy)

    import_job_run(job_id=job.pk)

    assert seen == [("running", "check", 6, 6), ("running", "write", 2, 6), ("running", "write", 4, 6)]


def test_a_file_that_cannot_be_read_fails_the_job_with_the_reason_and_keeps_the_file(world):
    job = queued_job(world.village_cadre, "姓名\n张三\n".encode(), "没有表头.csv")

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at
    assert "没有找到表头" in job.error_message and job.report is None
    assert default_storage.exists(job.file.name)
    assert default_storage.open(job.file.name).read() == "姓名\n张三\n".encode()


def test_an_unexpected_error_fails_the_job_in_chinese_without_the_traceback(client, world, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(importer, "import_registry", broken)
    job = queued_job(world.village_cadre, registry_csv())

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.error_message == import_jobs.SYSTEM_ERROR_MESSAGE
    assert default_storage.exists(job.file.name)
    assert "database went away" in caplog.text  # for the administrator, in the log
    client.force_login(world.village_cadre)
    html = client.get(f"/households/import/jobs/{job.pk}/").content.decode()
    assert "导入时发生系统错误" in html and "导入失败" in html
    assert "database went away" not in html and "Traceback" not in html


def test_a_large_report_is_stored_capped_with_totals_and_groups(world, monkeypatch):
    monkeypatch.setattr(import_jobs, "ISSUES_STORED", 3)
    lines = ["户编号,村,姓名,身份证号,与户主关系"] + [f"N{n:02d},东山村,甲,4.40981E+17,户主" for n in range(5)]
    job = queued_job(world.village_cadre, ("\n".join(lines) + "\n").encode())

    import_job_run(job_id=job.pk)

    report = ImportJob.objects.get(pk=job.pk).report
    assert report["errors_total"] == 5 and len(report["errors"]) == 3
    assert report["errors"][0] == {"row": 2, "column": "身份证号", "message": importer.NUMERIC_ID_MESSAGE}
    assert report["errors_grouped"] == [
        {"column": "身份证号", "message": importer.NUMERIC_ID_MESSAGE, "count": 5, "rows": [2, 3, 4, 5, 6]}
    ]
    assert report["households_rejected"] == 5 and report["ok"] is False


# --- pages -----------------------------------------------------------------------------------


def test_upload_redirects_to_the_job_page_which_shows_the_report(client, world):
    client.force_login(world.village_cadre)

    response = post_upload(client, registry_csv(households=2, members=2), "东山村.csv")

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/households/import/jobs/{job.pk}/"
    assert (job.user, job.original_name, job.status) == (world.village_cadre, "东山村.csv", "done")
    html = client.get(response["Location"]).content.decode()
    assert "已完成" in html and "导入结果：东山村.csv" in html
    assert "<dt>新建农户</dt><dd>2 户</dd>" in html and "全部导入成功。" in html
    assert "job_progress.js" not in html and 'http-equiv="refresh"' not in html  # finished: no polling
    listing = client.get("/households/import/").content.decode()
    assert f'href="/households/import/jobs/{job.pk}/"' in listing and "新建农户 2 户" in listing


def test_without_a_worker_the_job_page_shows_it_queued_and_polls(client, world, no_worker):
    client.force_login(world.village_cadre)

    response = post_upload(client, registry_csv(), "东山村.csv")

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.QUEUED
    assert not Household.objects.filter(number="J001").exists()
    html = client.get(response["Location"]).content.decode()
    assert "排队中" in html and "导入结果" not in html
    assert '<progress class="import-progress" id="import-job-bar" max="100" value="0"' in html
    assert f'data-status-url="/households/import/jobs/{job.pk}/status/"' in html
    assert "js/job_progress.js" in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    status = client.get(f"/households/import/jobs/{job.pk}/status/").json()
    assert (status["status"], status["status_label"], status["finished"], status["percent"]) == (
        "queued",
        "排队中",
        False,
        0,
    )


def test_status_endpoint_reports_progress_of_a_running_job(client, world):
    job = queued_job(world.village_cadre, registry_csv())
    ImportJob.objects.filter(pk=job.pk).update(status="running", step="write", rows_done=30, rows_total=60)
    client.force_login(world.village_cadre)

    status = client.get(f"/households/import/jobs/{job.pk}/status/").json()

    assert status == {
        "id": job.pk,
        "status": "running",
        "status_label": "正在导入",
        "step": "write",
        "step_label": "保存到登记库",
        "rows_done": 30,
        "rows_total": 60,
        "percent": 75,
        "progress_text": "保存到登记库：30 / 60 行（75%）。",
        "finished": False,
        "summary": "",
        "error_message": "",
    }
    ImportJob.objects.filter(pk=job.pk).update(step="read", rows_done=2000, rows_total=None)
    status = client.get(f"/households/import/jobs/{job.pk}/status/").json()
    assert (status["percent"], status["progress_text"]) == (None, "正在读取文件：已读取 2000 行。")
    html = client.get(f"/households/import/jobs/{job.pk}/").content.decode()
    assert '<progress class="import-progress" id="import-job-bar" max="100" aria-labelledby' in html  # indeterminate


def test_another_users_job_is_404_and_an_administrator_sees_it(client, world):
    job = queued_job(world.village_cadre, registry_csv())
    run_import_job(job.pk)
    for user in (world.village_cadre_b, world.county_officer, world.town_official, world.nobody):
        client.force_login(user)
        assert client.get(f"/households/import/jobs/{job.pk}/").status_code == 404
        assert client.get(f"/households/import/jobs/{job.pk}/status/").status_code == 404
        assert "登记表.csv" not in client.get("/households/import/").content.decode()
    client.force_login(world.admin)
    assert "<dt>新建农户</dt><dd>3 户</dd>" in client.get(f"/households/import/jobs/{job.pk}/").content.decode()
    assert client.get(f"/households/import/jobs/{job.pk}/status/").json()["status"] == "done"


def test_job_pages_need_a_login(client, world):
    job = queued_job(world.village_cadre, registry_csv())
    for url in (f"/households/import/jobs/{job.pk}/", f"/households/import/jobs/{job.pk}/status/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_refused_upload_stays_on_the_form_and_creates_no_job(client, world):
    client.force_login(world.village_cadre)

    html = post_upload(client, b"%PDF-1.4", "登记表.pdf").content.decode()

    assert "只支持 .xlsx、.xls、.csv 和 .txt（制表符分隔）文件。" in html
    assert not ImportJob.objects.exists()


def test_a_failed_job_page_says_why_and_offers_a_new_upload(client, world):
    client.force_login(world.village_cadre)

    response = post_upload(client, "姓名\n张三\n".encode(), "名单.csv")

    html = client.get(response["Location"]).content.decode()
    assert "导入失败" in html and "没有找到表头" in html and "改正后重新上传" in html
    assert "导入失败" in client.get("/households/import/").content.decode()


def test_the_import_page_lists_recent_jobs_in_a_constant_number_of_queries(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.village_cadre)
    for n in range(3):
        run_import_job(queued_job(world.village_cadre, registry_csv(), f"第{n}批.csv").pk)
    with django_assert_max_num_queries(8) as few:
        client.get("/households/import/")
    for n in range(3, 12):
        queued_job(world.village_cadre, registry_csv(), f"第{n}批.csv")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/households/import/").content.decode()
    assert html.count('href="/households/import/jobs/') == import_jobs.RECENT_JOBS
    assert "第11批.csv" in html and "第0批.csv" not in html  # the latest first


def test_the_job_page_belongs_to_the_import_section_of_the_navigation(client, world):
    job = queued_job(world.village_cadre, registry_csv())
    client.force_login(world.village_cadre)
    html = client.get(f"/households/import/jobs/{job.pk}/").content.decode()
    assert 'href="/households/import/" aria-current="page">批量导入</a>' in html


def test_admin_lists_jobs_read_only(client, world):
    from django.contrib.auth import get_user_model

    job = queued_job(world.village_cadre, registry_csv())
    run_import_job(job.pk)
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(superuser)
    assert "登记表.csv" in client.get("/admin/households/importjob/").content.decode()
    page = client.get(f"/admin/households/importjob/{job.pk}/change/").content.decode()
    assert "新建农户 3 户" in page and 'name="_save"' not in page
    assert client.get("/admin/households/importjob/add/").status_code == 403


# --- a real worker ---------------------------------------------------------------------------


@pytest.fixture
def publish_to(monkeypatch):
    """Point this process's Celery app at the real broker and the test worker's queue (the
    suite otherwise runs tasks eagerly), and put it back afterwards."""

    def publish(worker):
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        monkeypatch.setitem(celery_app.conf, "broker_url", os.environ[BROKER_ENV])
        monkeypatch.setitem(celery_app.conf, "task_default_queue", worker.queue)
        # The app keeps its (in-memory) connection pool: fetch the one for the real broker.
        # Not closed afterwards: kombu shares it per broker URL with the worker fixture's client.
        monkeypatch.setattr(celery_app, "_pool", None)
        monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)

    return publish


@pytest.mark.celery_worker
def test_a_real_worker_imports_a_page_upload_through_redis(client, world, celery_worker_process, publish_to):
    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL：设置 DATABASE_URL=postgres://…")
    publish_to(celery_worker_process)
    client.force_login(world.village_cadre)

    response = post_upload(client, registry_csv(households=4, members=3), "真实后台.csv")

    job = ImportJob.objects.get()
    assert response["Location"] == f"/households/import/jobs/{job.pk}/"
    deadline = time.monotonic() + 60
    while not client.get(f"/households/import/jobs/{job.pk}/status/").json()["finished"]:
        if celery_worker_process.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the worker did not finish the job:\n{celery_worker_process.log()}")
        time.sleep(0.2)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error_message
    assert (job.report["households_created"], job.report["members_created"]) == (4, 12)
    assert "households.run_import_job" in celery_worker_process.log()
    html = client.get(f"/households/import/jobs/{job.pk}/").content.decode()
    assert "<dt>新建成员</dt><dd>12 人</dd>" in html


# --- recovering jobs a dead worker or a lost message left behind ---------------------------------


def test_the_sweep_runs_again_a_job_whose_worker_died_and_the_page_says_so(client, world):
    job = queued_job(world.village_cadre, registry_csv())
    started = datetime.datetime(2026, 11, 24, 8, 0, tzinfo=datetime.UTC)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=started, heartbeat_at=started, attempt=1
    )
    recent = queued_job(world.village_cadre, registry_csv())
    ImportJob.objects.filter(pk=recent.pk).update(
        status=ImportJob.Status.RUNNING, started_at=started, heartbeat_at=started + datetime.timedelta(minutes=10)
    )

    # 16 minutes without progress: the first lost its worker; the second moved 6 minutes ago.
    assert import_jobs.import_jobs_sweep(now=started + datetime.timedelta(minutes=16)) == (0, 1)  # eager: runs now

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.attempt == 2
    assert ImportJob.objects.get(pk=recent.pk).status == ImportJob.Status.RUNNING  # still within its time
    client.force_login(world.village_cadre)
    assert "系统已从上传的文件重新导入（第 2 次）" in client.get(f"/households/import/jobs/{job.pk}/").content.decode()


def test_the_sweep_fails_a_job_after_its_last_attempt_and_the_page_says_to_import_again(client, world):
    job = queued_job(world.village_cadre, registry_csv())
    started = datetime.datetime(2026, 11, 24, 8, 0, tzinfo=datetime.UTC)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=started, attempt=import_jobs.MAX_ATTEMPTS
    )

    assert import_jobs.import_jobs_sweep(now=started + datetime.timedelta(minutes=16)) == (1, 0)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "导入中断" in job.error_message
    client.force_login(world.village_cadre)
    assert "请重新导入整个文件" in client.get(f"/households/import/jobs/{job.pk}/").content.decode()


def test_the_sweep_resends_a_job_whose_message_was_lost_and_it_is_imported_once(world):
    job = queued_job(world.village_cadre, registry_csv(households=2, members=2))
    created = job.created_at

    assert import_jobs.import_jobs_sweep(now=created + datetime.timedelta(minutes=5)) == (0, 0)
    assert import_jobs.import_jobs_sweep(now=created + datetime.timedelta(minutes=11)) == (0, 1)  # eager: runs now

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Household.objects.filter(number__in=["J001", "J002"]).count() == 2
    assert import_jobs.import_jobs_sweep(now=created + datetime.timedelta(minutes=30)) == (0, 0)


def test_beat_runs_the_sweep_every_ten_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-import-jobs"]
    assert entry["task"] == "households.sweep_import_jobs" and entry["schedule"] == 600.0
    assert "households.sweep_import_jobs" in celery_app.tasks
