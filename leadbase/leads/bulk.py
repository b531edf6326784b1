"""The batch path of lead_upsert, for imports and other bulk sources.

`lead_upsert_many(rows, source=...)` gives the same outcome as calling `lead_upsert` on each row
in order (a property test checks it), but with a fixed number of queries per chunk of rows:
existing leads, companies and campaigns are read in bulk, new rows are inserted with
bulk_create, changed rows written with bulk_update. A bad row is reported and skipped; it never
stops the good ones.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.errors import ValidationFailed

from .merge_rules import LEAD_FIELDS, plan_merge, search_text_for
from .models import (
    STAGE_TIMESTAMP_FIELD,
    Campaign,
    Company,
    DuplicateSuggestion,
    Event,
    Lead,
    LeadChange,
    LifecycleStage,
    LifecycleTransition,
    TransitionKind,
)
from .normalize import company_domain_from_email, normalize_lead_data
from .services import LEAD_CREATED

CHUNK = 2000  # rows per transaction; also bounds the IN (...) lists sent to the database
_IN_LIMIT = 900  # SQLite's older builds allow 999 variables per statement

Action = Literal["created", "updated", "unchanged", "rejected"]


@dataclass(frozen=True)
class RowOutcome:
    index: int
    action: Action
    lead_id: int | None = None
    errors: Mapping[str, str] = field(default_factory=dict)
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


@dataclass
class _LeadState:
    """A lead as the batch sees it: an existing row or one to be inserted."""

    lead: Lead
    is_new: bool
    created_at_row: int  # -1 for leads that existed before the batch
    dirty: set[str] = field(default_factory=set)
    history: list[tuple[str, str, str, str]] = field(default_factory=list)
    suggest_upto: int = -2  # suggestions consider leads created before this row


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _CompanyCache:
    def __init__(self) -> None:
        self.by_domain: dict[str, Company] = {}
        self.by_name: dict[str, Company] = {}
        self.dirty: dict[int, tuple[Company, set[str]]] = {}

    def preload(self, domains: set[str], names: set[str]) -> None:
        for part in _chunks(sorted(domains), _IN_LIMIT):
            for company in Company.objects.filter(domain__in=part):
                self.by_domain[company.domain] = company
        lowered = sorted({name.lower() for name in names})
        for part in _chunks(lowered, _IN_LIMIT):
            matches = (
                Company.objects.annotate(lname=Lower("name"))
                .filter(domain="", lname__in=part)
                .order_by("id")
            )
            for company in matches:
                self.by_name.setdefault(company.name.lower(), company)

    def resolve(self, clean: Mapping[str, Any]) -> Company | None:
        """Mirror of services.company_resolve, against the cache (new companies saved now)."""
        domain = clean.get("company_domain") or company_domain_from_email(clean.get("email", ""))
        name = clean.get("company", "")
        if not domain and not name:
            return None
        if domain:
            company = self.by_domain.get(domain)
            if company is None:
                company = Company.objects.create(domain=domain, name=name)
                self.by_domain[domain] = company
        else:
            company = self.by_name.get(name.lower())
            if company is None:
                company = Company.objects.create(name=name)
                self.by_name[name.lower()] = company
        fills = {
            "name": name,
            "industry": clean.get("industry", ""),
            "employee_count": clean.get("employee_count"),
            "annual_revenue": clean.get("annual_revenue"),
            "country": clean.get("country", "") if domain else "",
        }
        for key, value in fills.items():
            if value not in ("", None) and not getattr(company, key):
                setattr(company, key, value)
                self.dirty.setdefault(company.pk, (company, set()))[1].add(key)
        return company

    def flush(self) -> None:
        by_fields: dict[frozenset[str], list[Company]] = defaultdict(list)
        for company, changed in self.dirty.values():
            by_fields[frozenset(changed)].append(company)
        for fields, companies in by_fields.items():
            Company.objects.bulk_update(companies, [*sorted(fields), "updated_at"])
        self.dirty.clear()


def lead_upsert_many(
    rows: Sequence[Mapping[str, Any]],
    *,
    source: str,
    actor: User | None = None,
    at: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Upsert every row; rows are processed in order, in chunks of CHUNK per transaction."""
    result = BatchResult()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        with transaction.atomic():
            result.outcomes.extend(_upsert_chunk(chunk, start, source, actor, at))
        if progress is not None:
            progress(min(start + CHUNK, len(rows)), len(rows))
    return result


