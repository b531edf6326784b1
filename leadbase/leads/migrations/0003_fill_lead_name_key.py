"""Fills Lead.name_key (added by 0002) for the leads stored before it, a batch at a time."""

from typing import Any

from django.db import migrations

from leadbase.leads.merge_rules import name_key_for

BATCH = 2000


def fill_name_keys(apps: Any, schema_editor: Any) -> None:
    Lead = apps.get_model("leads", "Lead")
    leads = Lead.objects.using(schema_editor.connection.alias)
    named = leads.exclude(first_name="").exclude(last_name="").order_by("pk")
    after = 0
    while rows := list(named.filter(pk__gt=after).values_list("pk", "first_name", "last_name")[:BATCH]):
        after = rows[-1][0]
        leads.bulk_update(
            [Lead(pk=pk, name_key=name_key_for(first, last)) for pk, first, last in rows],
            ["name_key"],
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_lead_name_key")]

    operations = [migrations.RunPython(fill_name_keys, migrations.RunPython.noop, elidable=True)]
