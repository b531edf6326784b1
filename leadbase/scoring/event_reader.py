"""Every lead's events, read in bulk as columns: what the full recompute (and anything else
that passes over all events at once) reads.

A plain cursor, not the ORM: the ORM makes a datetime and decodes the JSON properties of every
row, which cost three times the read itself. Here times come as POSIX seconds (PostgreSQL
computes them; SQLite's stored text is parsed by numpy a chunk at a time, exactly to the
microsecond) and properties as a `PropertyTable`: each distinct JSON text once, decoded only
when a rule reads it (the engine reads them only for event types that have a conditional rule).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from django.db import connection

from leadbase.leads.models import Event
from leadbase.scoring_engine import PropertyTable

CHUNK = 50_000


class _Decoded(Sequence[dict[str, Any] | None]):
    """Distinct JSON texts, each decoded when first read."""

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts
        self._values: dict[int, dict[str, Any] | None] = {}

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, i: int) -> dict[str, Any] | None: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any] | None]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i not in self._values:
            value = json.loads(self._texts[i]) if self._texts[i] else None
            self._values[i] = value if isinstance(value, dict) else None
        return self._values[i]


def property_table(texts: Sequence[str | None]) -> PropertyTable:
    """Events' properties (JSON text, or None) as distinct values and a code per event."""
    code_of = {text: code for code, text in enumerate(dict.fromkeys(texts))}
    codes = np.fromiter(map(code_of.__getitem__, texts), dtype=np.intp, count=len(texts))
    return PropertyTable(codes=codes, values=_Decoded([t or "" for t in code_of]))


@dataclass(frozen=True)
class EventColumns:
    """One chunk of events: lead id, type, time (POSIX seconds) and properties, row by row."""

    lead: npt.NDArray[np.int64]
    types: list[str]
    time: npt.NDArray[np.float64]
    properties: PropertyTable

    def __len__(self) -> int:
        return len(self.types)


def lead_events_read(*, chunk: int = CHUNK) -> Iterator[EventColumns]:
    """The events of every lead (not visitors' anonymous ones), in storage order: asking for
    (lead, time) order walks the index and fetches rows at random, three times slower on
    SQLite than reading the table through (measured); the recompute takes any order."""
    table = connection.ops.quote_name(Event._meta.db_table)
    postgres = connection.vendor == "postgresql"
    # On SQLite an expression has no declared type, so Django's converter (a datetime per row)
    # is not applied and the text comes as stored.
    when = "EXTRACT(EPOCH FROM occurred_at)::float8" if postgres else "occurred_at || ''"
    properties = "properties::text" if postgres else "properties"
    sql = (
        f"SELECT lead_id, type, {when}, {properties} FROM {table} "  # noqa: S608
        "WHERE lead_id IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(chunk):
            leads, types, times, texts = zip(*rows, strict=True)
            yield EventColumns(
                lead=np.fromiter(leads, dtype=np.int64, count=len(rows)),
                types=list(types),
                time=_seconds(times, postgres=postgres),
                properties=property_table(texts),
            )


def _seconds(values: Sequence[Any], *, postgres: bool) -> npt.NDArray[np.float64]:
    if postgres:
        return np.fromiter(values, dtype=np.float64, count=len(values))
    # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS[.ffffff]": numpy parses it to the microsecond,
    # and whole microseconds / 1e6 is what datetime.timestamp() computes.
    stamps = np.array(values, dtype="datetime64[us]")
    return stamps.astype(np.int64).astype(np.float64) / 1e6
