"""The dry run's forecast: what each row of a file would do, without writing anything.

Rows are validated by the same normalisation as lead_upsert, then matched as
lead_upsert_many matches them (leads/bulk.py, `_Index`): by email, else by a phone whose lead
has no different email, the stored leads (read in batches) before the ones the file would
create. Each row would *create* a lead, *update* a stored one (or leave it as it is: only the
real run can tell), be a *duplicate* (land on a lead an earlier row of the file already
created or matched), or be *rejected*.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

from leadbase.core.errors import ValidationFailed
from leadbase.core.fastinsert import in_values
from leadbase.leads.models import Lead
from leadbase.leads.normalize import normalize_lead_data

from .mapping import RowMapper
from .rows import Row, reason_from_errors

BATCH = 5000  # rows matched against the database per query
ERRORS_KEPT = 100  # problems kept in the summary (all of them: the problems download)

Forecast = Literal["create", "update", "duplicate"]
_NEW = 1 << 62  # order of leads the file creates: after every stored lead, in creation order


@dataclass(eq=False, slots=True)
class _Lead:
    email: str
    phone: str
    order: int  # stored: its id; new: _NEW + creation number
    seen: bool = False


class _Matcher:
    """bulk._Index over the whole file, stored leads loaded batch by batch as rows need them."""

    def __init__(self) -> None:
        self.by_email: dict[str, _Lead] = {}
        self.by_phone: dict[str, list[_Lead]] = {}
        self.stored: set[int] = set()
        self.phones_loaded: set[str] = set()
        self.created = 0

    def load(self, cleaned: Iterable[dict[str, Any]]) -> None:
        emails, phones = set(), set()
        for clean in cleaned:
            if (email := clean.get("email")) and email not in self.by_email:
                emails.add(email)
            if (phone := clean.get("phone")) and phone not in self.phones_loaded:
                phones.add(phone)
        for pk, email, phone in sorted(_stored_leads(emails=emails, phones=phones)):
            if pk not in self.stored:
                self.stored.add(pk)
                self._add(_Lead(email, phone, pk))
        self.phones_loaded |= phones

    def apply(self, clean: dict[str, Any]) -> Forecast:
        email, phone = clean.get("email", ""), clean.get("phone", "")
        lead = self._match(email, phone)
        if lead is None:
            lead = _Lead(email, phone, _NEW + self.created)
            self.created += 1
            forecast: Forecast = "create"
        else:
            forecast = "duplicate" if lead.seen else "update"
            lead.email = lead.email or email  # a blank field is filled
            lead.phone = lead.phone or phone
        lead.seen = True
        self._add(lead)
        return forecast

    def _match(self, email: str, phone: str) -> _Lead | None:
        if email and (lead := self.by_email.get(email)) is not None:
            return lead
        for lead in self.by_phone.get(phone, ()) if phone else ():
            if not email or lead.email in ("", email):
                return lead
        return None

    def _add(self, lead: _Lead) -> None:
        if lead.email and lead.email not in self.by_email:
            self.by_email[lead.email] = lead
        if lead.phone:
            same = self.by_phone.setdefault(lead.phone, [])
            if not any(other is lead for other in same):
                same.append(lead)
                same.sort(key=lambda other: other.order)


def _stored_leads(*, emails: set[str], phones: set[str]) -> list[tuple[int, str, str]]:
    """(id, email, phone) of the stored leads with one of the emails or phones (a read of the
    leads app's table, as lead_upsert_many's own; no selector answers it)."""
    found: list[tuple[int, str, str]] = []
    for name, values in (("email", emails), ("phone", phones)):
        if values:
            query = Lead.objects.filter(**{f"{name}__in": in_values(Lead, name, values)})
            found += query.exclude(**{name: ""}).order_by().values_list("pk", "email", "phone")
    return found


@dataclass
class DryRun:
    rows: int = 0
    create: int = 0
    update: int = 0
    duplicate: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # the first ERRORS_KEPT

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "create": self.create,
            "update": self.update,
            "duplicates": self.duplicate,
            "rejected": self.rejected,
            "errors": self.errors,
        }


def row_problem(row: Row, mapper: RowMapper) -> tuple[dict[str, Any] | None, str]:
    """(cleaned lead data, "") for a row lead_upsert would take, else (None, the reason)."""
    if row.data is None:
        return None, row.reason
    try:
        return normalize_lead_data(row.data), ""
    except ValidationFailed as exc:
        return None, reason_from_errors(exc.fields, mapper)


def forecast_rows(
    rows: Iterator[Row],
    mapper: RowMapper,
    *,
    on_error: Callable[[Row, str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> DryRun:
    """Validates and matches every row; `on_error(row, reason)` hears of each rejected one,
    `progress(rows so far)` after each batch."""
    result = DryRun()
    matcher = _Matcher()
    while batch := list(islice(rows, BATCH)):
        cleaned: list[tuple[Row, dict[str, Any] | None, str]] = [
            (row, *row_problem(row, mapper)) for row in batch
        ]
        matcher.load(clean for _, clean, _ in cleaned if clean is not None)
        for row, clean, reason in cleaned:
            if clean is None:
                result.rejected += 1
                if len(result.errors) < ERRORS_KEPT:
                    result.errors.append({"row": row.number, "reason": reason})
                if on_error is not None:
                    on_error(row, reason)
                continue
            outcome = matcher.apply(clean)
            if outcome == "create":
                result.create += 1
            elif outcome == "update":
                result.update += 1
            else:
                result.duplicate += 1
        result.rows += len(batch)
        if progress is not None:
            progress(result.rows)
    return result


def problems(rows: Iterator[Row], mapper: RowMapper) -> Iterator[tuple[Row, str]]:
    """Each row the dry run rejects, with its reason (no database access)."""
    for row in rows:
        _, reason = row_problem(row, mapper)
        if reason:
            yield row, reason
