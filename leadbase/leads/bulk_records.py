"""The rows lead_upsert_many writes about each lead besides the lead itself: the creation
event and first stage transition of each new lead, written by the database from the lead
rows in one statement per table (no row built in Python), and the consents of the batch.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.utils import timezone

from leadbase.core.fastinsert import in_values, insert_rows

from .models import Consent, ConsentStatus, Event, Lead, LifecycleTransition, TransitionKind
from .services import ConsentInput


@dataclass(frozen=True)
class BatchConsent(ConsentInput):
    """A consent for a row of lead_upsert_many: a ConsentInput, and when it was given
    (`given_at`; None: the time of the batch)."""

    given_at: dt.datetime | None = None


ConsentKey = tuple[int, str, str, str]  # lead id, purpose, status, text shown


def consent_status(consent: ConsentInput) -> str:
    return ConsentStatus.GRANTED.value if consent.granted else ConsentStatus.WITHDRAWN.value


def consents_stored(
    lead_ids: Collection[int], consents: Collection[ConsentInput]
) -> set[ConsentKey]:
    """The (lead id, purpose, status, text shown) of the consents the leads have already
    recorded with one of the purposes and texts of `consents`."""
    if not lead_ids or not consents:
        return set()
    query = Consent.objects.filter(
        lead_id__in=in_values(Consent, "lead_id", lead_ids),
        purpose__in=sorted({c.purpose for c in consents}),
        text_shown__in=in_values(Consent, "text_shown", {c.text_shown for c in consents}),
    )
    return set(query.order_by().values_list("lead_id", "purpose", "status", "text_shown"))


def consents_insert(
    recorded: Sequence[tuple[int, ConsentInput]], *, source: str, now: dt.datetime
) -> None:
    """One Consent row per (lead id, consent), as services._record_consents writes them, at
    the consent's given_at (if a BatchConsent gives one) or `now`."""
    insert_rows(
        Consent,
        [
            {
                "lead_id": pk,
                "purpose": c.purpose,
                "status": consent_status(c),
                "text_shown": c.text_shown,
                "source": (c.source or source)[:200],
                "recorded_at": getattr(c, "given_at", None) or now,
                "ip_address": c.ip_address,
            }
            for pk, c in recorded
        ],
    )


def creations_record(
    new: Sequence[tuple[int, str, str]],
    *,
    event_type: str,
    source: str,
    actor_id: int | None,
    actor_label: str,
    now: dt.datetime,
) -> None:
    """For each new lead, given as (id, lifecycle stage, source channel), the transition to
    its first stage and its `event_type` event, as services._create writes them: reason
    "created from <source>", the event's properties {"source": source, "channel": channel}."""
    if not new:
        return
    reason = f"created from {source}"
    connection = connections[Lead.objects.db]
    if connection.vendor not in ("sqlite", "postgresql"):
        transition = {"kind": TransitionKind.STAGE.value, "at": now, "actor_id": actor_id}
        transition |= {"reason": reason, "actor_label": actor_label}
        insert_rows(
            LifecycleTransition,
            [{**transition, "lead_id": pk, "to_value": stage} for pk, stage, _ in new],
        )
        event = {"type": event_type, "occurred_at": now, "source": source[:64]}
        insert_rows(
            Event,
            [
                {**event, "lead_id": pk, "properties": {"source": source, "channel": channel}}
                for pk, _, channel in new
            ],
        )
        return
    quote = connection.ops.quote_name
    lead = quote(Lead._meta.db_table)
    ids = [pk for pk, _, _ in new]
    postgresql = connection.vendor == "postgresql"
    ids_param: Any
    if postgresql:
        where, ids_param = "l.id = ANY(%s::bigint[])", ids
        properties = "jsonb_build_object('source', %s::text, 'channel', l.source_channel)"
    else:
        where, ids_param = "l.id IN (SELECT value FROM json_each(%s))", json.dumps(ids)
        properties = "json_object('source', %s, 'channel', l.source_channel)"

    def insert(model: type[Any], given: dict[str, Any]) -> None:
        """INSERT ... SELECT from the new leads: `given` maps a field name to a value, or to
        (SQL expression, parameters); every other column takes its default (the time of the
        write for an auto_now or auto_now_add one), as fastinsert.insert_rows gives it."""
        columns, select, params = [], [], []
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            value = given.get(field.name, _DEFAULT)
            if isinstance(value, tuple):
                expression, values = value
            else:
                if value is _DEFAULT:
                    auto = getattr(field, "auto_now", False) or getattr(
                        field, "auto_now_add", False
                    )
                    value = timezone.now() if auto else field.get_default()
                # In a SELECT list a parameter has no type to take from the column: give it.
                expression = f"CAST(%s AS {field.cast_db_type(connection)})" if postgresql else "%s"
                values = [field.get_db_prep_save(value, connection)]
            columns.append(quote(field.column))
            select.append(expression)
            params += values
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(select)} FROM {lead} AS l WHERE {where} ORDER BY l.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, ids_param])

    insert(
        LifecycleTransition,
        {
            "lead": ("l.id", []),
            "kind": TransitionKind.STAGE.value,
            "from_value": "",
            "to_value": ("l.lifecycle_stage", []),
            "at": now,
            "reason": reason,
            "actor": actor_id,
            "actor_label": actor_label,
        },
    )
    insert(
        Event,
        {
            "lead": ("l.id", []),
            "type": event_type,
            "occurred_at": now,
            "properties": (properties, [source]),
            "source": source[:64],
        },
    )


_DEFAULT = object()
