"""How incoming values meet stored ones. Pure functions: no database access.

Policy (docs/leads.md): an empty field is filled; an equal value changes nothing; a
different value is, by default, *not* applied and is kept in the lead's history as
`conflict_kept` (a form or import never silently overwrites what a person entered). An
explicit edit (`overwrite=True`: API PATCH, the lead page) applies it and keeps the old value
in the history as `updated`. Nothing is ever lost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Fields stored on the Lead row itself (company and campaign are resolved separately).
LEAD_FIELDS: tuple[str, ...] = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "job_title",
    "seniority",
    "department",
    "country",
    "region",
    "city",
    "source_channel",
    "source_detail",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "landing_page",
    "referrer_url",
)
COMPANY_INPUT_FIELDS: tuple[str, ...] = (
    "company",
    "company_domain",
    "industry",
    "employee_count",
    "annual_revenue",
)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass
class MergePlan:
    updates: dict[str, Any] = field(default_factory=dict)
    filled: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)
    # (field, old, new, kind) rows for LeadChange
    history: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def conflicts(self) -> list[str]:
        return [f for f, _, _, kind in self.history if kind == "conflict_kept"]


def plan_merge(
    current: Mapping[str, Any], incoming: Mapping[str, Any], *, overwrite: bool, kind: str = ""
) -> MergePlan:
    """What to write to a lead whose values are `current`, given cleaned `incoming` values.

    `kind` overrides the history kind for replaced/unapplied values (used by lead_merge).
    """
    plan = MergePlan()
    for name in LEAD_FIELDS:
        if name not in incoming:
            continue
        new = incoming[name]
        old = current.get(name) or ""
        if new in ("", None) or new == old:
            continue
        if not old:
            plan.updates[name] = new
            plan.filled.append(name)
        elif overwrite:
            plan.updates[name] = new
            plan.overwritten.append(name)
            plan.history.append((name, as_text(old), as_text(new), kind or "updated"))
        else:
            plan.history.append((name, as_text(old), as_text(new), kind or "conflict_kept"))

    new_attrs = incoming.get("attributes") or {}
    if new_attrs:
        attrs = dict(current.get("attributes") or {})
        changed = False
        for key, value in new_attrs.items():
            label = f"attributes.{key}"
            if key not in attrs or attrs[key] in ("", None):
                attrs[key] = value
                changed = True
                plan.filled.append(label)
            elif attrs[key] != value:
                if overwrite:
                    plan.history.append(
                        (label, as_text(attrs[key]), as_text(value), kind or "updated")
                    )
                    attrs[key] = value
                    changed = True
                    plan.overwritten.append(label)
                else:
                    plan.history.append(
                        (label, as_text(attrs[key]), as_text(value), kind or "conflict_kept")
                    )
        if changed:
            plan.updates["attributes"] = attrs
    return plan


def search_text_for(
    *, first_name: str, last_name: str, email: str, phone: str, company_name: str
) -> str:
    text = " ".join(p for p in (first_name, last_name, email, phone, company_name) if p)
    return text.lower()[:700]


def name_key_for(first_name: str, last_name: str) -> str:
    """What same-name duplicate suggestions compare (Lead.name_key): both names case-folded,
    a tab between them (cleaned names never hold one, so "Mary Ann" + "Lee" and "Mary" +
    "Ann Lee" stay apart); "" unless both are given."""
    if not first_name or not last_name:
        return ""
    return f"{first_name.casefold()}\t{last_name.casefold()}"
