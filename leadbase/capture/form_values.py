"""What a form's fields accept, and how their values become lead data.

`form_values_clean` checks raw values (from form encoding or JSON) field by field: required,
kind (email through the leads normalisation and email-validator, phone through phonenumbers,
country codes, choices, checkboxes), and length; unknown names are ignored. `lead_data_for`
maps cleaned values to the keys `lead_upsert` takes, by each field's `maps_to`. Pure functions
over the form's rows: no writes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError
from phonenumbers.geodata.locale import LOCALE_DATA

from leadbase.leads.merge_rules import COMPANY_INPUT_FIELDS, LEAD_FIELDS
from leadbase.leads.normalize import clean_text, normalize_email, normalize_phone

from .models import FieldKind, Form, FormField

CONSENT_FIELD = "lb.consent"
EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 40
# maps_to values other than LEAD_FIELDS and `attributes.<key>`: company inputs, with
# `company_name` as another name for `company` (what lead_upsert calls the company's name).
COMPANY_TARGETS: dict[str, str] = {name: name for name in COMPANY_INPUT_FIELDS}
COMPANY_TARGETS["company_name"] = "company"
ATTRIBUTE_PREFIX = "attributes."
# Kinds whose length limit is not the field's max_length (choices are checked against the list).
_LIMITS: dict[str, int] = {
    FieldKind.EMAIL: EMAIL_MAX_LENGTH,
    FieldKind.PHONE: PHONE_MAX_LENGTH,
    FieldKind.COUNTRY: 100,
    FieldKind.CHOICE: 1000,
}
_TRUE = frozenset({"on", "true", "1", "yes", "y", "checked"})
_FALSE = frozenset({"", "off", "false", "0", "no", "n"})
_TEXTAREA_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# C1 control characters, which leads' clean_text keeps (it removes C0 and DEL only)
_C1_CONTROL = re.compile(r"[\x80-\x9f]+")
_NAMES_MISSING_FROM_PHONENUMBERS = {
    "AC": "Ascension Island",
    "TA": "Tristan da Cunha",
    "XK": "Kosovo",
}


@cache
def countries() -> tuple[tuple[str, str], ...]:
    """(ISO 3166-1 alpha-2 code, English name) of every country, sorted by name: the codes the
    leads normalisation accepts, named from phonenumbers' locale data."""
    codes = [c for c in phonenumbers.SUPPORTED_REGIONS if c.isalpha() and len(c) == 2]
    named = [
        (code, _english_name(code) or _NAMES_MISSING_FROM_PHONENUMBERS.get(code, code))
        for code in codes
    ]
    return tuple(sorted(named, key=lambda pair: _sort_key(pair[1])))


def _english_name(code: str) -> str:
    """The English name in phonenumbers' locale table, where "*xx" means "as in language xx".
    (Read directly: importing phonenumbers.geocoder loads every geocoding table.)"""
    names: dict[str, str] = LOCALE_DATA.get(code, {})
    name = names.get("en", "")
    if name.startswith("*"):
        name = names.get(name[1:], "")
    return name


def _sort_key(name: str) -> str:
    """Names sorted as people expect: Åland next to Albania, not after Zimbabwe."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def country_codes() -> frozenset[str]:
    return frozenset(code for code, _ in countries())


def field_choices(field: FormField) -> list[tuple[str, str]]:
    """(value, label) pairs of a choice field; `choices` may hold strings, [value, label]
    pairs or {"value": ..., "label": ...} objects."""
    pairs: list[tuple[str, str]] = []
    for item in field.choices if isinstance(field.choices, list) else []:
        if isinstance(item, str):
            pairs.append((item, item))
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        elif isinstance(item, dict) and "value" in item:
            pairs.append((str(item["value"]), str(item.get("label", item["value"]))))
    return pairs


@dataclass(frozen=True)
class CleanValues:
    data: dict[str, Any]  # field name -> cleaned value (only fields that were given)
    email: str  # the normalised address of the first email field, or ""
    consent: bool  # the consent box was ticked
    errors: dict[str, str]  # field name -> what to fix


def _text(raw: Any) -> str | None:
    """A submitted scalar as text; None for what cannot be text (objects, lists)."""
    if isinstance(raw, bool):
        return "true" if raw else ""
    if isinstance(raw, (str, int, float)):
        return str(raw)
    return None


def _clean_textarea(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _TEXTAREA_CONTROL.sub("", text).strip()


def checkbox_value(raw: Any) -> bool | None:
    """True/False for a checkbox's submitted value, None when it is not a yes or no."""
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    text = _text(raw)
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def _too_long(text: str, limit: int) -> str:
    return f"Shorten this to at most {limit} characters (it has {len(text)})."


