"""Writes for leads. `lead_upsert` is the single way a lead enters Leadbase; `lead_merge`
joins two leads that are one person; `transition_record` is how stages change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.errors import ValidationFailed

from .hooks import leads_changed
from .merge_rules import LEAD_FIELDS, as_text, name_key_for, plan_merge, search_text_for
from .models import (
    STAGE_TIMESTAMP_FIELD,
    Campaign,
    ChangeKind,
    Company,
    Consent,
    ConsentPurpose,
    ConsentStatus,
    DuplicateSuggestion,
    Event,
    Lead,
    LeadChange,
    LifecycleStage,
    LifecycleTransition,
    TransitionKind,
    Visitor,
)
from .normalize import company_domain_from_email, normalize_lead_data

LEAD_CREATED = "lead_created"
LEAD_MERGED = "lead_merged"


@dataclass(frozen=True)
class ConsentInput:
    purpose: str
    granted: bool = True
    text_shown: str = ""
    source: str = ""
    ip_address: str | None = None


@dataclass(frozen=True)
class UpsertResult:
    lead: Lead
    action: Literal["created", "updated", "unchanged"]
    matched_by: Literal["email", "phone", ""] = ""
    filled: tuple[str, ...] = ()
    overwritten: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    duplicate_suggestions: tuple[int, ...] = ()

    @property
    def created(self) -> bool:
        return self.action == "created"


def _validate_consents(consents: Sequence[ConsentInput]) -> None:
    bad = [c.purpose for c in consents if c.purpose not in ConsentPurpose.values]
    if bad:
        raise ValidationFailed(
            f"Unknown consent purpose(s) {', '.join(bad)}; choose from "
            f"{', '.join(ConsentPurpose.values)}.",
            fields={"consents": "unknown purpose"},
        )


def company_resolve(clean: Mapping[str, Any]) -> Company | None:
    """The company named by cleaned lead data (by domain, else by name), created if new;
    blank firmographics are filled, existing ones are left as they are."""
    domain = clean.get("company_domain") or company_domain_from_email(clean.get("email", ""))
    name = clean.get("company", "")
    if not domain and not name:
        return None
    if domain:
        # `.exclude(domain="")` lets SQLite use the partial unique index on domain
        company, _ = Company.objects.exclude(domain="").get_or_create(
            domain=domain, defaults={"name": name}
        )
    else:
        company = Company.objects.filter(domain="", name__iexact=name).first() or (
            Company.objects.create(name=name)
        )
    fills = {
        "name": name,
        "industry": clean.get("industry", ""),
        "employee_count": clean.get("employee_count"),
        "annual_revenue": clean.get("annual_revenue"),
        "country": clean.get("country", "") if domain else "",
    }
    changed = [k for k, v in fills.items() if v not in ("", None) and not getattr(company, k)]
    for key in changed:
        setattr(company, key, fills[key])
    if changed:
        company.save(update_fields=[*changed, "updated_at"])
    return company


def campaign_resolve(name: str, *, channel: str = "") -> Campaign | None:
    if not name:
        return None
    campaign, _ = Campaign.objects.get_or_create(
        name=name, defaults={"channel": channel or "other", "utm_campaign": name}
    )
    return campaign


def _find_existing(clean: Mapping[str, Any]) -> tuple[Lead | None, Literal["email", "phone", ""]]:
    if email := clean.get("email"):
        # `.exclude(email="")` lets SQLite use the partial unique index on email
        lead = Lead.objects.select_for_update().exclude(email="").filter(email=email).first()
        if lead is not None:
            return lead, "email"
    if phone := clean.get("phone"):
        # Phone matches only a lead without a different email: two people can share a
        # switchboard number, but not an email address.
        query = Lead.objects.select_for_update().filter(phone=phone)
        if email := clean.get("email"):
            query = query.filter(Q(email="") | Q(email=email))
        lead = query.order_by("id").first()
        if lead is not None:
            return lead, "phone"
    return None, ""


def _suggest_duplicates(lead: Lead) -> list[int]:
    """Same name at the same company domain: a suggestion for a person, never a merge."""
    if not (lead.first_name and lead.last_name and lead.company_id):
        return []
    company = lead.company
    if company is None or not company.domain:
        return []
    # name_key compares names case-folded, the same on every database (iexact is ASCII-only
    # on SQLite), and is what lead_upsert_many compares; the index on it makes this a seek.
    name_key = name_key_for(lead.first_name, lead.last_name)
    others = (
        Lead.objects.filter(company=company, name_key=name_key)
        .exclude(pk=lead.pk)
        .values_list("pk", flat=True)[:10]
    )
    ids = list(others)
    for other in ids:
        DuplicateSuggestion.objects.get_or_create(
            lead=lead,
            candidate_id=other,
            defaults={"reason": f"same name at {company.domain}"},
        )
    return ids


def _record_consents(
    lead: Lead, consents: Sequence[ConsentInput], *, at: dt.datetime, source: str
) -> None:
    Consent.objects.bulk_create(
        [
            Consent(
                lead=lead,
                purpose=c.purpose,
                status=ConsentStatus.GRANTED if c.granted else ConsentStatus.WITHDRAWN,
                text_shown=c.text_shown,
                source=c.source or source,
                recorded_at=at,
                ip_address=c.ip_address,
            )
            for c in consents
        ]
    )


def _history_rows(
    lead: Lead, rows: Sequence[tuple[str, str, str, str]], *, source: str, at: dt.datetime
) -> list[LeadChange]:
    return [
        LeadChange(lead=lead, field=f, old_value=o, new_value=n, kind=k, source=source, at=at)
        for f, o, n, k in rows
    ]


# The longest source label stored (Consent.source, LeadChange.source, Lead.source_detail).
SOURCE_MAX_LENGTH = 200


def lead_upsert(
    *,
    data: Mapping[str, Any],
    source: str,
    actor: User | None = None,
    consents: Sequence[ConsentInput] = (),
    overwrite: bool = False,
    at: dt.datetime | None = None,
) -> UpsertResult:
    """Create or update the lead described by `data` (a mapping of lead fields).

    Validates and normalises (raising ValidationFailed with every bad field), finds the same
    person by email, then by phone, merges without losing data (see merge_rules), records
    consents, the creation event and transition, and suggests likely duplicates.
    `source` is a label (e.g. `form:<slug>`); it is kept to SOURCE_MAX_LENGTH characters.
    """
    source = source[:SOURCE_MAX_LENGTH]
    clean = normalize_lead_data(data)
    _validate_consents(consents)
    now = at or timezone.now()
    for attempt in range(2):
        try:
            with transaction.atomic():
                result = _upsert_clean(clean, source, actor, consents, overwrite, now)
                leads_changed([result.lead.pk])
                return result
        except IntegrityError:
            # A concurrent request created the same email first: go round once more and
            # update that lead instead.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _upsert_clean(
    clean: dict[str, Any],
    source: str,
    actor: User | None,
    consents: Sequence[ConsentInput],
    overwrite: bool,
    now: dt.datetime,
) -> UpsertResult:
    existing, matched_by = _find_existing(clean)
    if existing is None:
        return _create(clean, source, actor, consents, now)

    lead = existing
    current = {name: getattr(lead, name) for name in LEAD_FIELDS}
    current["attributes"] = lead.attributes
    plan = plan_merge(current, clean, overwrite=overwrite)
    update_fields = list(plan.updates)
    for name, value in plan.updates.items():
        setattr(lead, name, value)

    has_company_input = any(
        k in clean for k in ("company", "company_domain", "industry", "employee_count")
    )
    if lead.company_id is None and (has_company_input or "email" in plan.filled):
        company = company_resolve({**clean, "email": lead.email})
        if company is not None:
            lead.company = company
            update_fields.append("company")
            plan.filled.append("company")
    if lead.campaign_id is None and clean.get("campaign"):
        lead.campaign = campaign_resolve(clean["campaign"], channel=lead.source_channel)
        update_fields.append("campaign")
        plan.filled.append("campaign")
    if clean.get("lifecycle_stage") and clean["lifecycle_stage"] != lead.lifecycle_stage:
        if overwrite:
            transition_record(
                lead=lead, to_stage=clean["lifecycle_stage"], reason=f"set by {source}",
                actor=actor, at=now,
            )  # fmt: skip
        else:
            plan.history.append(
                ("lifecycle_stage", lead.lifecycle_stage, clean["lifecycle_stage"], "conflict_kept")
            )
    if update_fields:
        _derive(lead)
        lead.save(update_fields=[*update_fields, *DERIVED_FIELDS, "updated_at"])
    LeadChange.objects.bulk_create(_history_rows(lead, plan.history, source=source, at=now))
    _record_consents(lead, consents, at=now, source=source)
    suggestions = _suggest_duplicates(lead) if plan.filled else []
    return UpsertResult(
        lead=lead,
        action="updated" if (update_fields or plan.history or consents) else "unchanged",
        matched_by=matched_by,
        filled=tuple(plan.filled),
        overwritten=tuple(plan.overwritten),
        conflicts=tuple(plan.conflicts),
        duplicate_suggestions=tuple(suggestions),
    )


# Columns computed from the others by _derive (lead_upsert_many, the admin and the demo data
# compute them too).
DERIVED_FIELDS = ("search_text", "name_key")


def _derive(lead: Lead) -> None:
    """Sets the lead's derived columns from its names, contact and company."""
    lead.search_text = search_text_for(
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        phone=lead.phone,
        company_name=lead.company.name if lead.company else "",
    )
    lead.name_key = name_key_for(lead.first_name, lead.last_name)


