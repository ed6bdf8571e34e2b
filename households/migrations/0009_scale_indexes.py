"""County-scale indexes (issue 15).

The household list leads with the area: (village, number) including the id, so a page of
ids is an index-only read. Search by a part of a name, an ID number or a household number
uses trigram indexes (pg_trgm, GIN) on PostgreSQL; they are created here and not declared on the
models, so SQLite (which has neither GIN nor pg_trgm) keeps working without them and a
table rebuilt by SQLite's schema editor never tries to re-create them.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

# (table, column, index name): Django's icontains/istartswith compare UPPER(column), so the
# GIN indexes hold that expression with gin_trgm_ops.
TRIGRAM_INDEXES = [
    ("households_household", "number", "household_number_trgm"),
    ("households_member", "name", "member_name_trgm"),
    ("households_member", "id_number", "member_id_number_trgm"),
]


def add_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, name in TRIGRAM_INDEXES:
        schema_editor.execute(f'CREATE INDEX "{name}" ON "{table}" USING gin (UPPER("{column}"::text) gin_trgm_ops)')


def remove_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0008_asset_department_kinds"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="household", name="households__village_0d65cb_idx"),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(fields=["village", "number"], include=["id"], name="household_village_number"),
        ),
        TrigramExtension(),
        migrations.RunPython(add_trigram_indexes, remove_trigram_indexes),
    ]
