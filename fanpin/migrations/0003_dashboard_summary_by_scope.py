"""The dashboard's stored figures are keyed by scope, not by user (issue 15 review): users with
the same roles and areas share one count, and a user whose scope changed reads another row. The
stored figures are a cache counted again on the next visit: the old per-user rows are dropped."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def drop_stored_figures(apps, schema_editor):
    apps.get_model("fanpin", "DashboardSummary").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("fanpin", "0002_dashboard_summary"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(model_name="dashboardsummary", name="user"),
        migrations.RunPython(drop_stored_figures, migrations.RunPython.noop),
        migrations.AddField(
            model_name="dashboardsummary",
            name="scope",
            field=models.CharField(default="", max_length=64, unique=True, verbose_name="统计范围"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="dashboardsummary",
            name="counted_for",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="统计用户",
            ),
        ),
    ]