def _upsert_chunk(
    rows: Sequence[Mapping[str, Any]],
    offset: int,
    source: str,
    actor: User | None,
    at: dt.datetime | None,
) -> list[RowOutcome]:
    now = at or timezone.now()
    outcomes: dict[int, RowOutcome] = {}
    cleaned: list[tuple[int, dict[str, Any]]] = []
    for i, row in enumerate(rows):
        try:
            cleaned.append((i, normalize_lead_data(row)))
        except ValidationFailed as exc:
            outcomes[i] = RowOutcome(
                index=offset + i, action="rejected", errors=exc.fields, message=exc.message
            )

    emails = {c["email"] for _, c in cleaned if "email" in c}
    phones = {c["phone"] for _, c in cleaned if "phone" in c}
    by_email: dict[str, _LeadState] = {}
    by_phone: dict[str, list[_LeadState]] = defaultdict(list)
    existing: dict[int, _LeadState] = {}
    for values, key in ((sorted(emails), "email__in"), (sorted(phones), "phone__in")):
        for part in _chunks(values, _IN_LIMIT):
            for lead in Lead.objects.select_for_update().filter(**{key: part}).order_by("id"):
                if lead.pk not in existing:
                    existing[lead.pk] = _LeadState(lead=lead, is_new=False, created_at_row=-1)
    company_of = Company.objects.in_bulk(
        sorted({s.lead.company_id for s in existing.values() if s.lead.company_id is not None})
    )
    for state in sorted(existing.values(), key=lambda s: s.lead.pk):
        if state.lead.company_id is not None:
            state.lead.company = company_of[state.lead.company_id]
        if state.lead.email:
            by_email[state.lead.email] = state
        if state.lead.phone:
            by_phone[state.lead.phone].append(state)

    companies = _CompanyCache()
    domains = {
        c.get("company_domain") or company_domain_from_email(c.get("email", "")) for _, c in cleaned
    }
    companies.preload(
        {d for d in domains if d}, {c["company"] for _, c in cleaned if "company" in c}
    )
    campaign_names = {c["campaign"] for _, c in cleaned if "campaign" in c}
    campaigns = {c.name: c for c in Campaign.objects.filter(name__in=sorted(campaign_names))}

    def campaign_for(name: str, channel: str) -> Campaign | None:
        if not name:
            return None
        if name not in campaigns:
            campaigns[name] = Campaign.objects.create(
                name=name, channel=channel or "other", utm_campaign=name
            )
        return campaigns[name]

    states_in_order: list[_LeadState] = []
    row_state: dict[int, tuple[_LeadState, Action]] = {}
    for i, clean in cleaned:
        matched = _match(clean, by_email, by_phone)
        if matched is None:
            state = _new_state(clean, i, source, now, companies, campaign_for)
            states_in_order.append(state)
            if state.lead.email:
                by_email[state.lead.email] = state
            if state.lead.phone:
                by_phone[state.lead.phone].append(state)
            row_state[i] = (state, "created")
            continue
        state = matched
        row_state[i] = (state, _apply_update(state, clean, i, companies, campaign_for))
        # A filled email or phone makes the lead findable by it for the rows that follow.
        if state.lead.email and state.lead.email not in by_email:
            by_email[state.lead.email] = state
        if state.lead.phone and state not in by_phone[state.lead.phone]:
            by_phone[state.lead.phone].append(state)
            by_phone[state.lead.phone].sort(key=_id_order)

    new_leads = [s.lead for s in states_in_order]
    Lead.objects.bulk_create(new_leads, batch_size=500)
    companies.flush()
    changed = [s for s in existing.values() if s.dirty]
    by_fields: dict[frozenset[str], list[Lead]] = defaultdict(list)
    for state in changed:
        state.lead.search_text = _search_text(state.lead)
        by_fields[frozenset(state.dirty)].append(state.lead)
    for fields, leads in by_fields.items():
        Lead.objects.bulk_update(leads, [*sorted(fields), "search_text", "updated_at"], 500)

    transitions: list[LifecycleTransition] = []
    events: list[Event] = []
    history: list[LeadChange] = []
    for state in states_in_order:
        lead = state.lead
        transitions.append(
            LifecycleTransition(
                lead=lead,
                kind=TransitionKind.STAGE,
                from_value="",
                to_value=lead.lifecycle_stage,
                at=now,
                reason=f"created from {source}",
                actor=actor,
                actor_label="user" if actor else source,
            )
        )
        events.append(
            Event(
                lead=lead,
                type=LEAD_CREATED,
                occurred_at=now,
                source=source[:64],
                properties={"source": source, "channel": lead.source_channel},
            )
        )
    for state in [*existing.values(), *states_in_order]:
        history.extend(
            LeadChange(
                lead=state.lead, field=f, old_value=o, new_value=n, kind=k, source=source, at=now
            )
            for f, o, n, k in state.history
        )
    LifecycleTransition.objects.bulk_create(transitions, batch_size=1000)
    Event.objects.bulk_create(events, batch_size=1000)
    LeadChange.objects.bulk_create(history, batch_size=1000)
    _suggest(list(existing.values()) + states_in_order)

    for i, (state, action) in row_state.items():
        outcomes[i] = RowOutcome(index=offset + i, action=action, lead_id=state.lead.pk)
    return [outcomes[i] for i in sorted(outcomes)]


def _id_order(state: _LeadState) -> tuple[int, int]:
    """Leads in the order of their ids: existing ones first, then new ones as created."""
    return (1, state.created_at_row) if state.is_new else (0, state.lead.pk)


