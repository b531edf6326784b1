"""Field mapping of webhook sources: a platform's field names to lead fields.

A source's `field_mapping` maps a field name as the platform sends it to a target:

- a lead field (`email`, `first_name`, `company`, `phone`, ...: what `lead_upsert` takes),
- `full_name`, split at the last space into first and last name,
- `attributes.<key>`, a custom attribute of the lead,
- `""`, to drop the field.

The source's mapping is laid over the platform's defaults (below); names are matched without
regard to case. A platform field with no mapping is kept as `attributes.<name>`. When two
fields map to the same lead field, the first non-empty one wins and the other is kept as an
attribute, so nothing the person typed is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from leadbase.leads.normalize import ACCEPTED_FIELDS

FULL_NAME = "full_name"
ATTRIBUTE_PREFIX = "attributes."
MAX_MAPPING_ENTRIES = 200
MAX_ATTRIBUTE_VALUE = 1000
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
# Lead fields a mapping may name (`attributes` itself only through `attributes.<key>`).
LEAD_TARGETS = frozenset(ACCEPTED_FIELDS - {"attributes"})

FACEBOOK_DEFAULTS: dict[str, str] = {
    "email": "email",
    "work_email": "email",
    "full_name": FULL_NAME,
    "first_name": "first_name",
    "last_name": "last_name",
    "phone_number": "phone",
    "work_phone_number": "phone",
    "company_name": "company",
    "job_title": "job_title",
    "city": "city",
    "state": "region",
    "province": "region",
    "country": "country",
    "post_code": "attributes.postal_code",
    "zip_code": "attributes.postal_code",
    "street_address": "attributes.street_address",
}
LINKEDIN_DEFAULTS: dict[str, str] = {
    "EMAIL": "email",
    "WORK_EMAIL": "email",
    "FIRST_NAME": "first_name",
    "LAST_NAME": "last_name",
    "PHONE_NUMBER": "phone",
    "WORK_PHONE_NUMBER": "phone",
    "COMPANY_NAME": "company",
    "JOB_TITLE": "job_title",
    "JOB_FUNCTION": "department",
    "INDUSTRY": "industry",
    "CITY": "city",
    "STATE": "region",
    "COUNTRY": "country",
    "ZIP_CODE": "attributes.postal_code",
    "POSTAL_CODE": "attributes.postal_code",
    "SENIORITY": "attributes.linkedin_seniority",
    "COMPANY_SIZE": "attributes.company_size",
    "LINKEDIN_PROFILE_LINK": "attributes.linkedin_profile",
}
DEFAULTS: dict[str, dict[str, str]] = {
    "facebook": FACEBOOK_DEFAULTS,
    "linkedin": LINKEDIN_DEFAULTS,
    "generic": {},
}


def mapping_problems(mapping: Any) -> dict[str, str]:
    """Each bad entry of a field mapping and what is wrong with it ({} when it is valid)."""
    if not isinstance(mapping, dict):
        return {"field_mapping": 'must be a JSON object such as {"Budget": "attributes.budget"}'}
    if len(mapping) > MAX_MAPPING_ENTRIES:
        return {"field_mapping": f"has {len(mapping)} entries; the limit is {MAX_MAPPING_ENTRIES}"}
    problems: dict[str, str] = {}
    for key, target in mapping.items():
        name = f"field_mapping.{key}"
        if not isinstance(key, str) or not key.strip() or len(key) > 200:
            problems[name] = "the platform field name must be 1 to 200 characters"
        elif not isinstance(target, str):
            problems[name] = "the target must be text: a lead field, attributes.<key>, or ''"
        elif problem := target_problem(target):
            problems[name] = problem
    return problems


def target_problem(target: str) -> str | None:
    if target in ("", FULL_NAME) or target in LEAD_TARGETS:
        return None
    if target.startswith(ATTRIBUTE_PREFIX):
        if _ATTRIBUTE_KEY.match(target[len(ATTRIBUTE_PREFIX) :]):
            return None
        return "an attribute key is 1 to 64 letters, digits, '_', '-' or '.'"
    return (
        f"'{target[:60]}' is not a lead field; use one of {', '.join(sorted(LEAD_TARGETS))}, "
        "full_name, attributes.<key>, or '' to drop the field"
    )


def effective_mapping(kind: str, mapping: Mapping[str, str]) -> dict[str, str]:
    """The platform's defaults with the source's own entries laid over them, keyed by the
    case-folded platform field name."""
    merged = {k.casefold(): v for k, v in DEFAULTS.get(kind, {}).items()}
    merged.update({k.casefold(): v for k, v in mapping.items() if isinstance(v, str)})
    return merged


def attribute_key(name: str) -> str:
    """A platform field name as an attribute key: lower case, runs of other characters as
    `_`, at most 64 characters (`What's your budget?` -> `what_s_your_budget`)."""
    key = re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")[:64]
    return key or "field"


def as_value(raw: Any) -> str:
    """A platform value as text: lists joined with ', ', None as ''."""
    if raw is None:
        return ""
    if isinstance(raw, (list, tuple)):
        return ", ".join(as_value(item) for item in raw if item not in (None, ""))
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def split_full_name(full: str) -> tuple[str, str]:
    parts = full.split()
    if len(parts) < 2:
        return (parts[0] if parts else "", "")
    return " ".join(parts[:-1]), parts[-1]


def map_fields(
    kind: str, mapping: Mapping[str, str], fields: Iterable[tuple[str, Any]]
) -> dict[str, Any]:
    """Lead data from a platform's (name, value) pairs, as described in the module docstring.
    Values stay as sent (lead_upsert validates and normalises them)."""
    table = effective_mapping(kind, mapping)
    data: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    full_names: list[str] = []

    def keep(name: str, value: str) -> None:
        """Keep a value whose target is taken under the field's own name (made unique)."""
        base = key = attribute_key(name)
        for n in range(2, 100):
            if key not in attributes:
                break
            key = f"{base[:60]}_{n}"
        attributes[key] = value[:MAX_ATTRIBUTE_VALUE]

    for name, raw in fields:
        value = as_value(raw).strip()
        if not value:
            continue
        target = table.get(name.casefold(), f"{ATTRIBUTE_PREFIX}{attribute_key(name)}")
        if target == "":
            continue
        if target == FULL_NAME:
            full_names.append(value)
        elif target.startswith(ATTRIBUTE_PREFIX):
            key = target[len(ATTRIBUTE_PREFIX) :]
            if key not in attributes:
                attributes[key] = value[:MAX_ATTRIBUTE_VALUE]
            else:
                keep(name, value)
        elif target in data:
            keep(name, value)
        else:
            data[target] = value
    if full_names:
        first, last = split_full_name(full_names[0])
        if first and "first_name" not in data:
            data["first_name"] = first
        if last and "last_name" not in data:
            data["last_name"] = last
    if attributes:
        data["attributes"] = attributes
    return data


def map_generic_item(mapping: Mapping[str, str], item: Mapping[str, Any]) -> dict[str, Any]:
    """Lead data from one item of a generic delivery: keys in the source's mapping go to their
    target; other keys stay as they are (lead fields under their own names, `attributes` as an
    object), so an unknown key is reported by the lead validation, naming it."""
    table = {k.casefold(): v for k, v in mapping.items() if isinstance(v, str)}
    data: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    given = item.get("attributes")
    if isinstance(given, dict):
        attributes.update(given)
    elif given is not None:
        data["attributes"] = given  # not an object: lead validation says so
    for key, raw in item.items():
        if key in ("attributes", "consent"):
            continue
        target = table.get(key.casefold(), key)
        if target == "":
            continue
        if target == FULL_NAME:
            first, last = split_full_name(as_value(raw))
            data.setdefault("first_name", first)
            if last:
                data.setdefault("last_name", last)
        elif target.startswith(ATTRIBUTE_PREFIX):
            attributes[target[len(ATTRIBUTE_PREFIX) :]] = raw
        else:
            data[target] = raw
    if attributes and "attributes" not in data:
        data["attributes"] = attributes
    return data
