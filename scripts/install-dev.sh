#!/usr/bin/env bash
# Installs what the suite and the checks need: .venv with requirements-dev.txt (pytest, ruff,
# mypy and the stubs, all pinned), and Debian's Chromium and a CJK font for the browser tests.
# scripts/test.sh and scripts/check.sh run it first; running it again only re-checks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    echo "==> 创建虚拟环境 .venv"
    python3 -m venv .venv
fi
echo "==> 安装依赖 (requirements-dev.txt)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Browser tests drive Debian's Chromium (Playwright never downloads a browser here); the
# WenQuanYi font renders the Chinese UI in screenshots. Without apt-get the browser tests
# skip with the reason (tests/browser/conftest.py) instead of failing.
missing=""
[ -x /usr/bin/chromium ] || missing="chromium"
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then
    missing="$missing fonts-wqy-microhei"
fi
if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
        echo "==> 安装$missing (apt-get)"
        # shellcheck disable=SC2086 # $missing is a list of package names
        if ! { $SUDO apt-get update -qq \
               && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing; }; then
            echo "!! apt-get 安装失败：缺少 Chromium 时浏览器测试将被跳过" >&2
        fi
    else
        echo "!! 没有 apt-get 或权限：缺少 Chromium 时浏览器测试将被跳过" >&2
    fi
fi
mkdir -p test-artifacts
