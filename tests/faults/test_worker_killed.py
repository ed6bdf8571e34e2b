"""A Celery worker killed with SIGKILL in the middle of a job (issue 14, faults survived).

The worker runs the project's app slowed down (tests/faults/slow_worker.py) so that the kill
lands with part of the job saved and part not. A new worker takes over the queue and beat's
sweep (called here as beat would call it, at a time after the stale limit) recovers the job
from its stored file: the result equals an uninterrupted run, with nothing twice and nothing
of the stopped run left over.
"""

import datetime
import io
import os
import signal
import time

import pytest
from django.db import transaction
from django.utils import timezone

from households import idnumber, import_jobs, importer
from households.models import Household, ImportJob, Member
from screening import services as screening_services
from screening.models import RiskWarning, ScreeningChunk, ScreeningRow, ScreeningUpload
from tests.households.uploads import post_upload
from tests.screening.helpers import api_upload, csv_bytes, medical_row
from tests.screening.test_workers import big_file, outcome

pytestmark = pytest.mark.celery_worker

SLOW = "tests.faults.slow_worker"
LATER = datetime.timedelta(hours=1)  # past every stale limit of the sweeps


def registry_csv(households, members):
    """`households` households of `members` members each, numbered J0001…"""
    lines = ["户编号,村,姓名,身份证号,与户主关系"]
    for n in range(households * members):
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=n * 13)
        head = n % members == 0
        lines.append(
            f"J{n // members + 1:04d},东山村,成员{n},{idnumber.make('440981', born, n % 1000)},{'户主' if head else '子女'}"
        )
    return ("\n".join(lines) + "\n").encode()


def wait_for(condition, workers, what, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline or any(w.process.poll() is not None for w in workers):
            pytest.fail(f"{what} did not happen:\n" + "\n".join(w.log() for w in workers))
        time.sleep(0.05)


def kill(worker):
    """SIGKILL, as the kernel's out-of-memory killer or a pulled plug stops a worker: no
    warm shutdown, no message acknowledged or handed back."""
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)


def _fields(model, *extra):
    # Ids, timestamps and the random card token (一户一码) differ between any two runs.
    skip = {"id", "created_at", "updated_at", "household", "card_token"}
    return [f.attname for f in model._meta.concrete_fields if f.name not in skip] + list(extra)


def registry_snapshot():
    """Every stored value of every household and member (ids and timestamps aside)."""
    households = sorted(Household.objects.values_list(*_fields(Household)))
    members = sorted(Member.objects.values_list(*_fields(Member, "household__number")))
    return households, members


def test_an_import_whose_worker_is_killed_mid_write_ends_as_an_uninterrupted_run(
    client, world, celery_workers, publish_to, shared_media
):
    data = registry_csv(households=600, members=2)  # three write batches of 200 households
    with transaction.atomic():  # the uninterrupted run, rolled back: what the registry must end as
        uninterrupted = importer.import_registry(io.BytesIO(data), "登记表.csv", user=world.village_cadre)
        expected = registry_snapshot()
        transaction.set_rollback(True)
    assert uninterrupted.households_created == 600 and uninterrupted.ok
    (slow,) = celery_workers(1, app=SLOW, FAULT_DELAY_SECONDS="3")
    publish_to(slow.queue)
    client.force_login(world.village_cadre)
    post_upload(client, data, "登记表.csv")
    job = ImportJob.objects.get()

    # Killed while writing, after the first batch committed and before the last.
    wait_for(lambda: ImportJob.objects.filter(pk=job.pk, step="write", rows_done__gt=0).exists(), [slow], "first batch")
    kill(slow)
    saved = Household.objects.filter(number__startswith="J").count()
    assert 0 < saved < 600, "the kill landed between two batches"
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.RUNNING  # left behind by the dead worker

    (replacement,) = celery_workers(1, queue=slow.queue)
    assert import_jobs.import_jobs_sweep(now=timezone.now() + LATER) == (0, 1)
    wait_for(
        lambda: ImportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(), [replacement], "rerun"
    )

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error_message
    assert registry_snapshot() == expected  # no household or member twice, none missing, same values
    assert job.attempt == 2
    report = job.report
    assert report["households_created"] + report["households_updated"] == 600 and report["ok"]
    assert report["members_created"] + report["members_updated"] == 1200
    assert report["households_updated"] == saved  # the stopped run's households, found, not saved twice
    page = client.get(f"/households/import/jobs/{job.pk}/").content.decode()
    assert "处理程序曾中断，系统已从上传的文件重新导入（第 2 次）" in page
    assert "导入失败" not in page


