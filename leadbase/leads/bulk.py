"""The batch path of lead_upsert, for imports and other bulk sources.

`lead_upsert_many(rows, source=...)` gives the same outcome as calling `lead_upsert` on each row
in order (property tests check it), but with a fixed number of queries per chunk of rows:
existing leads, companies and campaigns are read in bulk, and everything is written with
leadbase.core.fastinsert (plain rows: no model instances, no SQL compiler). A bad row is
reported and skipped; it never stops the good ones.
"""

from __future__ import annotations

import datetime as dt
import gc
from bisect import insort
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from django.db import transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.errors import ValidationFailed
from leadbase.core.fastinsert import in_values, insert_rows, update_rows

from .bulk_companies import BatchCompany, CompanyCache, leads_named
from .bulk_records import BatchConsent as BatchConsent  # for callers: lead_upsert_many's consents
from .bulk_records import (
    consent_status,
    consents_insert,
    consents_stored,
    creations_record,
)
from .hooks import leads_changed
from .merge_rules import LEAD_FIELDS, name_key_for, plan_merge, search_text_for
from .models import (
    STAGE_TIMESTAMP_FIELD,
    Campaign,
    DuplicateSuggestion,
    Lead,
    LeadChange,
    LifecycleStage,
)
from .normalize import normalize_lead_data
from .services import (
    DERIVED_FIELDS,
    LEAD_CREATED,
    SOURCE_MAX_LENGTH,
    ConsentInput,
    _validate_consents,
)

CHUNK = 5000  # rows per transaction: per-chunk queries and commits amortised, locks held briefly

Action = Literal["created", "updated", "unchanged", "rejected"]


_NO_ERRORS: Mapping[str, str] = MappingProxyType({})


@dataclass(slots=True)  # not frozen: one per row, and a frozen one takes twice as long to make
class RowOutcome:
    """What became of a row (never changed once made)."""

    index: int
    action: Action
    lead_id: int | None = None
    errors: Mapping[str, str] = _NO_ERRORS
    message: str = ""


@dataclass
class BatchResult:
    outcomes: list[RowOutcome] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def rejected(self) -> int:
        return self.count("rejected")


_NEVER = 1 << 62
_LEAD_FIELD_SET = frozenset(LEAD_FIELDS)
# The attributes of every new lead given none: one object, so the insert converts it once.
# Never changed in place (plan_merge makes a new dict).
_NO_ATTRIBUTES: dict[str, Any] = {}


@dataclass(eq=False, slots=True)
class _LeadState:
    """A lead as the batch sees it: an existing row or one to be inserted. `data` holds its
    columns by attname (LEAD_FIELDS, a blank one maybe missing; attributes, lifecycle_stage,
    campaign_id; all a new lead is inserted with); the company is an object (a new one has no
    id until the companies are written)."""

    data: dict[str, Any]
    company: BatchCompany | None
    pk: int | None
    is_new: bool
    created_at_row: int  # -1 for leads that existed before the batch
    dirty: set[str] = field(default_factory=set)
    history: list[tuple[str, str, str, str]] = field(default_factory=list)
    suggest_upto: int = -2  # suggestions consider leads named as they are before this row
    named_at_row: int = _NEVER  # first row with a first and last name and a company domain
    named_as: tuple[int, str] | None = None  # (company id, name key) once known

    def note_named(self, row: int) -> None:
        """Names and company are only ever filled in, and domains never: once the lead has
        what suggestions compare (a first and last name, a company domain), it keeps it."""
        named = self.company and self.company.domain and self.data.get("first_name")
        if self.named_at_row == _NEVER and named and self.data.get("last_name"):
            self.named_at_row = row


def lead_upsert_many(
    rows: Sequence[Mapping[str, Any]],
    *,
    source: str,
    actor: User | None = None,
    at: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    consents: Sequence[Sequence[ConsentInput]] = (),
) -> BatchResult:
    """Upsert every row; rows are processed in order, in chunks of CHUNK per transaction.

    `consents`, when given, has one entry per row: the consents that row records (a
    BatchConsent may say when it was given). Unlike lead_upsert, which records every consent
    it is given, a consent the lead has recorded already (same purpose, status and text, from
    any source) is not recorded again, so importing a file twice records its consents once;
    a row that records one counts as updated."""
    source = source[:SOURCE_MAX_LENGTH]
    if consents:
        if len(consents) != len(rows):
            raise ValueError(f"{len(consents)} consent entries for {len(rows)} rows")
        _validate_consents([c for given in consents for c in given])
    result = BatchResult()
    for start in range(0, len(rows), CHUNK):
        chunk = slice(start, start + CHUNK)
        with _cyclic_gc_paused():
            result.outcomes.extend(
                _upsert_chunk(
                    normalize_rows(rows[chunk]), consents[chunk], start, source, actor, at
                )
            )
        if progress is not None:
            progress(min(start + CHUNK, len(rows)), len(rows))
    return result


