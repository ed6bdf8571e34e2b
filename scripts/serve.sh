#!/usr/bin/env bash
# Production: gunicorn (web), a Celery worker and Celery beat against DATABASE_URL and
# REDIS_URL, DEBUG off, static files by WhiteNoise, every log line on stdout/stderr.
# See README "Production". Stops all three when any one stops (or on Ctrl+C / SIGTERM), so
# a supervisor (systemd, a container runtime) restarts the whole set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

: "${DATABASE_URL:?DATABASE_URL must be set (postgres://user:password@host:5432/fanpin)}"
: "${REDIS_URL:?REDIS_URL must be set (redis://host:6379/0)}"
: "${SECRET_KEY:?SECRET_KEY must be set (a long random string)}"
: "${ALLOWED_HOSTS:?ALLOWED_HOSTS must be set (the site name, e.g. fanpin.example.gov.cn)}"
export DEBUG=0 DJANGO_SETTINGS_MODULE=fanpin.settings PYTHONUNBUFFERED=1

if [ ! -x .venv/bin/python ]; then
    echo "==> 创建虚拟环境 .venv"
    python3 -m venv .venv
fi
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    echo "==> 安装依赖 (requirements.txt)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
fi

echo "==> 迁移数据库、收集静态文件、部署检查"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py check --deploy

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
pids=()
stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait || true
}
trap stop INT TERM EXIT

.venv/bin/celery -A fanpin worker --loglevel="${LOG_LEVEL:-INFO}" --concurrency="${CELERY_CONCURRENCY:-2}" &
pids+=($!)
.venv/bin/celery -A fanpin beat --loglevel="${LOG_LEVEL:-INFO}" &
pids+=($!)
# WEB_CONCURRENCY (gunicorn reads it) sets the number of web workers, 2 by default here.
.venv/bin/gunicorn fanpin.wsgi --bind "${HOST}:${PORT}" --workers "${WEB_CONCURRENCY:-2}" \
    --access-logfile - --error-logfile - --timeout "${GUNICORN_TIMEOUT:-60}" \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" &
pids+=($!)
echo "==> 已启动：http://${HOST}:${PORT}/ （gunicorn ${pids[2]}，worker ${pids[0]}，beat ${pids[1]}）"

# Whichever process ends first ends the set.
set +e
wait -n
status=$?
echo "!! 有进程退出（$status），停止其余进程" >&2
exit "$status"
