#!/usr/bin/env bash
# The README's second command: install everything the suite needs and run all of it.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -x -q tests/households`.
# (scripts/check.sh runs the same suite after lint, format and type checks, with coverage.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-dev.sh
exec .venv/bin/python -m pytest "$@"
