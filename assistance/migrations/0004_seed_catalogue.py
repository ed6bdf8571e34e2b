"""The default measure catalogue (DOMAIN.md §5; seeds 000, 001 §四, 004 §五).

Data, not code: the county edits, disables or adds types in the admin afterwards. Existing
rows are left as the county changed them (get_or_create by code). Measures recorded before
this migration without a start date get the day they were entered.
"""

from django.db import migrations

from assistance.catalogue import install_default_catalogue



def seed(apps, schema_editor):
    install_default_catalogue(apps.get_model("assistance", "MeasureType"))
    Measure = apps.get_model("assistance", "Measure")
    for measure in Measure.objects.filter(starts_on__isnull=True).only("pk", "created_at"):
        Measure.objects.filter(pk=measure.pk).update(starts_on=measure.created_at.date())


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0003_plan_catalogue_progress"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
