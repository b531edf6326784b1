# The form builder's per-form submission counts and the inbox's form + status filter.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('capture', '0003_imports_sheet_analysis'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='submission',
            index=models.Index(fields=['form', 'status', 'id'], name='submission_form_status_idx'),
        ),
    ]
