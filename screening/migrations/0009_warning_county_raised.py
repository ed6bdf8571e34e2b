from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0008_row_upload_index_dropped"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="riskwarning",
            index=models.Index(fields=["county", "raised_on", "id"], name="warning_county_raised"),
        ),
        migrations.AddIndex(
            model_name="riskwarning",
            index=models.Index(
                condition=models.Q(("withdrawn_at__isnull", True)),
                fields=["county", "state", "severity", "verified_tier", "raised_on"],
                name="warning_tier_counts",
            ),
        ),
    ]
