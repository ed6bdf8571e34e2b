#!/usr/bin/env bash
# The README's first command: set up, migrate, seed the demo county and serve on 127.0.0.1:8000.
# Defaults to DEBUG=1 on a SQLite file with Celery tasks run in-process; set DATABASE_URL /
# REDIS_URL (see README) to use PostgreSQL and a real broker instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    echo "==> 创建虚拟环境 .venv"
    python3 -m venv .venv
fi
echo "==> 安装依赖 (requirements.txt)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

export DEBUG="${DEBUG:-1}"
# The login page lists the demo logins (fanpin/settings.py refuses it without DEBUG).
export DEMO_MODE="${DEMO_MODE:-1}"
export DJANGO_SETTINGS_MODULE=fanpin.settings

echo "==> 迁移数据库"
.venv/bin/python manage.py migrate --noinput
echo "==> 生成演示数据（已存在则跳过）"
.venv/bin/python manage.py seed_demo

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
echo
echo "==> 打开 http://${HOST}:${PORT}/ ，用上面的演示账号登录（Ctrl+C 停止）"
exec .venv/bin/python manage.py runserver "${HOST}:${PORT}"
