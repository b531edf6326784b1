# Lead.name_key and its (company, name_key) index, which also serves lookups by company
# alone (so the foreign key needs no index of its own). 0003 fills it for existing rows.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_company_idx',
        ),
        migrations.AddField(
            model_name='lead',
            name='name_key',
            field=models.CharField(blank=True, editable=False, max_length=601),
        ),
        migrations.AlterField(
            model_name='lead',
            name='company',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='leads', to='leads.company'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(fields=['company', 'name_key'], name='lead_company_name_idx'),
        ),
    ]