def normalize_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | ValidationFailed]:
    """normalize_lead_data of each row, or the error it raised: lead_upsert_many's first step,
    done before its transaction (it needs no database: no lock is held meanwhile)."""
    out: list[dict[str, Any] | ValidationFailed] = []
    for row in rows:
        try:
            out.append(normalize_lead_data(row))
        except ValidationFailed as exc:
            # Without its traceback, which would hold this frame (the rows, `out`) in a cycle.
            out.append(exc.with_traceback(None))
    return out


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A chunk allocates tens of thousands of small objects and no reference cycles; left
    on, the cyclic collector walks the whole heap for them (tens of ms, for nothing).
    Reference counting still frees everything; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _upsert_chunk(
    normalized: Sequence[dict[str, Any] | ValidationFailed],
    consents: Sequence[Sequence[ConsentInput]],
    offset: int,
    source: str,
    actor: User | None,
    at: dt.datetime | None,
) -> list[RowOutcome]:
    outcomes: list[RowOutcome | None] = [None] * len(normalized)
    cleaned: list[tuple[int, dict[str, Any]]] = []
    for i, clean in enumerate(normalized):  # normalised before the transaction: no lock held
        if isinstance(clean, ValidationFailed):
            outcomes[i] = RowOutcome(offset + i, "rejected", None, clean.fields, clean.message)
        else:
            cleaned.append((i, clean))
    with transaction.atomic():
        states = _upsert_clean(cleaned, consents, source, actor, at or timezone.now())
        # Leads this chunk changed: downstream apps (scoring) react after the commit. New ones
        # are left to them too: a lead never scored is found by scoring's periodic sweep.
        leads_changed(
            state.pk
            for state, action in states.values()
            if action == "updated" and state.pk is not None
        )
    for i, (state, action) in states.items():
        outcomes[i] = RowOutcome(offset + i, action, state.pk)
    return [outcome for outcome in outcomes if outcome is not None]  # every row has one


def _upsert_clean(
    cleaned: Sequence[tuple[int, dict[str, Any]]],
    consents: Sequence[Sequence[ConsentInput]],
    source: str,
    actor: User | None,
    now: dt.datetime,
) -> dict[int, tuple[_LeadState, Action]]:
    """The cleaned rows matched, merged and written; the lead and action of each row."""
    existing = _load_existing(cleaned)
    index = _Index(existing)
    companies = CompanyCache(cleaned, [s.data for s in existing])
    for state in existing:
        state.company = companies.stored(state.data["company_id"])
        state.note_named(-1)
    campaign_names = {c["campaign"] for _, c in cleaned if "campaign" in c}
    campaigns = {c.name: c for c in Campaign.objects.filter(name__in=sorted(campaign_names))}

    def campaign_for(name: str, channel: str) -> Campaign | None:
        if name and name not in campaigns:
            campaigns[name] = Campaign.objects.create(
                name=name, channel=channel or "other", utm_campaign=name
            )
        return campaigns.get(name)

    states_in_order: list[_LeadState] = []
    row_state: dict[int, tuple[_LeadState, Action]] = {}
    for i, clean in cleaned:
        state_or_none = index.match(clean)
        if state_or_none is None:
            state = _new_state(clean, i, source, now, companies, campaign_for)
            states_in_order.append(state)
            row_state[i] = (state, "created")
        else:
            state = state_or_none
            row_state[i] = (state, _apply_update(state, clean, i, companies, campaign_for))
        index.add(state)

    recorded = _new_consents(cleaned, consents, existing, row_state) if consents else []
    companies.flush()
    states = [*existing, *states_in_order]
    stored = _stored_names(states)  # read before the batch writes: the other leads
    _write(existing, states_in_order, source, actor, now)
    consents_insert([(state.pk or 0, c) for state, c in recorded], source=source, now=now)
    _suggest(states, stored)
    return row_state


