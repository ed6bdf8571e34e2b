"""Redis restarted while files are uploaded and processed (issue 14, faults survived).

Never against the machine's shared Redis: each test starts its own `redis-server` on a free
port (no persistence, so a restart loses every queued message, as a crash would) and stops
and starts that one. The upload completes, or would fail with a clear message; it is never
half stored and never half processed.
"""

import shutil
import socket
import subprocess
import time

import pytest
from django.utils import timezone

from households import import_jobs
from households.broker import WAITING_NOTICE
from households.models import ImportJob, Member
from screening import services as screening_services
from screening.models import ScreeningChunk, ScreeningRow, ScreeningUpload
from tests.celery_fixtures import BROKER_ENV
from tests.faults.test_worker_killed import LATER, SLOW, registry_csv, wait_for
from tests.households.uploads import post_upload
from tests.screening.helpers import api_upload
from tests.screening.test_workers import big_file

pytestmark = pytest.mark.celery_worker


class PrivateRedis:
    def __init__(self, binary, port, log_path):
        self.binary, self.port, self.log_path = binary, port, log_path
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # as a crash: nothing saved, every message and chord counter gone
            self.process.wait(timeout=10)

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture
def private_redis(tmp_path, monkeypatch, postgres_only):
    """A redis-server of this test only, on a free port; the worker fixtures use it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "需要 redis-server 程序（apt-get install redis-server）：本测试启动并重启自己的 Redis，绝不动共用的那个"
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    redis = PrivateRedis(binary, port, tmp_path / "redis.log")
    redis.start()
    monkeypatch.setenv(BROKER_ENV, redis.url)
    try:
        yield redis
    finally:
        redis.stop()


def expected_counts(world):
    members = Member.objects.filter(household__village__path__startswith=world.county.path).count()
    return members * 20 - 1, 300, 42  # big_file: matched, unmatched, invalid


def finished(upload_id, workers, what):
    wait_for(
        lambda: ScreeningUpload.objects.filter(pk=upload_id, status__in=["done", "failed"]).exists(), workers, what
    )
    return ScreeningUpload.objects.get(pk=upload_id)


def test_a_file_uploaded_while_redis_is_down_is_kept_the_user_is_told_and_it_is_processed_once_redis_is_back(
    client, world, celery_workers, publish_to, private_redis, shared_media
):
    (worker,) = celery_workers(1)
    publish_to(worker.queue, broker=private_redis.url)
    expected = expected_counts(world)  # before the registry import below adds members
    private_redis.stop()

    client.force_login(world.department_staff)
    started = time.monotonic()
    response = api_upload(client, big_file(world))
    assert time.monotonic() - started < 30  # the publish retries give up; the person is not kept waiting
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["status"] == "queued" and body["notices"] == [WAITING_NOTICE]
    upload = ScreeningUpload.objects.get(pk=body["id"])
    assert upload.file.size > 0  # the file is stored, not half
    assert WAITING_NOTICE in client.get(f"/screening/uploads/{upload.pk}/").content.decode()

    client.force_login(world.village_cadre)
    page = post_upload(client, registry_csv(households=3, members=2), "登记表.csv")
    job = ImportJob.objects.get()
    assert page.status_code == 302 and job.status == ImportJob.Status.QUEUED and job.notice == WAITING_NOTICE
    assert WAITING_NOTICE in client.get(page["Location"]).content.decode()

    private_redis.start()  # back, empty: nothing was queued while it was away
    assert import_jobs.import_jobs_sweep(now=timezone.now() + LATER) == (0, 1)
    assert screening_services.uploads_sweep(now=timezone.now() + LATER).resent == 1
    upload = finished(upload.pk, [worker], "the upload after Redis came back")
    assert upload.status == ScreeningUpload.Status.DONE, upload.error_message
    assert (upload.rows_matched, upload.rows_unmatched, upload.rows_invalid) == expected
    assert upload.notices == [] and upload.attempt == 1
    wait_for(lambda: ImportJob.objects.filter(pk=job.pk, status="done").exists(), [worker], "the import")
    job.refresh_from_db()
    assert job.report["households_created"] == 3 and job.notice == ""


def test_redis_restarted_while_a_file_is_processed_the_upload_completes_whole(
    client, world, celery_workers, publish_to, private_redis, shared_media
):
    (worker,) = celery_workers(1, app=SLOW, SCREENING_CHUNK_ROWS="40", FAULT_DELAY_SECONDS="0.5")
    publish_to(worker.queue, broker=private_redis.url)
    client.force_login(world.department_staff)
    upload_id = api_upload(client, big_file(world)).json()["id"]
    wait_for(lambda: ScreeningChunk.objects.filter(upload_id=upload_id, done=True).exists(), [worker], "a chunk")

    private_redis.restart()  # the chord's messages and its counter are gone

    # The worker reconnects and stays up; beat's sweep finds the upload stalled and runs it again.
    time.sleep(2)
    assert worker.process.poll() is None, worker.log()
    upload = ScreeningUpload.objects.get(pk=upload_id)
    assert upload.status == ScreeningUpload.Status.RUNNING and not upload.is_current  # half is never current
    result = screening_services.uploads_sweep(now=timezone.now() + LATER)
    assert (result.restarted, result.failed) == (1, 0)
    upload = finished(upload_id, [worker], "the upload after the restart")

    assert upload.status == ScreeningUpload.Status.DONE, upload.error_message
    assert upload.is_current and upload.progress == 100 and upload.attempt == 2
    assert (upload.rows_matched, upload.rows_unmatched, upload.rows_invalid) == expected_counts(world)
    assert ScreeningRow.objects.filter(upload_id=upload_id).count() == upload.rows_matched + upload.rows_unmatched
    assert not ScreeningChunk.objects.filter(upload_id=upload_id).exists()