def _match(
    clean: Mapping[str, Any],
    by_email: Mapping[str, _LeadState],
    by_phone: Mapping[str, list[_LeadState]],
) -> _LeadState | None:
    """Same rule as services._find_existing: email first, then a phone whose lead has no
    different email (lowest id first; leads new in this batch after existing ones)."""
    email = clean.get("email", "")
    if email and email in by_email:
        return by_email[email]
    phone = clean.get("phone", "")
    for state in by_phone.get(phone, []) if phone else []:
        if not email or not state.lead.email or state.lead.email == email:
            return state
    return None


def _new_state(
    clean: dict[str, Any],
    row: int,
    source: str,
    now: dt.datetime,
    companies: _CompanyCache,
    campaign_for: Callable[[str, str], Campaign | None],
) -> _LeadState:
    stage = clean.get("lifecycle_stage") or LifecycleStage.LEAD
    lead = Lead(
        **{name: clean[name] for name in LEAD_FIELDS if name in clean},
        attributes=clean.get("attributes", {}),
        lifecycle_stage=stage,
        last_activity_at=now,
    )
    lead.source_detail = lead.source_detail or source
    lead.company = companies.resolve(clean)
    lead.campaign = campaign_for(clean.get("campaign", ""), lead.source_channel)
    setattr(lead, STAGE_TIMESTAMP_FIELD.get(stage, "became_lead_at"), now)
    lead.search_text = _search_text(lead)
    return _LeadState(lead=lead, is_new=True, created_at_row=row, suggest_upto=row)


def _apply_update(
    state: _LeadState,
    clean: dict[str, Any],
    row: int,
    companies: _CompanyCache,
    campaign_for: Callable[[str, str], Campaign | None],
) -> Action:
    lead = state.lead
    current: dict[str, Any] = {name: getattr(lead, name) for name in LEAD_FIELDS}
    current["attributes"] = lead.attributes
    plan = plan_merge(current, clean, overwrite=False)
    for name, value in plan.updates.items():
        setattr(lead, name, value)
    touched = set(plan.updates)
    has_company_input = any(
        k in clean for k in ("company", "company_domain", "industry", "employee_count")
    )
    if (
        lead.company_id is None
        and lead.company is None
        and (has_company_input or "email" in plan.filled)
    ):
        company = companies.resolve({**clean, "email": lead.email})
        if company is not None:
            lead.company = company
            touched.add("company")
            plan.filled.append("company")
    if lead.campaign_id is None and lead.campaign is None and clean.get("campaign"):
        lead.campaign = campaign_for(clean["campaign"], lead.source_channel)
        touched.add("campaign")
        plan.filled.append("campaign")
    if clean.get("lifecycle_stage") and clean["lifecycle_stage"] != lead.lifecycle_stage:
        plan.history.append(
            ("lifecycle_stage", lead.lifecycle_stage, clean["lifecycle_stage"], "conflict_kept")
        )
    if touched and state.is_new:
        lead.search_text = _search_text(lead)
    state.dirty |= touched
    state.history.extend(plan.history)
    if plan.filled:
        state.suggest_upto = row
    return "updated" if (touched or plan.history) else "unchanged"


def _search_text(lead: Lead) -> str:
    return search_text_for(
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        phone=lead.phone,
        company_name=lead.company.name if lead.company else "",
    )


def _suggest(states: Sequence[_LeadState]) -> None:
    """Same-name-at-same-company-domain suggestions, as lead_upsert makes them one row at a
    time: a lead is compared with the leads that existed when its row was processed."""
    wanted = [
        s
        for s in states
        if s.suggest_upto > -2
        and s.lead.first_name
        and s.lead.last_name
        and s.lead.company is not None
        and s.lead.company.domain
    ]
    if not wanted:
        return
    created_row = {s.lead.pk: s.created_at_row for s in states}
    company_ids = sorted({s.lead.company_id for s in wanted if s.lead.company_id is not None})
    groups: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for part in _chunks(company_ids, _IN_LIMIT):
        rows = (
            Lead.objects.filter(company_id__in=part)
            .exclude(first_name="")
            .exclude(last_name="")
            .order_by("id")
            .values_list("pk", "company_id", "first_name", "last_name")
        )
        for pk, company_id, first, last in rows:
            groups[(company_id, first.lower(), last.lower())].append(pk)
    suggestions = []
    for state in wanted:
        lead = state.lead
        assert lead.company_id is not None
        key = (lead.company_id, lead.first_name.lower(), lead.last_name.lower())
        for other in groups.get(key, [])[:10]:
            if other != lead.pk and created_row.get(other, -1) < state.suggest_upto:
                suggestions.append(
                    DuplicateSuggestion(
                        lead=lead,
                        candidate_id=other,
                        reason=f"same name at {lead.company.domain}" if lead.company else "",
                    )
                )
    DuplicateSuggestion.objects.bulk_create(suggestions, ignore_conflicts=True)
