"""Screening through real Celery workers on Redis: an upload end to end, and a chunked file
spread over two worker processes giving exactly the one-worker result (issue 9, point 7)."""

import os
import time

import pytest
from django.db import connection

from fanpin.celery import app as celery_app
from households.models import Member
from screening.models import ScreeningBadRow, ScreeningRow, ScreeningUpload
from tests.celery_fixtures import BROKER_ENV
from tests.screening.helpers import api_upload, csv_bytes, medical_row, person_id

pytestmark = pytest.mark.celery_worker


@pytest.fixture
def publish_to(monkeypatch):
    """Send this process's tasks to the real broker and the workers' queue (the suite otherwise
    runs them eagerly), and put everything back afterwards."""

    def publish(worker):
        if connection.vendor != "postgresql":
            pytest.skip("需要 PostgreSQL：设置 DATABASE_URL=postgres://…")
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        monkeypatch.setitem(celery_app.conf, "broker_url", os.environ[BROKER_ENV])
        monkeypatch.setitem(celery_app.conf, "task_default_queue", worker.queue)
        monkeypatch.setattr(celery_app, "_pool", None)
        monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)

    return publish


def big_file(world):
    members = list(Member.objects.filter(household__village__path__startswith=world.county.path))
    rows = [medical_row(m, day=f"2026-01-{d:02d}") for m in members for d in range(1, 21)]
    rows += [medical_row(person_id(n), day=f"2026-01-{n % 28 + 1:02d}") for n in range(300)]
    rows += [medical_row(members[0], day="2026-01-01", paid="7")]  # conflicts with an earlier row
    rows += [medical_row(person_id(n), total="?") for n in range(1000, 1040)]
    return csv_bytes(rows, encoding="gbk")


def wait_done(client, upload_id, workers, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/screening/uploads/{upload_id}/").json()
        if body["status"] in ("done", "failed"):
            return body
        if time.monotonic() > deadline or any(w.process.poll() is not None for w in workers):
            pytest.fail("the workers did not finish:\n" + "\n".join(w.log() for w in workers))
        time.sleep(0.2)


def outcome(upload_id):
    rows = ScreeningRow.objects.filter(upload_id=upload_id).values_list(
        "row_number", "record_key", "member_id", "household_id", "village_id", "town_id", "amount", "event_date", "data"
    )
    bad = ScreeningBadRow.objects.filter(upload_id=upload_id).values_list("row", "column", "reason")
    return sorted(rows), sorted(bad)


def test_a_real_worker_processes_an_api_upload_through_redis(client, world, celery_workers, publish_to):
    (worker,) = celery_workers(1)
    publish_to(worker)
    client.force_login(world.department_staff)

    response = api_upload(client, big_file(world))

    assert response.status_code == 201 and response.json()["status"] == "queued"
    body = wait_done(client, response.json()["id"], [worker])
    assert body["status"] == "done", body["error_message"]
    members = Member.objects.filter(household__village__path__startswith=world.county.path).count()
    assert body["rows_matched"] == members * 20 - 1  # the conflicting pair is reported, not matched
    assert (body["rows_unmatched"], body["rows_invalid"], body["progress"]) == (300, 42, 100)
    log = worker.log()
    assert "screening.prepare_upload" in log and "screening.process_chunk" in log and "screening.finalize_upload" in log


def test_two_worker_processes_share_a_chunked_file_and_give_the_one_worker_result(
    client, world, celery_workers, publish_to
):
    client.force_login(world.department_staff)
    data = big_file(world)
    (single,) = celery_workers(1, SCREENING_CHUNK_ROWS="1000000")
    publish_to(single)
    first = api_upload(client, data).json()["id"]
    assert wait_done(client, first, [single])["status"] == "done"
    one_worker = outcome(first)
    assert ScreeningUpload.objects.get(pk=first).chunks_total == 1

    pair = celery_workers(2, SCREENING_CHUNK_ROWS="40")
    publish_to(pair[0])
    second = api_upload(client, data).json()["id"]
    body = wait_done(client, second, pair)

    assert body["status"] == "done", body["error_message"]
    assert ScreeningUpload.objects.get(pk=second).chunks_total > 10
    assert outcome(second) == one_worker
    assert all("screening.process_chunk" in w.log() for w in pair), "both workers processed chunks"
    assert list(ScreeningUpload.objects.filter(is_current=True).values_list("pk", flat=True)) == [second]
    assert not ScreeningRow.objects.filter(upload_id=first).exists()  # replaced
