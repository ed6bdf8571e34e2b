"""Fault tests: real worker processes (tests/celery_fixtures.py) on PostgreSQL and Redis,
killed or cut off in the middle of their work. Each test skips, saying why, without them."""

import os

import pytest
from django.db import connection

from fanpin.celery import app as celery_app
from tests.celery_fixtures import BROKER_ENV


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("故障测试需要 PostgreSQL（工作进程与测试共用测试数据库）：设置 DATABASE_URL=postgres://…")


@pytest.fixture
def shared_media(settings, tmp_path, monkeypatch):
    """Uploads in one folder that the test and its worker processes both see."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setenv("MEDIA_ROOT", settings.MEDIA_ROOT)
    return settings.MEDIA_ROOT


@pytest.fixture
def publish_to(monkeypatch, postgres_only):
    """Send this process's tasks to the real broker and the given queue (the suite otherwise
    runs them eagerly), and put everything back afterwards."""

    def publish(queue, broker=None):
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        monkeypatch.setitem(celery_app.conf, "broker_url", broker or os.environ[BROKER_ENV])
        monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
        monkeypatch.setattr(celery_app, "_pool", None)
        monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)

    return publish
