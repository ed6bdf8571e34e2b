"""The monitored cases in order of their last visit, never visited first: the inbox's 走访超期
panel walks it (issue 15)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0010_case_village_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="monitoringcase",
            index=models.Index(
                models.OrderBy(models.F("last_visit_on"), nulls_first=True),
                condition=models.Q(("state", "monitored")),
                name="case_monitored_last_visit_idx",
            ),
        ),
    ]
