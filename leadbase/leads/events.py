"""Recording events and stitching visitors to leads: the one place events enter in batches.

- `events_record` stores a batch of already-validated events in one transaction: events of a
  visitor who is already linked to a lead go to that lead; events that repeat a client event id
  (already stored, or earlier in the same batch) are counted as duplicates and not stored; each
  lead's `last_activity_at` moves forward to its newest event; visitors are created or their
  `last_seen_at` moved on.
- `visitor_identify` links a visitor to a lead and attaches the visitor's anonymous events to
  it. Several visitors (phone, laptop) may point to one lead: their histories join on the lead.
  A visitor already linked to another lead (a shared computer) is re-linked: its later events
  go to the new lead, the events already attached stay where they are.

Both return the ids of the leads whose events changed, for whoever scores them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from leadbase.core.fastinsert import in_values, insert_rows, update_rows

from .hooks import leads_changed
from .models import Event, Lead, Visitor

CLIENT_EVENT_ID_MAX_LENGTH = 100
VISITOR_ID_MAX_LENGTH = 64


@dataclass(frozen=True, slots=True)
class EventIn:
    """One event to store: for a lead (`lead_id`) or a visitor (`visitor_id`), or both."""

    type: str
    occurred_at: dt.datetime
    properties: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    lead_id: int | None = None
    visitor_id: str | None = None
    client_event_id: str | None = None


@dataclass(frozen=True, slots=True)
class EventsRecorded:
    stored: int
    duplicates: tuple[int, ...]  # positions (in the input) of the resends that were not stored
    lead_ids: frozenset[int]  # leads that got at least one event
    unknown_leads: tuple[int, ...] = ()  # positions of events naming a lead not found


def _known_client_ids(ids: Sequence[str]) -> set[str]:
    """Which of `ids` are stored already: one indexed lookup (plain SQL: on the path of every
    event sent one by one, compiling it through the ORM cost more than running it)."""
    wanted = list(set(ids))
    quote = connection.ops.quote_name
    table, column = quote(Event._meta.db_table), quote("client_event_id")
    if connection.vendor == "sqlite":
        sql = f"SELECT {column} FROM {table} WHERE {column} IN (SELECT value FROM json_each(%s))"  # noqa: S608
        params: list[Any] = [json.dumps(wanted)]
    elif connection.vendor == "postgresql":
        sql = f"SELECT {column} FROM {table} WHERE {column} = ANY(%s::varchar[])"  # noqa: S608
        params = [wanted]
    else:
        found = Event.objects.filter(client_event_id__in=wanted)
        return {str(v) for v in found.values_list("client_event_id", flat=True)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # names from the model; values are parameters
        return {str(row[0]) for row in cursor.fetchall()}


def _visitor_leads(visitor_ids: Iterable[str]) -> dict[str, int | None]:
    return dict(
        Visitor.objects.filter(visitor_id__in=set(visitor_ids)).values_list("visitor_id", "lead_id")
    )


def _visitors_seen(seen: Mapping[str, dt.datetime], known: Mapping[str, int | None]) -> None:
    """Create the visitors not known yet and move `last_seen_at` of the others forward."""
    new = [
        Visitor(visitor_id=visitor, first_seen_at=at, last_seen_at=at)
        for visitor, at in seen.items()
        if visitor not in known
    ]
    if new:
        Visitor.objects.bulk_create(new, ignore_conflicts=True)
    for visitor, at in seen.items():
        if visitor in known:
            Visitor.objects.filter(visitor_id=visitor, last_seen_at__lt=at).update(last_seen_at=at)


def _lead_activity(leads: QuerySet[Lead], ids: Iterable[int]) -> dict[int, dt.datetime]:
    """last_activity_at of the leads among `ids` that are in `leads`, rows locked in id order
    (so concurrent batches cannot deadlock, nor move a lead's activity back)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (
        leads.select_for_update(of=("self",))
        .filter(pk__in=in_values(Lead, "id", wanted))
        .order_by("pk")
        .values_list("pk", "last_activity_at")
    )
    return dict(rows)


