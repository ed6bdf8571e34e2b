"""Settings come from the environment; a bad value must stop the start with a clear message.
Each case imports the settings module in a fresh interpreter, as a deployment would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "SQLITE_PATH",
    "TIME_ZONE",
    "LOG_LEVEL",
    "DEMO_MODE",
)


def load_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES and not k.startswith("DJANGO_")}
    clean.update(env)
    code = (
        "import json, fanpin.settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in "
        "('DEBUG', 'CELERY_TASK_ALWAYS_EAGER', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND', 'ALLOWED_HOSTS', "
        "'TIME_ZONE', 'LANGUAGE_CODE')}))"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def assert_refused(result, *fragments):
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def loaded(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_must_be_a_boolean():
    assert_refused(load_settings(DEBUG="maybe", SECRET_KEY="k"), "DEBUG must be a boolean", "'maybe'")


def test_secret_key_is_required_without_debug():
    assert_refused(load_settings(DEBUG="0"), "SECRET_KEY must be set when DEBUG is off")


def test_debug_gets_a_development_key_and_local_hosts():
    settings = loaded(load_settings(DEBUG="1"))
    assert settings["DEBUG"] is True
    assert "127.0.0.1" in settings["ALLOWED_HOSTS"]


def test_database_url_must_be_a_database_url():
    assert_refused(load_settings(DEBUG="1", DATABASE_URL="nonsense://"), "DATABASE_URL is not a valid database URL")


def test_redis_url_must_be_a_redis_url():
    assert_refused(load_settings(DEBUG="1", REDIS_URL="http://x"), "REDIS_URL must start with redis://", "'http://x'")


def test_without_redis_tasks_run_eagerly_in_process():
    settings = loaded(load_settings(DEBUG="1"))
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True
    assert settings["CELERY_BROKER_URL"] == "memory://"


def test_with_redis_the_broker_is_that_url():
    settings = loaded(load_settings(DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/3"))
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is False
    assert settings["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert settings["CELERY_RESULT_BACKEND"] == "redis://127.0.0.1:6379/3"


@pytest.mark.parametrize("value", ["postgres://postgres@127.0.0.1:5432/fanpin", "sqlite:////tmp/fanpin-test.sqlite3"])
def test_valid_database_urls_are_accepted(value):
    loaded(load_settings(DEBUG="1", DATABASE_URL=value))


def test_time_zone_and_language_default_to_china():
    settings = loaded(load_settings(DEBUG="1"))
    assert (settings["TIME_ZONE"], settings["LANGUAGE_CODE"]) == ("Asia/Shanghai", "zh-hans")


def test_time_zone_must_be_a_known_zone():
    assert_refused(load_settings(DEBUG="1", TIME_ZONE="Beijing"), "TIME_ZONE must be an IANA time zone", "'Beijing'")


def test_log_level_must_be_a_logging_level():
    assert_refused(load_settings(DEBUG="1", LOG_LEVEL="loud"), "LOG_LEVEL must be DEBUG, INFO", "'LOUD'")


def test_demo_mode_is_refused_without_debug():
    """DEMO_MODE lists the demo logins on the login page: never in a production deployment."""
    assert_refused(load_settings(DEBUG="0", SECRET_KEY="k", DEMO_MODE="1"), "DEMO_MODE=1", "never production")
    assert loaded(load_settings(DEBUG="1", DEMO_MODE="1"))["DEBUG"] is True
