"""The monitored cases in order of their last visit, never visited first: the inbox's 走访超期
panel walks it (issue 15).

PostgreSQL only, created here and not declared on the model: SQLite (3.40 here) refuses NULLS
FIRST in an index ("unsupported use of NULLS FIRST"), so a declared index broke `migrate` of the
SQLite demo and would break any later table rebuild by SQLite's schema editor; SQLite sorts
NULL first in ascending order anyway and its databases are small. As households 0009's trigram
indexes."""

from django.db import migrations

INDEX = "case_monitored_last_visit_idx"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "monitoring_monitoringcase" '
        "(\"last_visit_on\" ASC NULLS FIRST) WHERE \"state\" = 'monitored'"
    )


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0010_case_village_index"),
    ]

    operations = [
        migrations.RunPython(add_index, remove_index),
    ]
