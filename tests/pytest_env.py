"""Loaded with -p before Django is configured: test-only environment defaults."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DEBUG", "0")
# Playwright's sync API runs an event loop in the test thread; live_server tests need this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Tasks run eagerly in tests whatever the environment says: with REDIS_URL set (as in CI) they
# would otherwise be queued for a worker that is not running. Only the real-worker test
# (tests/celery_fixtures.py) uses the broker, under this name.
if os.environ.get("REDIS_URL"):
    os.environ.setdefault("FANPIN_TEST_REDIS_URL", os.environ.pop("REDIS_URL"))
