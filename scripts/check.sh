#!/usr/bin/env bash
# The code's own checks, the ones CI (.ci/run) runs, in this order, stopping at the first
# that fails: lint (ruff check), format (ruff format --check), types (mypy, strict on the
# services, selectors, importer and workflow criteria; see pyproject.toml), then the whole
# suite with branch coverage, which fails below the floor set in pyproject.toml.
#
#   bash scripts/check.sh                  # install (scripts/install-dev.sh), then all four
#   bash scripts/check.sh lint|format|types  # one check, nothing installed
#   bash scripts/check.sh tests [pytest args]  # the suite with coverage and its floor
#   bash scripts/check.sh all [pytest args]  # all four without installing
#
# Extra arguments after the step go to pytest (e.g. -n 2). The tools come from .venv, or from
# the environment named by FANPIN_VENV (tests/test_checks.py runs this script on a copy).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step="${1:-install-all}"
[ $# -gt 0 ] && shift
VENV="${FANPIN_VENV:-.venv}"
PY="$VENV/bin/python"

lint() {
    echo "==> ruff check"
    "$PY" -m ruff check --no-cache .
}
format() {
    echo "==> ruff format --check"
    "$PY" -m ruff format --check --no-cache .
}
types() {
    echo "==> mypy"
    # Settings need a key when DEBUG is off; mypy's Django plugin only imports them.
    SECRET_KEY="${SECRET_KEY:-mypy-only-not-a-secret}" "$PY" -m mypy
}
tests() {
    echo "==> pytest --cov (floor: [tool.coverage.report] fail_under)"
    mkdir -p test-artifacts
    "$PY" -m pytest --cov --cov-report=term:skip-covered "$@"
}

case "$step" in
    lint) lint ;;
    format) format ;;
    types) types ;;
    tests) tests "$@" ;;
    all) lint; format; types; tests "$@" ;;
    install-all)
        bash scripts/install-dev.sh
        lint; format; types; tests "$@"
        ;;
    *)
        echo "usage: bash scripts/check.sh [lint|format|types|tests|all] [pytest args]" >&2
        exit 2
        ;;
esac