def _create(
    clean: dict[str, Any],
    source: str,
    actor: User | None,
    consents: Sequence[ConsentInput],
    now: dt.datetime,
) -> UpsertResult:
    stage = clean.get("lifecycle_stage") or LifecycleStage.LEAD
    lead = Lead(
        **{name: clean[name] for name in LEAD_FIELDS if name in clean},
        attributes=clean.get("attributes", {}),
        lifecycle_stage=stage,
        last_activity_at=now,
    )
    lead.source_detail = lead.source_detail or source
    lead.company = company_resolve(clean)
    lead.campaign = campaign_resolve(clean.get("campaign", ""), channel=lead.source_channel)
    setattr(lead, STAGE_TIMESTAMP_FIELD.get(stage, "became_lead_at"), now)
    _derive(lead)
    lead.save()
    LifecycleTransition.objects.create(
        lead=lead,
        kind=TransitionKind.STAGE,
        from_value="",
        to_value=stage,
        at=now,
        reason=f"created from {source}",
        actor=actor,
        actor_label="user" if actor else source[:64],
    )
    Event.objects.create(
        lead=lead,
        type=LEAD_CREATED,
        occurred_at=now,
        source=source[:64],
        properties={"source": source, "channel": lead.source_channel},
    )
    _record_consents(lead, consents, at=now, source=source)
    suggestions = _suggest_duplicates(lead)
    return UpsertResult(
        lead=lead,
        action="created",
        filled=tuple(k for k in clean if k in LEAD_FIELDS),
        duplicate_suggestions=tuple(suggestions),
    )


