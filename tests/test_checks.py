"""scripts/check.sh, which CI (.ci/run) runs, fails on a lint error, a format difference, a type
error in a checked module and coverage below the floor, and passes on the tree as it is.

Each test runs the script on a copy of the repository with one mistake planted in it, using the
tools of the environment running the suite (FANPIN_VENV). mypy's cache is copied along, so a
type check of the copy takes seconds once the real tree has been checked.
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "media", "staticfiles", "test-artifacts", "htmlcov", "__pycache__", ".coverage*", "*.sqlite3"
)


def floor():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return float(tomllib.load(f)["tool"]["coverage"]["report"]["fail_under"])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    copy = tmp_path_factory.mktemp("pristine") / "fanpin"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED, symlinks=True)
    return copy


@pytest.fixture
def tree(pristine, tmp_path):
    """A fresh copy of the repository for one test to break."""
    copy = tmp_path / "fanpin"
    shutil.copytree(pristine, copy, symlinks=True)
    return copy


def check(tree, *args):
    env = {
        k: v
        for k, v in os.environ.items()
        # The suite's own pytest, xdist and coverage settings must not leak into the child run.
        if not k.startswith(("PYTEST_", "COV_CORE_", "COVERAGE_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env["FANPIN_VENV"] = sys.prefix
    result = subprocess.run(
        ["bash", str(tree / "scripts" / "check.sh"), *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def test_lint_format_and_types_pass_on_the_tree_as_it_is(tree):
    for step in ("lint", "format", "types"):
        code, out = check(tree, step)
        assert code == 0, (step, out)


def test_a_lint_error_fails_the_checks(tree):
    (tree / "households" / "probe.py").write_text('import os\n\n\ndef probe():\n    return "x"\n')

    code, out = check(tree, "lint")
    assert code != 0
    assert "households/probe.py" in out and "F401" in out
    # `all` (what CI runs) stops at the lint step, before any test runs.
    code, out = check(tree, "all")
    assert code != 0 and "F401" in out and "==> mypy" not in out and "==> pytest" not in out


def test_a_format_difference_fails_the_checks(tree):
    (tree / "households" / "probe.py").write_text("def probe():\n    return {'a':1}\n")

    code, out = check(tree, "lint")
    assert code == 0, out  # valid code, only badly laid out
    code, out = check(tree, "format")
    assert code != 0
    assert "households/probe.py" in out


def test_a_type_error_in_a_checked_module_fails_the_checks(tree):
    services = tree / "households" / "services.py"
    services.write_text(
        services.read_text(encoding="utf-8")
        + '\n\ndef household_probe(*, user: User) -> int:\n    return "not a number"\n',
        encoding="utf-8",
    )

    code, out = check(tree, "types")
    assert code != 0
    assert re.search(r"households/services\.py:\d+: error: .*\[return-value\]", out), out


def test_checked_modules_are_strict_and_the_others_lenient(tree):
    probe = "\n\ndef probe(value):\n    return value\n"
    for path in ("households/views.py", "monitoring/forms.py"):
        (tree / path).write_text((tree / path).read_text(encoding="utf-8") + probe, encoding="utf-8")
    code, out = check(tree, "types")
    assert code == 0, out  # an unannotated function is fine outside the strict set

    # A new app's services module is strict the day it is created (module pattern *.services).
    (tree / "screening" / "services.py").write_text('"""Probe."""' + probe, encoding="utf-8")
    (tree / "monitoring" / "criteria.py").write_text(
        (tree / "monitoring" / "criteria.py").read_text(encoding="utf-8") + probe, encoding="utf-8"
    )
    code, out = check(tree, "types")
    assert code != 0
    for path in ("screening/services.py", "monitoring/criteria.py"):
        assert re.search(rf"{re.escape(path)}:\d+: error: Function is missing a type annotation", out), out


def test_coverage_below_the_floor_fails_the_checks(tree):
    # One test file passes, but it covers a small part of the code: below the floor.
    code, out = check(tree, "tests", "-q", "-p", "no:cacheprovider", "tests/households/test_idnumber.py")
    assert code != 0
    assert re.search(r"\b\d+ passed\b", out) and " failed" not in out, out
    assert f"Required test coverage of {floor():.1f}% not reached" in out, out