def _new_consents(
    cleaned: Sequence[tuple[int, dict[str, Any]]],
    consents: Sequence[Sequence[ConsentInput]],
    existing: Sequence[_LeadState],
    row_state: dict[int, tuple[_LeadState, Action]],
) -> list[tuple[_LeadState, ConsentInput]]:
    """The consents of the rows that their leads have not recorded yet (same purpose, status
    and text, stored or from an earlier row), in row order; a row that records one and
    changed nothing else becomes "updated"."""
    given = [(i, c) for i, _ in cleaned for c in consents[i]]
    by_pk = {state.pk or 0: state for state in existing}  # existing leads have an id
    seen = {
        (id(by_pk[pk]), purpose, status, text)
        for pk, purpose, status, text in consents_stored(by_pk.keys(), [c for _, c in given])
    }
    recorded: list[tuple[_LeadState, ConsentInput]] = []
    for i, consent in given:
        state, action = row_state[i]
        key = (id(state), consent.purpose, consent_status(consent), consent.text_shown)
        if key not in seen:
            seen.add(key)
            recorded.append((state, consent))
            if action == "unchanged":
                row_state[i] = (state, "updated")
    return recorded


_LOADED = (
    "id",
    *LEAD_FIELDS,
    "attributes",
    "lifecycle_stage",
    "company_id",
    "campaign_id",
    "name_key",
)


def _load_existing(cleaned: Sequence[tuple[int, dict[str, Any]]]) -> list[_LeadState]:
    """The leads the rows may match, locked, in id order: by email, then by phone for the
    rows whose email matched none of those (only they may be matched by phone).

    By phone, only the leads that lead_upsert could pick are read, not every lead sharing a
    number (a switchboard can have hundreds): a row without an email takes the first lead
    with its phone, so that one; a row with an email none has takes the first lead with its
    phone and no email, and each earlier row of the chunk with that phone may have given
    one of those an email, so the first k of them, k the rows of the chunk with that phone
    and an email. (A phone is only ever filled in, never changed, so these stay the only
    candidates while the chunk goes on; a lead loaded by email that gets that phone from a
    row is in the batch already.)"""
    found: dict[int, dict[str, Any]] = {}

    def load(query: QuerySet[Lead]) -> None:
        for row in query.order_by().select_for_update().values_list(*_LOADED):
            found.setdefault(row[0], dict(zip(_LOADED, row, strict=True)))

    if emails := {c["email"] for _, c in cleaned if "email" in c}:
        # `email <> ''` spelled out lets SQLite use the partial unique index on email.
        load(Lead.objects.filter(email__in=in_values(Lead, "email", emails)).exclude(email=""))
    stored = {data["email"] for data in found.values()}
    first_wanted: set[str] = set()  # phones of rows without an email
    unnamed_wanted: dict[str, int] = defaultdict(int)  # phone -> rows with a new email
    for _, clean in cleaned:
        if phone := clean.get("phone"):
            if "email" not in clean:
                first_wanted.add(phone)
            elif clean["email"] not in stored:
                unnamed_wanted[phone] += 1
    ids: set[int] = set()
    if first_wanted:
        by_phone = Lead.objects.filter(phone__in=in_values(Lead, "phone", first_wanted))
        firsts = by_phone.order_by().values("phone").annotate(first=Min("id"))
        ids.update(firsts.values_list("first", flat=True))
    if unnamed_wanted:
        query = Lead.objects.filter(phone__in=in_values(Lead, "phone", unnamed_wanted), email="")
        taken: dict[str, int] = defaultdict(int)
        for pk, phone in query.order_by("id").values_list("id", "phone"):
            if taken[phone] < unnamed_wanted[phone]:
                taken[phone] += 1
                ids.add(pk)
    if ids := ids - found.keys():
        load(Lead.objects.filter(pk__in=in_values(Lead, "id", ids)))
    return [_LeadState(data, None, pk, False, -1) for pk, data in sorted(found.items())]