def transition_record(
    *,
    lead: Lead,
    to_stage: str,
    reason: str,
    actor: User | None = None,
    actor_label: str = "",
    at: dt.datetime | None = None,
) -> LifecycleTransition | None:
    """Move `lead` to lifecycle stage `to_stage`, stamping the first time it got there and
    writing the transition row that funnels read. A no-op when already there."""
    if to_stage not in LifecycleStage.values:
        raise ValidationFailed(
            f"Unknown lifecycle stage {to_stage!r}; "
            f"choose from {', '.join(LifecycleStage.values)}.",
            fields={"lifecycle_stage": "unknown stage"},
        )
    if lead.lifecycle_stage == to_stage:
        return None
    now = at or timezone.now()
    previous = lead.lifecycle_stage
    lead.lifecycle_stage = to_stage
    fields = ["lifecycle_stage", "updated_at"]
    stamp = STAGE_TIMESTAMP_FIELD.get(to_stage)
    if stamp and getattr(lead, stamp) is None:
        setattr(lead, stamp, now)
        fields.append(stamp)
    lead.save(update_fields=fields)
    return LifecycleTransition.objects.create(
        lead=lead,
        kind=TransitionKind.STAGE,
        from_value=previous,
        to_value=to_stage,
        at=now,
        reason=reason,
        actor=actor,
        actor_label=actor_label or ("user" if actor else "system"),
    )