def events_record(
    items: Sequence[EventIn], *, leads: QuerySet[Lead] | None = None
) -> EventsRecorded:
    """Store `items` (validated by the caller) in one transaction; see the module's notes.
    An event naming a lead that is not in `leads` (default: any lead) is not stored; its
    position is in `unknown_leads`."""
    if len(items) == 1 and _one_lead_event(items[0], leads):
        return _record_one(items[0])
    with transaction.atomic():
        return _record(items, Lead.objects.all() if leads is None else leads)


def _one_lead_event(item: EventIn, leads: QuerySet[Lead] | None) -> bool:
    """An event for a lead by id, with no visitor to stitch, that any lead may receive: the
    usual event sent alone, which `_record_one` stores with two statements."""
    unrestricted = leads is None or (leads.model is Lead and not leads.query.where)
    return unrestricted and item.lead_id is not None and not item.visitor_id


class _Unknown(Exception):
    """The lead went away between the insert and the update: undo both."""


def _record_one(item: EventIn) -> EventsRecorded:
    """One event of one lead, in two plain statements (the ORM compiling them cost more than
    running them, on the path of every event sent by itself): insert it if its lead exists
    and its client id is new, then move the lead's last activity forward, which takes the
    lead's row lock until the commit as the batch path does. Only when nothing was inserted,
    a third asks whether the lead exists, to tell a duplicate from an unknown lead."""
    assert item.lead_id is not None
    quote = connection.ops.quote_name
    events, leads = quote(Event._meta.db_table), quote(Lead._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(item.occurred_at)
    properties = Event._meta.get_field("properties").get_db_prep_save(
        dict(item.properties), connection
    )
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    insert, suffix = "INSERT INTO", " ON CONFLICT DO NOTHING"
    if connection.vendor == "sqlite":
        insert, suffix = "INSERT OR IGNORE INTO", ""
    columns = "lead_id, visitor_id, client_event_id, type, occurred_at, properties, source"
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"{insert} {events} ({columns}, created_at) "  # noqa: S608 (names from the models)
                "SELECT %s, NULL, %s, %s, %s, %s, %s, %s "
                f"WHERE EXISTS (SELECT 1 FROM {leads} WHERE id = %s){suffix}",
                [item.lead_id, item.client_event_id or None, item.type, at, properties,
                 item.source, created, item.lead_id],
            )  # fmt: skip
            if cursor.rowcount == 1:
                cursor.execute(
                    f"UPDATE {leads} SET last_activity_at = CASE WHEN last_activity_at < %s "  # noqa: S608
                    "THEN %s ELSE last_activity_at END WHERE id = %s",
                    [at, at, item.lead_id],
                )
                if cursor.rowcount != 1:
                    raise _Unknown
                leads_changed([item.lead_id])
                return EventsRecorded(1, (), frozenset({item.lead_id}))
            cursor.execute(f"SELECT 1 FROM {leads} WHERE id = %s", [item.lead_id])  # noqa: S608
            if cursor.fetchone() is not None:
                return EventsRecorded(0, (0,), frozenset())
    except _Unknown:
        pass
    return EventsRecorded(0, (), frozenset(), unknown_leads=(0,))


