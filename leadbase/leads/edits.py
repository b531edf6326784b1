"""Explicit edits of a lead (API `PATCH`, the admin), with JSON merge-patch semantics.

- A field left out is not changed.
- A value replaces the stored one; the old value stays in the lead's history (`LeadChange`,
  kind `updated`).
- `null` or `""` clears a field that may be empty. Email and phone may be cleared only while
  the other one remains (a lead is found again by one of them). Stage, sales status and
  temperature always have a value; the company's firmographics (industry, size, revenue)
  belong to the company, which other leads share, so they cannot be cleared through a lead.
- `attributes` are merged key by key; a key set to `null` is removed, `null` removes all.
- `owner` (a user, a user id or a username) must be an active user who can own leads; only
  admins and marketers may reassign (a sales rep cannot give a lead away).
- Stage changes go through `transition_record`; sales status, qualification and temperature
  changes are recorded as transitions of their kind too (funnels read those rows), each with
  the actor and the reason.

`services.lead_update` is the entry point; it calls `lead_update` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadbase.accounts.models import Role, User
from leadbase.core.errors import PermissionDenied, ValidationFailed

from .merge_rules import LEAD_FIELDS, MergePlan, as_text, plan_merge
from .models import (
    Lead,
    LeadChange,
    LifecycleStage,
    LifecycleTransition,
    Qualification,
    SalesStatus,
    Temperature,
    TransitionKind,
)
from .normalize import ACCEPTED_FIELDS, clean_text, normalize_lead_data
from .services import (
    DERIVED_FIELDS,
    UpsertResult,
    _derive,
    _history_rows,
    campaign_resolve,
    company_resolve,
    lead_assign,
    transition_record,
)

# Fields an edit takes besides those every way into Leadbase takes (normalize.ACCEPTED_FIELDS).
STATUS_FIELDS: dict[str, tuple[list[str], str]] = {
    "sales_status": (list(SalesStatus.values), TransitionKind.SALES_STATUS),
    "qualification": (list(Qualification.values), TransitionKind.QUALIFICATION),
    "temperature": (list(Temperature.values), TransitionKind.TEMPERATURE),
}
EDIT_ONLY_FIELDS = frozenset({"owner", *STATUS_FIELDS})
# Fields that always hold a value: null or "" is an error, not a way to clear them.
NOT_CLEARABLE: dict[str, str] = {
    "lifecycle_stage": "cannot be empty: every lead has a stage; choose one of "
    + ", ".join(LifecycleStage.values),
    "sales_status": "cannot be empty: choose one of " + ", ".join(SalesStatus.values),
    "temperature": "cannot be empty: choose one of " + ", ".join(Temperature.values),
    **dict.fromkeys(
        ("industry", "employee_count", "annual_revenue"),
        "belongs to the lead's company, which other leads may share, so it cannot be cleared "
        "through a lead",
    ),
}
MAX_REASON = 500  # LifecycleTransition.reason


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _choice(value: Any, allowed: list[str]) -> str:
    if not isinstance(value, str):
        raise ValueError
    choice = clean_text(value).lower().replace(" ", "_").replace("-", "_")
    if choice == "none" and "" in allowed:
        return ""  # "none" names the blank choice (not qualified), as in the list filter
    if choice not in allowed:
        raise ValueError
    return choice


def _is_actor(value: Any, actor: User) -> bool:
    """Whether an `owner` value names `actor` (without a query)."""
    if isinstance(value, User):
        return value.pk == actor.pk
    if isinstance(value, int) and not isinstance(value, bool):
        return value == actor.pk
    return isinstance(value, str) and value.strip() == actor.username


def may_reassign(user: User | None) -> bool:
    """Admins and marketers may assign leads to anyone (None: the system itself)."""
    return user is None or user.is_leadbase_admin or (user.is_active and user.role == Role.MARKETER)


def owner_resolve(value: Any) -> User | None:
    """The user an `owner` value names (a User, an id, or a username); None unassigns.
    Raises ValueError with what is wrong."""
    if _blank(value):
        return None
    user: User | None
    if isinstance(value, User):
        user = value
    elif isinstance(value, int) and not isinstance(value, bool):
        user = User.objects.filter(pk=value).first() if 0 < value < 2**63 else None
        if user is None:
            raise ValueError(f"there is no user with id {value}")
    elif isinstance(value, str):
        user = User.objects.filter(username=value.strip()).first()
        if user is None:
            raise ValueError(f"there is no user named {value.strip()[:150]!r}")
    else:
        raise ValueError("must be a user id (a number) or a username (text)")
    if not user.is_active:
        raise ValueError(f"{user.username} is deactivated and cannot own leads")
    if not user.can_edit_leads:
        raise ValueError(f"{user.username} is a {user.get_role_display()}, who cannot own leads")
    return user


def _summary(errors: Mapping[str, str]) -> str:
    return "; ".join(f"{field} {message}" for field, message in errors.items())


def lead_update(
    *,
    lead: Lead,
    data: Mapping[str, Any],
    actor: User | None,
    source: str = "edit",
    reason: str = "",
) -> UpsertResult:
    """Apply an explicit edit to `lead` (see the module docstring for the rules).

    Raises ValidationFailed naming every bad field (nothing is changed then), or
    PermissionDenied when a sales rep tries to give the lead away. Cleared fields are
    reported in the result's `overwritten`.
    """
    data = dict(data)
    errors: dict[str, str] = {}
    for key in sorted(k for k in data if k not in ACCEPTED_FIELDS | EDIT_ONLY_FIELDS):
        errors[key] = "is not a lead field (put custom data under 'attributes')"
    cleared = {k for k, v in data.items() if _blank(v) and k in ACCEPTED_FIELDS | EDIT_ONLY_FIELDS}
    for key in sorted(cleared & NOT_CLEARABLE.keys()):
        errors[key] = NOT_CLEARABLE[key]

    statuses: dict[str, str] = {}
    for key, (allowed, _kind) in STATUS_FIELDS.items():
        if key in data and key not in cleared:
            try:
                statuses[key] = _choice(data[key], allowed)
            except ValueError:
                errors[key] = "must be one of: " + ", ".join(v or "none" for v in allowed)
    if "qualification" in cleared:
        statuses["qualification"] = Qualification.NONE

    owner_given = "owner" in data
    new_owner: User | None = None
    if owner_given:
        owner_value = data["owner"]
        if not may_reassign(actor) and not (actor and _is_actor(owner_value, actor)):
            raise PermissionDenied(
                "Sales reps cannot give a lead away or unassign it; only admins and marketers "
                "may reassign leads. Ask one of them, or leave `owner` out.",
                fields={"owner": "only admins and marketers may reassign leads"},
            )
        try:
            new_owner = owner_resolve(owner_value)
        except ValueError as exc:
            errors["owner"] = str(exc)

    attributes = data.get("attributes")
    removed_attributes: list[str] = []
    if isinstance(attributes, Mapping):
        removed_attributes = [clean_text(k)[:100] for k, v in attributes.items() if v is None]
        attributes = {k: v for k, v in attributes.items() if v is not None}

    # What normalize_lead_data checks: the values given, and the email and phone kept.
    given = {
        k: v
        for k, v in data.items()
        if k in ACCEPTED_FIELDS and k not in cleared and k != "attributes"
    }
    if attributes:
        given["attributes"] = attributes
    kept = {k: getattr(lead, k) for k in ("email", "phone") if k not in cleared and k not in given}
    if "phone" in given and "country" not in data and lead.country:
        kept["country"] = lead.country  # a number without + is read with the lead's country
    clean: dict[str, Any] = {}
    try:
        clean = normalize_lead_data({**{k: v for k, v in kept.items() if v}, **given})
    except ValidationFailed as failed:
        errors = {**failed.fields, **errors}
    if "seniority" in cleared:
        clean.pop("seniority", None)  # not inferred again from the job title
    for key, other in (("email", "phone"), ("phone", "email")):
        other_remains = other in given or (other not in cleared and getattr(lead, other))
        if key in cleared and getattr(lead, key) and not other_remains:
            errors[key] = (
                f"cannot be removed: the lead has no {other} (a lead needs an email address or "
                "a phone number); set one first or in the same request"
            )
    if errors:
        raise ValidationFailed(f"The lead was not changed: {_summary(errors)}.", fields=errors)

    now = timezone.now()
    reason = clean_text(reason)[:MAX_REASON] or (
        f"changed by {actor.username} ({source})" if actor else f"changed ({source})"
    )
    with transaction.atomic():
        for key in ("email", "phone"):
            value = clean.get(key)
            if value and value != getattr(lead, key):
                clash = Lead.objects.filter(**{key: value}).exclude(pk=lead.pk).first()
                if clash is not None:
                    raise ValidationFailed(
                        f"Another lead already has this {key}; merge the two leads instead.",
                        fields={key: "belongs to another lead"},
                    )
        locked = (
            Lead.objects.select_for_update(of=("self",)).select_related("company").get(pk=lead.pk)
        )
        current = {name: getattr(locked, name) for name in LEAD_FIELDS}
        current["attributes"] = locked.attributes
        plan = plan_merge(current, clean, overwrite=True)

        for name in LEAD_FIELDS:
            old = current[name]
            if name in cleared and old:
                plan.updates[name] = ""
                plan.overwritten.append(name)
                plan.history.append((name, as_text(old), "", "updated"))
        _clear_attributes(locked, plan, cleared, removed_attributes)
        for name, value in plan.updates.items():
            setattr(locked, name, value)
        _relink(locked, plan, clean, cleared)

        transitions: list[tuple[str, str, str]] = []
        for name, value in statuses.items():
            old = getattr(locked, name)
            if value != old:
                setattr(locked, name, value)
                plan.updates[name] = value
                plan.overwritten.append(name)
                plan.history.append((name, old, value, "updated"))
                transitions.append((STATUS_FIELDS[name][1], old, value))

        if plan.updates:
            _derive(locked)
            locked.save(update_fields=[*plan.updates, *DERIVED_FIELDS, "updated_at"])
        stage = clean.get("lifecycle_stage")
        if stage and stage != locked.lifecycle_stage:
            plan.history.append(("lifecycle_stage", locked.lifecycle_stage, stage, "updated"))
            transition_record(lead=locked, to_stage=stage, reason=reason, actor=actor, at=now)
        LeadChange.objects.bulk_create(_history_rows(locked, plan.history, source=source, at=now))
        LifecycleTransition.objects.bulk_create(
            LifecycleTransition(
                lead=locked,
                kind=kind,
                from_value=old,
                to_value=new,
                at=now,
                reason=reason,
                actor=actor,
                actor_label="user" if actor else "system",
            )
            for kind, old, new in transitions
        )
        owner_changed = owner_given and locked.owner_id != (new_owner.pk if new_owner else None)
        if owner_changed:
            lead_assign(lead=locked, owner=new_owner, actor=actor)
    return UpsertResult(
        lead=locked,
        action="updated" if plan.history or plan.filled or owner_changed else "unchanged",
        filled=tuple(plan.filled),
        overwritten=tuple(plan.overwritten),
    )


def _clear_attributes(lead: Lead, plan: MergePlan, cleared: set[str], removed: list[str]) -> None:
    """`attributes: null` removes every custom attribute; a key set to null removes that key."""
    attrs = dict(plan.updates.get("attributes", lead.attributes) or {})
    if "attributes" in cleared:
        if attrs:
            plan.history.append(("attributes", as_text(lead.attributes), "", "updated"))
            plan.updates["attributes"] = {}
            plan.overwritten.append("attributes")
        return
    gone = [key for key in removed if key in attrs]
    for key in gone:
        plan.history.append((f"attributes.{key}", as_text(attrs.pop(key)), "", "updated"))
        plan.overwritten.append(f"attributes.{key}")
    if gone:
        plan.updates["attributes"] = attrs


def _relink(lead: Lead, plan: MergePlan, clean: Mapping[str, Any], cleared: set[str]) -> None:
    """The company and campaign: resolved from the values given, or unlinked when cleared."""
    if "company" in clean or "company_domain" in clean:
        company = company_resolve(clean)
        if company is not None and company.pk != lead.company_id:
            plan.history.append(
                ("company_id", as_text(lead.company_id), str(company.pk), "updated")
            )
            lead.company = company
            plan.updates["company"] = company
    elif cleared & {"company", "company_domain"} and lead.company_id is not None:
        plan.history.append(("company_id", str(lead.company_id), "", "updated"))
        lead.company = None
        plan.updates["company"] = None
    if "campaign" in clean:
        campaign = campaign_resolve(clean["campaign"], channel=lead.source_channel)
        if campaign is not None and campaign.pk != lead.campaign_id:
            plan.history.append(
                ("campaign_id", as_text(lead.campaign_id), str(campaign.pk), "updated")
            )
            lead.campaign = campaign
            plan.updates["campaign"] = campaign
    elif "campaign" in cleared and lead.campaign_id is not None:
        plan.history.append(("campaign_id", str(lead.campaign_id), "", "updated"))
        lead.campaign = None
        plan.updates["campaign"] = None