def _write(
    existing: Sequence[_LeadState],
    new: Sequence[_LeadState],
    source: str,
    actor: User | None,
    now: dt.datetime,
) -> None:
    """Insert the new leads with their creation transition and event, update the changed
    ones, and record every lead's history rows."""
    for state in [*new, *existing]:
        state.data["company_id"] = state.company.pk if state.company else None
    ids = insert_rows(Lead, [s.data for s in new], return_ids=True)
    for state, pk in zip(new, ids, strict=True):
        state.pk = pk

    by_fields: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
    for state in (s for s in existing if s.dirty):
        names = tuple(sorted(_ATTNAME.get(name, name) for name in state.dirty))
        values = [state.data[n] for n in (*names, *DERIVED_FIELDS)]
        by_fields[names].append([state.pk, *values])
    for names, values in by_fields.items():
        update_rows(Lead, [*names, *DERIVED_FIELDS, "updated_at"], values)

    actor_id, label = (actor.pk, "user") if actor else (None, source[:64])
    creations_record(
        [(s.pk or 0, s.data["lifecycle_stage"], s.data.get("source_channel", "")) for s in new],
        event_type=LEAD_CREATED,
        source=source,
        actor_id=actor_id,
        actor_label=label,
        now=now,
    )
    history = [
        {"lead_id": s.pk, "field": f, "old_value": o, "new_value": n, "kind": k}
        | {"source": source, "at": now}
        for s in [*existing, *new]
        for f, o, n, k in s.history
    ]
    insert_rows(LeadChange, history)


_ATTNAME = {"company": "company_id", "campaign": "campaign_id"}


def _phone_order(state: _LeadState) -> tuple[int, int]:
    return (1, state.created_at_row) if state.is_new else (0, state.pk or 0)


class _Index:
    """The leads rows are matched against: services._find_existing's rule, email first, then
    a phone whose lead has no different email (lowest id first; leads new in this batch come
    after existing ones, in the order they were created)."""

    def __init__(self, existing: Sequence[_LeadState]) -> None:
        self.by_email: dict[str, _LeadState] = {}
        self.by_phone: dict[str, list[_LeadState]] = defaultdict(list)
        for state in existing:  # in id order
            self.add(state)

    def add(self, state: _LeadState) -> None:
        """A filled email or phone makes the lead findable by it for the rows that follow."""
        email, phone = state.data.get("email", ""), state.data.get("phone", "")
        if email and email not in self.by_email:
            self.by_email[email] = state
        if phone:
            same = self.by_phone[phone]
            if all(state is not s for s in same):
                insort(same, state, key=_phone_order)  # a phone filled in may go first

    def match(self, clean: Mapping[str, Any]) -> _LeadState | None:
        email = clean.get("email", "")
        if email and email in self.by_email:
            return self.by_email[email]
        for state in self.by_phone.get(clean.get("phone", ""), ()):
            if not email or state.data.get("email", "") in ("", email):
                return state
        return None


def _new_state(
    clean: dict[str, Any],
    row: int,
    source: str,
    now: dt.datetime,
    companies: CompanyCache,
    campaign_for: Callable[[str, str], Campaign | None],
) -> _LeadState:
    """What services._create writes, as a row for insert_rows."""
    stage = clean.get("lifecycle_stage") or LifecycleStage.LEAD.value
    # Blank fields are left out: the insert gives them the column default, "".
    data = {name: value for name, value in clean.items() if name in _LEAD_FIELD_SET}
    data["attributes"] = clean.get("attributes", _NO_ATTRIBUTES)
    data["lifecycle_stage"] = stage
    data["last_activity_at"] = now
    data["source_detail"] = clean.get("source_detail") or source
    company = companies.resolve(clean)
    campaign = None
    if "campaign" in clean:
        campaign = campaign_for(clean["campaign"], data.get("source_channel", ""))
    data["campaign_id"] = campaign.pk if campaign else None
    data[STAGE_TIMESTAMP_FIELD.get(stage, "became_lead_at")] = now
    state = _LeadState(data, company, pk=None, is_new=True, created_at_row=row, suggest_upto=row)
    _derive(state)
    state.note_named(row)
    return state


