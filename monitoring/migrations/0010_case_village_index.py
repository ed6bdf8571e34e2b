"""The case's village required and indexed with the state (issue 15). Apart from 0009: on
PostgreSQL a table whose foreign keys were just updated cannot be altered in the same
transaction (pending trigger events)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0009_case_village_last_visit"),
    ]

    operations = [
        migrations.AlterField(
            model_name="monitoringcase",
            name="village",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="households.area",
                verbose_name="村",
            ),
        ),
        migrations.AddIndex(
            model_name="monitoringcase",
            index=models.Index(fields=["village", "state", "last_visit_on"], name="case_village_state_idx"),
        ),
    ]