def warnings_snapshot():
    return sorted(
        RiskWarning.objects.values_list("id_number", "household_id", "risk_type", "period", "state", "severity")
    )


def test_a_screening_upload_whose_worker_is_killed_mid_chunk_ends_as_an_uninterrupted_run(
    client, world, celery_workers, publish_to, shared_media
):
    client.force_login(world.department_staff)
    # The chunked file of the two-worker test, and a hospital stay over 10,000 元 for each
    # member of the county, which the 医保 rule turns into warnings.
    members = Member.objects.filter(household__village__path__startswith=world.county.path)
    stays = [medical_row(m, day="2026-01-25", total="15000", reimbursed="3000", paid="12000") for m in members]
    data = big_file(world) + csv_bytes(stays, encoding="gbk").split(b"\r\n", 1)[1]
    (worker,) = celery_workers(1, SCREENING_CHUNK_ROWS="40")
    publish_to(worker.queue)
    first = api_upload(client, data).json()["id"]
    wait_for(lambda: ScreeningUpload.objects.filter(pk=first, status="done").exists(), [worker], "first upload")
    uninterrupted = outcome(first)
    rules_ran = wait_for(lambda: worker.log().count("screening.run_upload_rules"), [worker], "rules")
    wait_for(lambda: "succeeded" in worker.log().split("screening.run_upload_rules")[-1], [worker], "rules done")
    warnings = warnings_snapshot()
    assert rules_ran and uninterrupted[0] and warnings, "the file raised warnings"

    (slow,) = celery_workers(1, app=SLOW, SCREENING_CHUNK_ROWS="40", FAULT_DELAY_SECONDS="1")
    publish_to(slow.queue)
    second = api_upload(client, data).json()["id"]
    wait_for(
        lambda: ScreeningChunk.objects.filter(upload_id=second, done=True).exists(), [slow], "first chunk of the second"
    )
    kill(slow)
    upload = ScreeningUpload.objects.get(pk=second)
    assert upload.status == ScreeningUpload.Status.RUNNING and upload.attempt == 1
    assert 0 < upload.chunks.filter(done=True).count() < upload.chunks_total  # killed half way
    # Half a file is never the month's data: the first upload's rows are still the current ones.
    assert ScreeningUpload.objects.get(pk=first).is_current
    assert outcome(first) == uninterrupted

    (replacement,) = celery_workers(1, queue=slow.queue, SCREENING_CHUNK_ROWS="40")
    result = screening_services.uploads_sweep(now=timezone.now() + LATER)
    assert (result.restarted, result.failed) == (1, 0)
    wait_for(
        lambda: ScreeningUpload.objects.filter(pk=second, status__in=["done", "failed"]).exists(),
        [replacement],
        "recovery",
    )
    upload.refresh_from_db()
    assert upload.status == ScreeningUpload.Status.DONE, upload.error_message
    assert upload.attempt == 2 and upload.is_current and upload.progress == 100
    assert outcome(second) == uninterrupted  # every row once, none missing, the same matches and bad rows
    assert not ScreeningRow.objects.filter(upload_id=first).exists()  # replaced, not merged
    assert not ScreeningChunk.objects.filter(upload_id=second).exists()  # no leftovers of either attempt
    wait_for(lambda: "succeeded" in replacement.log().split("screening.run_upload_rules")[-1], [replacement], "rules")
    assert warnings_snapshot() == warnings  # the rules ran again and made no warning twice
    body = client.get(f"/api/screening/uploads/{second}/").json()
    assert body["status"] == "done" and not body["error_message"]
