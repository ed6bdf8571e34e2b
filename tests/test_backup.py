"""Data safety (issue 14 "What to build" item 4): scripts/backup.sh dumps PostgreSQL and the
media folder, scripts/restore.sh brings both back into an empty database, once, for real."""

import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def _url(params, name):
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"


@pytest.mark.postgres
def test_backup_then_restore_gives_back_the_households_and_the_files(transactional_db, world, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL：设置 DATABASE_URL=postgres://…")
    params = connection.settings_dict
    media = tmp_path / "media"
    (media / "visits" / "2026" / "01").mkdir(parents=True)
    (media / "visits" / "2026" / "01" / "p.jpg").write_bytes(b"photo-bytes")
    backups = tmp_path / "backups"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": _url(params, params["NAME"]), "MEDIA_ROOT": str(media)}
    made = subprocess.run(
        ["bash", "scripts/backup.sh"], cwd=ROOT, env={**env, "BACKUP_DIR": str(backups)}, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip().splitlines()[-1])
    assert (backup / "db.dump").stat().st_size > 0 and (backup / "SHA256SUMS").exists()

    name = f"fanpin_restore_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(
        dbname="postgres", user=params["USER"], password=params["PASSWORD"], host=params["HOST"], port=params["PORT"]
    )
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        restored_media = tmp_path / "restored-media"
        restore_env = {**env, "DATABASE_URL": _url(params, name), "MEDIA_ROOT": str(restored_media)}
        done = subprocess.run(
            ["bash", "scripts/restore.sh", str(backup)], cwd=ROOT, env=restore_env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert (restored_media / "visits" / "2026" / "01" / "p.jpg").read_bytes() == b"photo-bytes"
        with psycopg2.connect(_url(params, name)) as restored:
            cursor = restored.cursor()
            cursor.execute("select number from households_household order by number")
            numbers = [row[0] for row in cursor.fetchall()]
            cursor.execute("select count(*) from households_member")
            members = cursor.fetchone()[0]
        restored.close()
        assert numbers == sorted(
            h.number for h in (world.household_a1, world.household_a2, world.household_b1, world.household_other)
        )
        assert members == 8
        # A second restore into the now filled database is refused: nothing is overwritten.
        again = subprocess.run(
            ["bash", "scripts/restore.sh", str(backup)], cwd=ROOT, env=restore_env, capture_output=True, text=True
        )
        assert again.returncode == 3 and "不是空的" in again.stderr
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
