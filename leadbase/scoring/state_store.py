"""Reading and writing leads' scoring states (LeadScoreState) on the path of every change.

The one-lead read is a prepared query and the write one plain upsert statement: through the
ORM, compiling them cost more than running them, on the path of every event a lead receives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from leadbase.core.fastinsert import in_values
from leadbase.core.prepared import PreparedValues

from .models import LeadScoreState

COLUMNS = ("lead_id", "rule_set_id", "state", "last_event_id")
_ONE = PreparedValues(
    lambda pk: LeadScoreState.objects.filter(lead_id=pk).values(*COLUMNS)[:1], pk=int
)


@dataclass(frozen=True, slots=True)
class StoredState:
    rule_set_id: int
    state: dict[str, Any]
    last_event_id: int


def states_read(lead_ids: Sequence[int]) -> dict[int, StoredState]:
    if not lead_ids:
        return {}
    if len(lead_ids) == 1:
        row = _ONE.first(pk=lead_ids[0])
        rows: Iterable[dict[str, Any]] = [] if row is None else [row]
    else:
        rows = LeadScoreState.objects.filter(
            lead_id__in=in_values(LeadScoreState, "lead_id", list(lead_ids))
        ).values(*COLUMNS)
    return {
        r["lead_id"]: StoredState(r["rule_set_id"], r["state"], r["last_event_id"]) for r in rows
    }


def states_write(
    rows: Sequence[tuple[int, dict[str, Any], int]], *, rule_set_id: int, at: dt.datetime
) -> None:
    """Store (lead id, state, last event id) of each lead, made under `rule_set_id` at `at`."""
    if not rows:
        return
    opts = LeadScoreState._meta
    state_field = opts.get_field("state")
    time = opts.get_field("scored_at").get_db_prep_save(at, connection)
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    names = ["lead_id", "rule_set_id", "state", "last_event_id", "scored_at"]
    columns = ", ".join(quote(n) for n in names)
    updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names[1:])
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({quote('lead_id')}) DO UPDATE SET {updates}"
    )
    params = [
        [pk, rule_set_id, state_field.get_db_prep_save(state, connection), last, time]
        for pk, state, last in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
