# Measures point at the catalogue (the column keeps its name and its codes), start dates are
# required, and one measure per type and start date (a double submit cannot plan it twice).

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('assistance', '0004_seed_catalogue'),
    ]

    operations = [
        migrations.AlterField(
            model_name='measure',
            name='starts_on',
            field=models.DateField(default=django.utils.timezone.localdate, verbose_name='开始日期'),
        ),
        migrations.AlterField(
            model_name='measure',
            name='measure_type',
            field=models.ForeignKey(db_column='measure_type', on_delete=django.db.models.deletion.PROTECT, related_name='measures', to='assistance.measuretype', to_field='code', verbose_name='措施类型'),
        ),
        migrations.AddIndex(
            model_name='measure',
            index=models.Index(fields=['contact_person', 'status'], name='assistance__contact_4d0924_idx'),
        ),
        migrations.AddConstraint(
            model_name='measure',
            constraint=models.CheckConstraint(condition=models.Q(('ends_on__isnull', True), ('ends_on__gte', models.F('starts_on')), _connector='OR'), name='measure_ends_after_start'),
        ),
        migrations.AddConstraint(
            model_name='measure',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'stopped'), _negated=True), fields=('case', 'measure_type', 'starts_on'), name='measure_once_per_type_and_start', violation_error_message='该户已有同一类型、同一开始日期的帮扶措施。'),
        ),
    ]
