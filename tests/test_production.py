"""The production run (issue 14, "What to build" item 1): `check --deploy` is clean with the
README's HTTPS-behind-a-proxy settings, /healthz reports database, Redis and worker, and
`bash scripts/serve.sh` runs gunicorn, a worker and beat that answer."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
README_HTTPS_ENV = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "fanpin.example.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://fanpin.example.gov.cn",
    "BEHIND_HTTPS_PROXY": "1",
}


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "FANPIN_TEST"))}
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    return {**env, "SECRET_KEY": secrets.token_urlsafe(50), **extra}


def test_check_deploy_is_clean_with_the_readme_https_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_env(**README_HTTPS_ENV),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_them():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_env(DEBUG="0", ALLOWED_HOSTS="fanpin.example.gov.cn"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS


def test_healthz_is_200_with_no_secrets_when_everything_answers(db, settings):
    settings.REDIS_URL = ""
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert "no-store" in response["Cache-Control"]
    text = json.dumps(body)
    assert "postgres" not in text and "redis://" not in text and settings.SECRET_KEY not in text


def test_healthz_is_503_when_redis_does_not_answer(db, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"] == "unreachable"
    assert str(port) not in response.content.decode()


def test_healthz_is_503_when_the_database_does_not_answer(db, settings, monkeypatch):
    settings.REDIS_URL = ""

    from django.db import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:  # undone before the test database is torn down
        patch.setattr(connection, "cursor", broken)
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


@pytest.mark.celery_worker
@pytest.mark.postgres
def test_serve_script_runs_web_worker_and_beat_in_production_mode(tmp_path):
    broker = os.environ.get("FANPIN_TEST_REDIS_URL")
    if connection.vendor != "postgresql" or not broker:
        pytest.skip("需要 PostgreSQL（DATABASE_URL）和 Redis（REDIS_URL）：.ci/run 会设置它们")
    import psycopg2

    params = connection.settings_dict
    name = f"fanpin_serve_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(
        dbname="postgres", user=params["USER"], password=params["PASSWORD"], host=params["HOST"], port=params["PORT"]
    )
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    port = _free_port()
    env = _env(
        DATABASE_URL=f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}",
        REDIS_URL=broker,
        ALLOWED_HOSTS="127.0.0.1",
        PORT=str(port),
        SKIP_INSTALL="1",
        MEDIA_ROOT=str(tmp_path / "media"),
        WEB_CONCURRENCY="1",
        CELERY_CONCURRENCY="1",
    )
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                status, body, _ = _get(f"http://127.0.0.1:{port}/healthz")
                health = (status, json.loads(body))
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert health and health[0] == 200, (health, (tmp_path / "serve.log").read_text()[-3000:])
        assert health[1] == {"database": "ok", "redis": "ok", "worker": "ok", "status": "ok"}
        status, body, headers = _get(f"http://127.0.0.1:{port}/static/css/app.css")
        assert status == 200 and body  # WhiteNoise, DEBUG off
        status, body, headers = _get(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200 and "登录".encode() in body
        assert "Traceback" not in _get(f"http://127.0.0.1:{port}/no-such-page/")[1].decode()
        output = (tmp_path / "serve.log").read_text()
        assert "celery@" in output and "beat" in output.lower() and "GET /healthz" in output
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        time.sleep(1)
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