def _clean_one(
    field: FormField, raw: Any, *, country: str
) -> tuple[Any, str]:  # (value or None when empty, error)
    kind = field.kind
    if raw is None:
        return None, ""
    if kind == FieldKind.CHECKBOX:
        checked = checkbox_value(raw)
        if checked is None:
            return None, "Tick the box or leave it empty."
        return (checked or None), ""
    text = _text(raw)
    if text is None:
        return None, "Send text for this field."
    if kind == FieldKind.TEXTAREA:
        value = _clean_textarea(text)
    elif kind in (FieldKind.EMAIL, FieldKind.PHONE, FieldKind.COUNTRY):
        value = text.strip()
    else:
        value = clean_text(_C1_CONTROL.sub(" ", text))
    if not value:
        return None, ""
    limit = _LIMITS.get(kind, field.max_length)
    if len(value) > limit:
        return None, _too_long(value, limit)
    if kind == FieldKind.EMAIL:
        try:
            return normalize_email(value), ""
        except EmailNotValidError as exc:
            return None, f"Enter a valid email address ({exc})."
    if kind == FieldKind.PHONE:
        try:
            return normalize_phone(value, country=country), ""
        except ValueError as exc:
            return None, f"Enter a valid phone number: {exc}."
    if kind == FieldKind.COUNTRY:
        code = value.upper()
        if code not in country_codes():
            return None, "Choose a country from the list."
        return code, ""
    if kind == FieldKind.CHOICE:
        allowed = [v for v, _ in field_choices(field)]
        if value not in allowed:
            return None, "Choose one of the options given."
    return value, ""


def form_values_clean(
    *, form: Form, fields: Sequence[FormField], raw: Mapping[str, Any]
) -> CleanValues:
    """Check every field's raw value; errors name each field with what to fix."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    country = ""
    for field in fields:  # countries first: a phone without + is read in that country
        if field.kind == FieldKind.COUNTRY and raw.get(field.name) not in (None, ""):
            value, error = _clean_one(field, raw.get(field.name), country="")
            if value and not error:
                country = country or value
    for field in fields:
        value, error = _clean_one(field, raw.get(field.name), country=country)
        if error:
            errors[field.name] = error
        elif value is None or value == "":
            if field.required:
                errors[field.name] = (
                    "Tick this box to continue."
                    if field.kind == FieldKind.CHECKBOX
                    else "This field is required."
                )
        else:
            data[field.name] = value
    consent = False
    if form.consent_text:
        ticked = checkbox_value(raw.get(CONSENT_FIELD))
        consent = bool(ticked)
        if ticked is None:
            errors[CONSENT_FIELD] = "Tick the box or leave it empty."
        elif form.consent_required and not ticked:
            errors[CONSENT_FIELD] = "Tick this box to agree, or we cannot take your request."
    email = next((data[f.name] for f in fields if f.kind == FieldKind.EMAIL and f.name in data), "")
    return CleanValues(data=data, email=email, consent=consent, errors=errors)


def lead_target(maps_to: str) -> tuple[str, str] | None:
    """Where a field's value goes: ("lead", key) for a lead_upsert key, ("attribute", key) for a
    custom attribute, None for nowhere (empty or unknown `maps_to`)."""
    target = maps_to.strip()
    if target.startswith(ATTRIBUTE_PREFIX) and len(target) > len(ATTRIBUTE_PREFIX):
        return "attribute", target[len(ATTRIBUTE_PREFIX) :]
    if target in LEAD_FIELDS:
        return "lead", target
    if target in COMPANY_TARGETS:
        return "lead", COMPANY_TARGETS[target]
    return None


def lead_data_for(
    *, fields: Sequence[FormField], data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The lead data the fields' values map to, and which field each lead key came from (to
    report a lead-level error under the field the person filled in)."""
    lead: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for field in fields:
        if field.name not in data or (target := lead_target(field.maps_to)) is None:
            continue
        where, key = target
        value = data[field.name]
        if where == "attribute":
            attributes[key] = value
            origin.setdefault("attributes", field.name)
        elif key not in lead:
            lead[key] = value if not isinstance(value, bool) else ("yes" if value else "")
            origin[key] = field.name
    if attributes:
        lead["attributes"] = attributes
    return lead, origin
