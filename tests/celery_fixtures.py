"""A real Celery worker process for tests that must cross the broker.

The rest of the suite runs tasks eagerly (tests/pytest_env.py moves REDIS_URL aside), so this
is the one place where a task travels through Redis to a separate worker process, which
reads pytest-django's test database. tests/conftest.py registers this module as a pytest
plugin, so any test can ask for the fixture by name:

    @pytest.mark.celery_worker
    def test_something(celery_worker_process):
        assert celery_worker_process.call("fanpin.ping") == "pong"
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

BROKER_ENV = "FANPIN_TEST_REDIS_URL"


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    client: Celery
    queue: str
    log_path: Path

    def call(self, name, *args, timeout=60, **kwargs):
        """Send task `name` to this worker only and return its result."""
        result = self.client.send_task(name, args=args, kwargs=kwargs, queue=self.queue)
        deadline = time.monotonic() + timeout
        while not result.ready():
            if self.process.poll() is not None:
                pytest.fail(f"Celery worker exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Celery worker gave no result for {name} in {timeout}s:\n{self.log()}")
            time.sleep(0.1)
        return result.get(timeout=1)

    def log(self):
        return self.log_path.read_text(errors="replace")[-5000:]


def _database_url(db):
    """A DATABASE_URL (as fanpin.settings reads it) for the test database of this process."""
    if db["ENGINE"].endswith("postgresql"):
        credentials = quote(db["USER"] or "", safe="")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = f"{credentials}@" if credentials else ""
        return f"postgres://{host}{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db["ENGINE"].endswith("sqlite3") and not connection.is_in_memory_db():
        return f"sqlite:///{db['NAME']}"
    pytest.skip(
        "Celery worker 是另一个进程，无法打开内存中的 SQLite 测试数据库：请设置 "
        "DATABASE_URL=postgres://…（.ci/run 即如此）"
    )


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A `celery worker` subprocess on its own queue, pointed at the test database.

    transactional_db: the worker sees only committed rows. The queue is unique per test so
    that a developer's running worker, or a parallel pytest-xdist process, cannot take the
    tasks meant for this one.
    """
    queue = f"fanpin-test-{uuid.uuid4().hex[:12]}"
    process, client = start_worker(queue, tmp_path / "celery-worker.log")
    try:
        yield WorkerProcess(process=process, client=client, queue=queue, log_path=tmp_path / "celery-worker.log")
    finally:
        client.close()
        _stop(process)


@pytest.fixture
def celery_workers(transactional_db, tmp_path):
    """Start worker processes on demand: `celery_workers(2, SOME_SETTING="…")` starts two
    workers on one new queue (as two machines would share a queue) and returns them; tasks
    the workers send themselves (a chord's parts) go to that queue too. All stop at teardown."""
    started = []

    def start(count=1, queue=None, app="fanpin", **env):
        # queue: join the queue of workers started earlier (a replacement for a killed one);
        # app: the Celery app module to run (tests/faults runs the project's app slowed down).
        queue = queue or f"fanpin-test-{uuid.uuid4().hex[:12]}"
        workers = []
        first = sum(w.queue == queue for w in started)
        for number in range(first, first + count):
            log_path = tmp_path / f"celery-worker-{queue}-{number}.log"
            process, client = start_worker(queue, log_path, name=f"{queue}-{number}", app=app, **env)
            worker = WorkerProcess(process=process, client=client, queue=queue, log_path=log_path)
            started.append(worker)
            workers.append(worker)
        return workers

    try:
        yield start
    finally:
        for worker in started:
            worker.client.close()
            _stop(worker.process)


def start_worker(queue, log_path, name=None, app="fanpin", **extra_env):
    """A solo worker process consuming `queue` only, which also sends its own tasks there."""
    broker = os.environ.get(BROKER_ENV)
    if not broker:
        pytest.skip("需要真实的 Redis broker：设置 REDIS_URL（例如 redis://127.0.0.1:6379/0）后运行；.ci/run 会设置它")
    database_url = _database_url(connection.settings_dict)
    env = {
        **os.environ,
        "REDIS_URL": broker,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "PYTHONUNBUFFERED": "1",
        "CELERY_QUEUE": queue,
        **extra_env,
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                app,
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                queue,
                "-n",
                f"{name or queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown can end all of it
        )
    return process, Celery("fanpin-test-client", broker=broker, backend=broker)


def _stop(process):
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # warm shutdown
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
