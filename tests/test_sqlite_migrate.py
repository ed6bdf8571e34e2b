"""The README's first command runs the app on SQLite whatever database the suite runs on: every
migration must apply there too (a PostgreSQL-only construct, such as an index with NULLS FIRST,
once stopped `migrate` of the SQLite demo while the suite on PostgreSQL stayed green)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_migration_applies_on_a_new_sqlite_database(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH") and not k.startswith("DJANGO_")
    }
    env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Applying monitoring.0011" in result.stdout