def _record(items: Sequence[EventIn], leads: QuerySet[Lead]) -> EventsRecorded:
    client_ids = [i.client_event_id for i in items if i.client_event_id]
    known_ids = _known_client_ids(client_ids) if client_ids else set()
    visitor_ids = [i.visitor_id for i in items if i.visitor_id]
    visitors = _visitor_leads(visitor_ids) if visitor_ids else {}
    named = _lead_activity(leads, (i.lead_id for i in items if i.lead_id is not None))
    linked = _lead_activity(
        Lead.objects.all(), (pk for pk in visitors.values() if pk is not None and pk not in named)
    )
    activity = {**linked, **named}
    rows: list[dict[str, Any]] = []
    duplicates: list[int] = []
    unknown: list[int] = []
    latest: dict[int, dt.datetime] = {}
    seen: dict[str, dt.datetime] = {}
    for position, item in enumerate(items):
        lead_id = item.lead_id
        if lead_id is not None and lead_id not in named:
            unknown.append(position)
            continue
        if item.client_event_id:
            if item.client_event_id in known_ids:
                duplicates.append(position)
                continue
            known_ids.add(item.client_event_id)
        if item.visitor_id:
            seen[item.visitor_id] = max(
                seen.get(item.visitor_id, item.occurred_at), item.occurred_at
            )
            if lead_id is None:
                lead_id = visitors.get(item.visitor_id)
                if lead_id not in activity:
                    lead_id = None  # the visitor's lead was deleted meanwhile
        if lead_id is None and not item.visitor_id:
            raise ValueError(f"event {position} has neither a lead nor a visitor")
        if lead_id is not None:
            latest[lead_id] = max(latest.get(lead_id, item.occurred_at), item.occurred_at)
        rows.append(
            {
                "lead_id": lead_id,
                "visitor_id": item.visitor_id or None,
                "client_event_id": item.client_event_id or None,
                "type": item.type,
                "occurred_at": item.occurred_at,
                "properties": dict(item.properties),
                "source": item.source,
            }
        )
    # A resend racing this one past the check above is left out by the unique constraint.
    insert_rows(Event, rows, ignore_conflicts=bool(client_ids))
    if seen:
        _visitors_seen(seen, visitors)
    moves = [(pk, at) for pk, at in latest.items() if activity[pk] < at]
    update_rows(Lead, ["last_activity_at"], sorted(moves))
    leads_changed(latest)
    return EventsRecorded(
        stored=len(rows),
        duplicates=tuple(duplicates),
        lead_ids=frozenset(latest),
        unknown_leads=tuple(unknown),
    )


@dataclass(frozen=True, slots=True)
class Identified:
    visitor: Visitor
    attached: int  # anonymous events now on the lead
    relinked_from: int | None  # the lead the visitor pointed to before, when it was another


def visitor_identify(*, visitor_id: str, lead: Lead, at: dt.datetime | None = None) -> Identified:
    """Link `visitor_id` to `lead` and attach the visitor's anonymous events to it."""
    at = at or timezone.now()
    with transaction.atomic():
        visitor, _ = Visitor.objects.select_for_update().get_or_create(
            visitor_id=visitor_id, defaults={"first_seen_at": at, "last_seen_at": at}
        )
        previous = visitor.lead_id
        if previous != lead.pk:
            visitor.lead = lead
            visitor.identified_at = at
            visitor.save(update_fields=["lead", "identified_at"])
        anonymous = Event.objects.filter(visitor_id=visitor_id, lead__isnull=True)
        newest = max(anonymous.values_list("occurred_at", flat=True), default=None)
        attached = anonymous.update(lead=lead)
        if newest is not None:
            Lead.objects.filter(pk=lead.pk, last_activity_at__lt=newest).update(
                last_activity_at=newest
            )
        # Attached events are older than the lead's scored ones: those need a rebuild.
        leads_changed([lead.pk], rebuild=attached > 0)
    relinked = previous if previous is not None and previous != lead.pk else None
    return Identified(visitor=visitor, attached=attached, relinked_from=relinked)


def anonymous_events_prune(*, before: dt.datetime) -> int:
    """Delete events of visitors who never identified, older than `before`; and visitors with
    no lead and no events left. Returns how many events were deleted."""
    deleted, _ = Event.objects.filter(lead__isnull=True, occurred_at__lt=before).delete()
    Visitor.objects.filter(lead__isnull=True, last_seen_at__lt=before).exclude(
        visitor_id__in=Event.objects.filter(lead__isnull=True)
        .exclude(visitor_id=None)
        .values("visitor_id")
    ).delete()
    return deleted
