"""What the engine reads of leads and events, loaded in bulk from the database.

A lead is given to the engine as a mapping of its fields, its company under "company" and its
custom attributes under "attributes" (docs/scoring-engine.md); an event as an EventIn with its
time in POSIX seconds and its id as `ref`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from leadbase.core.fastinsert import in_values
from leadbase.core.prepared import PreparedValues
from leadbase.leads.merge_rules import LEAD_FIELDS as LEAD_ROW_FIELDS
from leadbase.leads.models import Event, Lead
from leadbase.scoring_engine import EventIn
from leadbase.scoring_engine.fit import email_domain
from leadbase.scoring_engine.predicates import resolve

# The lead's own fields (as lead_upsert stores them) and where it stands.
LEAD_FIELDS: tuple[str, ...] = (*LEAD_ROW_FIELDS, "lifecycle_stage", "sales_status")
COMPANY_FIELDS: tuple[str, ...] = (
    "name",
    "domain",
    "industry",
    "employee_count",
    "annual_revenue",
    "country",
    "region",
    "city",
)
# What fit rules may name: checked when a rule set is saved, so a typo is caught there.
KNOWN_FIELDS: tuple[str, ...] = (
    *LEAD_FIELDS,
    "email_domain",
    *(f"company.{name}" for name in COMPANY_FIELDS),
)
# Current classification, read with the lead.
CLASS_FIELDS = ("temperature", "qualification", "is_prospect", "predicted_probability")


COLUMNS = (
    "pk",
    *LEAD_FIELDS,
    "attributes",
    *CLASS_FIELDS,
    *(f"company__{name}" for name in COMPANY_FIELDS),
)
# One lead (what most changes are): compiled once, not per call (the compiling of this
# 37-column join cost more than running it).
_ONE_LEAD = PreparedValues(lambda pk: Lead.objects.filter(pk=pk).values(*COLUMNS)[:1], pk=int)
# The same, taking the lead's row lock (FOR UPDATE OF the lead only; SQLite has one writer).
_ONE_LEAD_LOCKED = PreparedValues(
    lambda pk: Lead.objects.select_for_update(of=("self",)).filter(pk=pk).values(*COLUMNS)[:1],
    pk=int,
)


def lead_inputs(lead_ids: Iterable[int], *, lock: bool = False) -> dict[int, dict[str, Any]]:
    """The engine's view of each lead (plus its current class under "_class"). `lock` (one
    lead only) also takes the lead's row lock, in the same statement."""
    ids = list(lead_ids)
    if not ids:
        return {}
    if lock and len(ids) != 1:
        raise ValueError("lead_inputs(lock=True) reads one lead")
    if len(ids) == 1:
        row = (_ONE_LEAD_LOCKED if lock else _ONE_LEAD).first(pk=ids[0])
        return {} if row is None else {ids[0]: lead_mapping(row)}
    out: dict[int, dict[str, Any]] = {}
    rows = Lead.objects.filter(pk__in=in_values(Lead, "id", ids)).values(*COLUMNS)
    for row in rows.iterator(chunk_size=2000):
        out[row["pk"]] = lead_mapping(row)
    return out


def fit_columns_read(ids: Sequence[int], fields: Iterable[str]) -> dict[str, list[Any]]:
    """The leads `ids` (ascending) as fit rules read them, as columns: field path (e.g.
    "company.industry", "email_domain") -> one value per lead in `ids` order, only the paths
    in `fields` loaded. What scoring every lead reads; a lead deleted meanwhile reads empty."""
    paths = sorted(set(fields))
    if not ids or not paths:
        return {path: [None] * len(ids) for path in paths}
    source: dict[str, str] = {}  # path -> the column it comes from
    for path in paths:
        head, _, rest = path.partition(".")
        if head == "email_domain":
            source[path] = "email"
        elif head == "company" and rest.split(".")[0] in COMPANY_FIELDS:
            source[path] = f"company__{rest.split('.')[0]}"
        elif head == "attributes" or head in LEAD_FIELDS:
            source[path] = head
    names = sorted(set(source.values()))
    rows = (
        Lead.objects.filter(pk__gte=ids[0], pk__lte=ids[-1])
        .order_by("pk")
        .values_list("pk", *names)
    )
    found = list(rows.iterator(chunk_size=5000))
    if [row[0] for row in found] != list(ids):  # leads created or deleted meanwhile
        by_pk = {row[0]: row for row in found}
        empty = (None,) * (len(names) + 1)
        found = [by_pk.get(int(pk), empty) for pk in ids]
    read = dict(zip(names, list(zip(*found, strict=True))[1:], strict=True)) if found else {}
    columns: dict[str, list[Any]] = {}
    for path in paths:
        values = read.get(source.get(path, ""), (None,) * len(ids))
        head, _, rest = path.partition(".")
        if head == "email_domain":
            columns[path] = [email_domain(v) for v in values]
        elif head == "company" and "." in rest:
            columns[path] = [resolve({"v": v}, "v." + rest.split(".", 1)[1]) for v in values]
        elif head == "attributes" and rest:
            columns[path] = [resolve({"v": v}, f"v.{rest}") for v in values]
        else:
            columns[path] = list(values)
    return columns


def lead_mapping(row: Mapping[str, Any]) -> dict[str, Any]:
    lead = {name: row[name] for name in LEAD_FIELDS}
    lead["attributes"] = row["attributes"] or {}
    lead["company"] = {name: row[f"company__{name}"] for name in COMPANY_FIELDS}
    lead["_class"] = {name: row[name] for name in CLASS_FIELDS}
    return lead


def event_in(event_id: int, kind: str, at: Any, properties: Any) -> EventIn:
    return EventIn(
        type=kind,
        at=at.timestamp(),
        properties=properties if isinstance(properties, dict) else {},
        ref=event_id,
    )


EVENT_COLUMNS: tuple[str, ...] = ("pk", "type", "occurred_at", "properties")
_NEW_EVENTS = PreparedValues(
    lambda lead, after: (
        Event.objects.filter(lead_id=lead, pk__gt=after)
        .order_by("occurred_at", "pk")
        .values(*EVENT_COLUMNS)
    ),
    lead=int,
    after=int,
)


def events_of(
    lead_ids: Iterable[int], *, after_id: Mapping[int, int] | None = None
) -> dict[int, list[EventIn]]:
    """Each lead's events in time order (only those with an id above `after_id[lead]` when
    given: the events not folded into its state yet)."""
    ids = list(lead_ids)
    found: dict[int, list[EventIn]] = defaultdict(list)
    if not ids:
        return found
    if len(ids) == 1:  # one lead (the usual case): a prepared query
        new = _NEW_EVENTS.all(lead=ids[0], after=(after_id or {}).get(ids[0], 0))
        found[ids[0]] = [
            event_in(r["pk"], r["type"], r["occurred_at"], r["properties"]) for r in new
        ]
        return found
    events = Event.objects.filter(lead_id__in=in_values(Event, "lead_id", ids))
    if after_id:
        events = events.filter(pk__gt=min(after_id.get(i, 0) for i in ids))
    rows = events.order_by("lead_id", "occurred_at", "pk").values_list(
        "pk", "lead_id", "type", "occurred_at", "properties"
    )
    for pk, lead_id, kind, at, properties in rows.iterator(chunk_size=5000):
        if after_id and pk <= after_id.get(lead_id, 0):
            continue
        found[lead_id].append(event_in(pk, kind, at, properties))
    return found