@transaction.atomic
def lead_merge(*, primary: Lead, duplicate: Lead, actor: User | None = None) -> Lead:
    """Join `duplicate` into `primary`: every event, transition, consent, history row and
    referral moves over; blank fields of `primary` are filled from `duplicate` and its other
    differing values are kept in primary's history; then `duplicate` is deleted."""
    if primary.pk == duplicate.pk:
        raise ValidationFailed("A lead cannot be merged into itself.")
    # Lock both rows in id order so two merges of the same pair cannot deadlock.
    locked = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update().filter(pk__in=[primary.pk, duplicate.pk])
    }
    if len(locked) != 2:
        raise ValidationFailed("One of the two leads no longer exists.")
    primary, duplicate = locked[primary.pk], locked[duplicate.pk]
    now = timezone.now()
    source = f"merge of lead {duplicate.pk}"

    Event.objects.filter(lead=duplicate).update(lead=primary)
    Visitor.objects.filter(lead=duplicate).update(lead=primary)
    LifecycleTransition.objects.filter(lead=duplicate).update(lead=primary)
    Consent.objects.filter(lead=duplicate).update(lead=primary)
    LeadChange.objects.filter(lead=duplicate).update(lead=primary)
    Lead.objects.filter(referred_by=duplicate).exclude(pk=primary.pk).update(referred_by=primary)
    DuplicateSuggestion.objects.filter(
        Q(lead=duplicate) | Q(candidate=duplicate) | Q(lead=primary, candidate=duplicate)
    ).delete()

    current = {name: getattr(primary, name) for name in LEAD_FIELDS}
    current["attributes"] = primary.attributes
    theirs = {name: getattr(duplicate, name) for name in LEAD_FIELDS}
    theirs["attributes"] = duplicate.attributes
    plan = plan_merge(current, theirs, overwrite=False, kind=ChangeKind.MERGED)
    extra: list[tuple[str, str, str, str]] = []
    for name in ("company_id", "campaign_id", "owner_id", "referred_by_id"):
        mine, other = getattr(primary, name), getattr(duplicate, name)
        if other is not None and other != primary.pk:
            if mine is None:
                plan.updates[name] = other
            elif mine != other:
                extra.append((name, as_text(mine), as_text(other), ChangeKind.MERGED))
    if duplicate.lifecycle_stage != primary.lifecycle_stage:
        extra.append(
            ("lifecycle_stage", primary.lifecycle_stage, duplicate.lifecycle_stage, "merged")
        )
    for stamp in [*STAGE_TIMESTAMP_FIELD.values(), "last_activity_at"]:
        mine_t, other_t = getattr(primary, stamp), getattr(duplicate, stamp)
        if other_t is not None:
            pick = max if stamp == "last_activity_at" else min
            best = other_t if mine_t is None else pick(mine_t, other_t)
            if best != mine_t:
                plan.updates[stamp] = best

    duplicate_id = duplicate.pk
    duplicate.delete()  # frees its unique email before primary may take it
    for name, value in plan.updates.items():
        setattr(primary, name, value)
    _derive(primary)
    primary.save()
    LeadChange.objects.bulk_create(
        _history_rows(primary, [*plan.history, *extra], source=source, at=now)
    )
    Event.objects.create(
        lead=primary,
        type=LEAD_MERGED,
        occurred_at=now,
        source="merge",
        properties={"merged_lead_id": duplicate_id, "by": actor.username if actor else "system"},
    )
    leads_changed([primary.pk], rebuild=True)  # events of another lead joined this one
    return primary


def lead_update(
    *,
    lead: Lead,
    data: Mapping[str, Any],
    actor: User | None,
    source: str = "edit",
    reason: str = "",
) -> UpsertResult:
    """An explicit edit by a person or an API client, as a merge patch: fields left out are
    unchanged, values given replace stored ones (the old values stay in the history), null or
    "" clears a field; owner, sales status, qualification, temperature and stage changes are
    recorded with the actor and `reason`. The rules are in `leads.edits`."""
    from .edits import lead_update as apply_edit  # edits builds on this module's helpers

    result = apply_edit(lead=lead, data=data, actor=actor, source=source, reason=reason)
    leads_changed([lead.pk])
    return result


def lead_assign(*, lead: Lead, owner: User | None, actor: User | None = None) -> Lead:
    previous = lead.owner_id
    if previous == (owner.pk if owner else None):
        return lead
    lead.owner = owner
    lead.save(update_fields=["owner", "updated_at"])
    LeadChange.objects.create(
        lead=lead,
        field="owner_id",
        old_value=as_text(previous),
        new_value=as_text(owner.pk if owner else None),
        kind=ChangeKind.UPDATED,
        source=f"assigned by {actor.username}" if actor else "assigned",
        at=timezone.now(),
    )
    return lead


def lead_delete(*, lead: Lead) -> None:
    """Delete the lead and everything recorded about it (right to erasure)."""
    lead.delete()


def lead_archive(*, lead: Lead, archived: bool = True) -> None:
    Lead.objects.filter(pk=lead.pk).update(archived=archived, updated_at=timezone.now())


__all__ = [
    "LEAD_CREATED",
    "LEAD_MERGED",
    "ConsentInput",
    "UpsertResult",
    "lead_archive",
    "lead_assign",
    "lead_delete",
    "lead_merge",
    "lead_update",
    "lead_upsert",
    "transition_record",
]
