"""A real Celery worker answers through the broker (skipped without REDIS_URL)."""

import pytest

pytestmark = pytest.mark.celery_worker


def test_real_worker_answers_ping_through_redis(celery_worker_process):
    assert celery_worker_process.call("fanpin.ping") == "pong"
    assert celery_worker_process.process.poll() is None
    assert "fanpin.ping" in celery_worker_process.log()