def _apply_update(
    state: _LeadState,
    clean: dict[str, Any],
    row: int,
    companies: CompanyCache,
    campaign_for: Callable[[str, str], Campaign | None],
) -> Action:
    data = state.data
    current: dict[str, Any] = {name: data.get(name, "") for name in LEAD_FIELDS}
    current["attributes"] = data["attributes"]
    plan = plan_merge(current, clean, overwrite=False)
    data.update(plan.updates)
    touched = set(plan.updates)
    has_company_input = any(
        k in clean for k in ("company", "company_domain", "industry", "employee_count")
    )
    if state.company is None and (has_company_input or "email" in plan.filled):
        company = companies.resolve({**clean, "email": data.get("email", "")})
        if company is not None:
            state.company = company
            touched.add("company")
            plan.filled.append("company")
    if data["campaign_id"] is None and clean.get("campaign"):
        campaign = campaign_for(clean["campaign"], data.get("source_channel", ""))
        data["campaign_id"] = campaign.pk if campaign else None
        touched.add("campaign")
        plan.filled.append("campaign")
    if clean.get("lifecycle_stage") and clean["lifecycle_stage"] != data["lifecycle_stage"]:
        plan.history.append(
            ("lifecycle_stage", data["lifecycle_stage"], clean["lifecycle_stage"], "conflict_kept")
        )
    if touched:  # as lead_upsert does, with the company as it is at this row
        _derive(state)
    state.dirty |= touched
    state.history.extend(plan.history)
    if plan.filled:
        state.suggest_upto = row
    state.note_named(row)
    return "updated" if (touched or plan.history) else "unchanged"


def _derive(state: _LeadState) -> None:
    """The derived columns, as services._derive sets them."""
    data = state.data
    first, last = data.get("first_name", ""), data.get("last_name", "")
    data["search_text"] = search_text_for(
        first_name=first,
        last_name=last,
        email=data.get("email", ""),
        phone=data.get("phone", ""),
        company_name=state.company.name if state.company else "",
    )
    data["name_key"] = name_key_for(first, last)


def _stored_names(states: Sequence[_LeadState]) -> list[tuple[int, tuple[int, str]]]:
    """Sets the (company id, name key) of the batch's named leads (their companies have ids by
    now); gives (id, (company id, name key)) of the stored leads outside the batch that share
    theirs with a lead that may get suggestions."""
    for state in states:  # data["name_key"] is as loaded, or as _derive() last set it
        company = state.company
        if state.named_at_row != _NEVER and company is not None and company.pk is not None:
            state.named_as = (company.pk, state.data["name_key"])
    pairs = {s.named_as for s in states if s.suggest_upto > -2 and s.named_as}
    if not pairs:
        return []
    in_batch = {s.pk for s in states if s.pk is not None}
    return [
        (pk, (company_id, name_key))
        for pk, company_id, name_key in leads_named(pairs)
        if pk not in in_batch
    ]


def _suggest(states: Sequence[_LeadState], stored: Sequence[tuple[int, tuple[int, str]]]) -> None:
    """Same-name-at-same-company-domain suggestions, as lead_upsert makes them one row at a
    time: a lead is compared with the leads that had that name and company when its last
    row that filled something in was processed (the 10 newest, like lead_upsert)."""
    wanted = [s for s in states if s.suggest_upto > -2 and s.named_as]
    if not wanted:
        return
    named = [*stored, *((s.pk or 0, s.named_as) for s in states if not s.is_new and s.named_as)]
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for pk, key in sorted(named):
        groups[key].append(pk)
    for state in states:  # new leads have the highest ids, in the order they were created
        if state.is_new and state.named_as:
            groups[state.named_as].append(state.pk or 0)
    named_at_row = {s.pk: s.named_at_row for s in states}
    for_new: list[dict[str, Any]] = []
    for_existing: list[dict[str, Any]] = []
    for state in wanted:
        assert state.company is not None and state.named_as is not None
        reason = f"same name at {state.company.domain}"
        others = [
            other
            for other in groups[state.named_as]
            if other != state.pk and named_at_row.get(other, -1) < state.suggest_upto
        ]
        made = for_new if state.is_new else for_existing
        made += [{"lead_id": state.pk, "candidate_id": o, "reason": reason} for o in others[-10:]]
    # Nobody else can have suggested anything for a lead this transaction just created.
    insert_rows(DuplicateSuggestion, for_new)
    if for_existing:
        lead_ids = in_values(DuplicateSuggestion, "lead_id", {s["lead_id"] for s in for_existing})
        made_before = DuplicateSuggestion.objects.filter(lead_id__in=lead_ids).order_by()
        pairs = set(made_before.values_list("lead_id", "candidate_id"))
        insert_rows(
            DuplicateSuggestion,
            [s for s in for_existing if (s["lead_id"], s["candidate_id"]) not in pairs],
            ignore_conflicts=True,  # one made since by another transaction
        )
