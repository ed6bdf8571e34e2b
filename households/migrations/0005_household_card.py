import secrets

import django.core.validators

from django.db import migrations, models

import households.models


def fill_card_tokens(apps, schema_editor):
    Household = apps.get_model("households", "Household")
    for household in Household.objects.filter(card_token__isnull=True).only("pk").iterator():
        Household.objects.filter(pk=household.pk).update(card_token=secrets.token_urlsafe(16))


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0004_registry_clash"),
    ]

    operations = [
        migrations.AddField(
            model_name="area",
            name="hotline",
            field=models.CharField(
                blank=True,
                help_text="印在一户一码卡片上；村未设置时用乡镇的，再用县的",
                max_length=20,
                validators=[
                    django.core.validators.RegexValidator(
                        "^\\d[\\d-]{2,18}\\d$", "电话号码只能包含数字和“-”，如 12317 或 0371-12345678。"
                    )
                ],
                verbose_name="咨询电话",
            ),
        ),
        migrations.AddField(
            model_name="household",
            name="card_token",
            field=models.CharField(editable=False, max_length=32, null=True, verbose_name="一户一码标识"),
        ),
        migrations.RunPython(fill_card_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="household",
            name="card_token",
            field=models.CharField(
                default=households.models.new_card_token,
                editable=False,
                max_length=32,
                unique=True,
                verbose_name="一户一码标识",
            ),
        ),
    ]
