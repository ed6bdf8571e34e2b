"""The household's village and last visit kept on the case (issue 15), filled for the cases
already there: in one UPDATE each, whatever the number of cases."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery


def backfill(apps, schema_editor):
    MonitoringCase = apps.get_model("monitoring", "MonitoringCase")
    Household = apps.get_model("households", "Household")
    Visit = apps.get_model("monitoring", "Visit")
    last = (
        Visit.objects.filter(household=OuterRef("household_id"))
        .order_by()
        .values("household")
        .annotate(last=Max("visited_on"))
        .values("last")
    )
    MonitoringCase.objects.update(
        village_id=Subquery(Household.objects.filter(pk=OuterRef("household_id")).values("village_id")[:1]),
        last_visit_on=Subquery(last[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0009_scale_indexes"),
        ("monitoring", "0008_declarations"),
    ]

    operations = [
        migrations.AddField(
            model_name="monitoringcase",
            name="village",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="households.area",
                verbose_name="村",
            ),
        ),
        migrations.AddField(
            model_name="monitoringcase",
            name="last_visit_on",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="上次走访日期"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
