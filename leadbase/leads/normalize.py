"""Validation and normalisation of incoming lead data, shared by every way a lead enters.

`normalize_lead_data` takes a plain mapping (from a form, a webhook, a CSV row or the API) and
returns the cleaned values, or raises `ValidationFailed` naming every bad field at once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leadbase.core.errors import ValidationFailed

from .countries import country_code_for
from .freemail import is_personal_domain
from .models import Channel, LifecycleStage, Seniority

# field -> max length (mirrors the model columns, so the database never truncates)
TEXT_FIELDS: dict[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "job_title": 200,
    "department": 100,
    "region": 100,
    "city": 100,
    "source_detail": 200,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "utm_term": 200,
    "utm_content": 200,
    "company": 200,
    "industry": 100,
    "campaign": 200,
}
URL_FIELDS = ("landing_page", "referrer_url")
CHOICE_FIELDS: dict[str, list[str]] = {
    "seniority": [v for v in Seniority.values if v],
    "source_channel": list(Channel.values),
    "lifecycle_stage": list(LifecycleStage.values),
}
ACCEPTED_FIELDS = frozenset(
    {
        "email",
        "phone",
        "country",
        "company_domain",
        "employee_count",
        "annual_revenue",
        "attributes",
        *TEXT_FIELDS,
        *URL_FIELDS,
        *CHOICE_FIELDS,
    }
)
MAX_ATTRIBUTES_BYTES = 8_192
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_COUNTRY_CODES = frozenset(c for c in phonenumbers.SUPPORTED_REGIONS if c.isalpha())

# Job-title words that reveal seniority, checked in this order ("Vice President" before
# "President"; a product owner is not a business owner).
_SENIORITY_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (Seniority.VP, re.compile(r"\b(vp|svp|evp|vice[ -]president)\b", re.I)),
    (Seniority.OWNER, re.compile(r"\b(founder|co-?founder|proprietor|(?<!product )owner)\b", re.I)),
    (Seniority.C_LEVEL, re.compile(r"\b(ceo|cto|cfo|coo|cmo|cio|cro|chief|president)\b", re.I)),
    (Seniority.DIRECTOR, re.compile(r"\b(director|head of)\b", re.I)),
    (Seniority.MANAGER, re.compile(r"\b(manager|lead|supervisor)\b", re.I)),
    (Seniority.SENIOR, re.compile(r"\b(senior|sr\.?|principal|staff)\b", re.I)),
    (Seniority.ENTRY, re.compile(r"\b(intern|junior|jr\.?|assistant|trainee|student)\b", re.I)),
)


def clean_text(value: Any) -> str:
    """Unicode NFC, control characters removed, whitespace collapsed."""
    if type(value) is str and value.isascii() and value.isprintable():
        return " ".join(value.split())  # already NFC, no control characters
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def normalize_email(raw: str) -> str:
    """The address as Leadbase stores and compares it: whole address lower-cased (so
    Ann@Example.COM and ann@example.com are one lead), domain in its Unicode form.

    That is `validate_email(raw.strip(), check_deliverability=False).normalized.lower()`.
    A plain ASCII address (a dot-atom before the @) takes a short cut with the same result:
    email_validator accepts such a part before the @ as it is, so only the domain needs
    checking, and that is done once per domain. Anything else goes to the full validator.
    """
    text = raw.strip()
    if (match := _PLAIN_EMAIL.match(text)) is not None:
        local, domain_part = match.groups()
        domain = _email_domain(
            domain_part,
            email_validator.TEST_ENVIRONMENT,
            email_validator.GLOBALLY_DELIVERABLE,
            tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES),
        )
        if (
            domain is not None
            and (len(local) <= _LOCAL_PART_MAX or not email_validator.STRICT)
            and len(local) + domain[2] <= _EMAIL_MAX
        ):
            return f"{local}@{domain[0]}".lower()
    return validate_email(text, check_deliverability=False).normalized.lower()


# RFC 5322 dot-atom (email_validator's DOT_ATOM_TEXT) before the @, ASCII hostname after it.
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
_PLAIN_EMAIL = re.compile(rf"([{_ATEXT}]+(?:\.[{_ATEXT}]+)*)@([a-zA-Z0-9.-]+)\Z")
_LOCAL_PART_MAX = 64  # octets before the @, checked only in email_validator's strict mode
_EMAIL_MAX = 254  # octets of the whole address, as given, normalised, and in IDNA ASCII


@lru_cache(maxsize=131_072)
def _email_domain(
    domain_part: str, test_environment: bool, globally_deliverable: bool, special: tuple[str, ...]
) -> tuple[str, str, int] | None:
    """(normalised domain, IDNA ASCII domain, octets the address takes besides the part before
    the @) for a domain email_validator accepts; None for any other (the full validator then
    gives the error). The arguments after the first are the validator settings it depends on."""
    del special  # part of the cache key only: validate_email reads the module's list
    try:
        result = validate_email(
            f"a@{domain_part}",
            check_deliverability=False,
            test_environment=test_environment,
            globally_deliverable=globally_deliverable,
        )
    except EmailNotValidError:
        return None
    longest = max(len(domain_part), len(result.domain.encode()), len(result.ascii_domain or ""))
    return result.domain, result.ascii_domain or "", 1 + longest


def normalize_phone(raw: str, *, country: str = "") -> str:
    """E.164 (+441632960961). Numbers without a + need the lead's country to be read."""
    try:
        number = phonenumbers.parse(raw, country or None)
    except phonenumbers.NumberParseException as exc:
        if not country and not raw.strip().startswith("+"):
            raise ValueError(
                "add the international prefix (e.g. +44 20 7946 0958) or give the lead's country"
            ) from exc
        raise ValueError("is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_domain(raw: str) -> str:
    text = raw.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.split("/")[0].split(":")[0].rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("is not a domain name") from exc
    if not _DOMAIN.match(text):
        raise ValueError("is not a domain name (expected something like example.com)")
    return text


@lru_cache(maxsize=131_072)
def seniority_from_title(title: str) -> str:
    for level, pattern in _SENIORITY_WORDS:
        if pattern.search(title):
            return str(level)
    return ""


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1] if "@" in email else ""


def company_domain_from_email(email: str) -> str:
    """The company's domain taken from a work address; empty for personal mailboxes."""
    return _company_domain(email_domain(email))


@lru_cache(maxsize=131_072)
def _company_domain(domain: str) -> str:
    if not domain or is_personal_domain(domain):
        return ""
    try:
        return normalize_domain(domain)
    except ValueError:
        return ""


@lru_cache(maxsize=4096)
def _country_code(text: str) -> str:
    """The ISO code of a country given by its code or name; "" for none."""
    code = clean_text(text).upper()
    if code not in _COUNTRY_CODES:
        code = country_code_for(code) or ""
    return code if code in _COUNTRY_CODES else ""


_CHOICES = {key: frozenset(values) for key, values in CHOICE_FIELDS.items()}
_CACHED_CHOICE_CHARS = 64  # longer values are checked without the cache


@lru_cache(maxsize=4096)
def _choice(key: str, text: str) -> str | None:
    """The stored value of the choice field `key` given as `text`; None if not a choice."""
    value = clean_text(text).lower().replace(" ", "_").replace("-", "_")
    return value if value in _CHOICES[key] else None


def normalize_lead_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Clean every known field; raise ValidationFailed listing every problem at once.

    Empty values are dropped (an empty field never overwrites anything). At least one of
    email or phone must remain.
    """
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if not ACCEPTED_FIELDS.issuperset(data):
        for key in sorted(k for k in data if k not in ACCEPTED_FIELDS):
            errors[key] = "is not a lead field (put custom data under 'attributes')"

    def present(key: str) -> Any:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return value

    country = present("country")
    if country is not None:
        code = _country_code(country if type(country) is str else str(country))
        if not code:
            errors["country"] = (
                "must be a country: its two-letter ISO 3166 code (DE, US) or its name (Germany)"
            )
        else:
            out["country"] = code

    if (raw := present("email")) is not None:
        try:
            out["email"] = normalize_email(str(raw))
        except EmailNotValidError as exc:
            errors["email"] = f"is not a valid email address: {exc}"
    if (raw := present("phone")) is not None:
        try:
            out["phone"] = normalize_phone(str(raw), country=out.get("country", ""))
        except ValueError as exc:
            errors["phone"] = str(exc)

    for key, limit in TEXT_FIELDS.items():
        if (raw := data.get(key)) is None:
            continue
        if type(raw) is str and raw.isascii() and raw.isprintable():
            text = " ".join(raw.split())  # clean_text's short cut; blank gives "", skipped
        elif isinstance(raw, (str, int, float)):
            text = clean_text(raw)
        else:
            errors[key] = "must be text"
            continue
        if len(text) > limit:
            errors[key] = f"is {len(text)} characters long; the limit is {limit}"
        elif text:
            out[key] = text

    for key in URL_FIELDS:
        if key not in data or (raw := present(key)) is None:
            continue
        url = str(raw).strip()
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            errors[key] = "must be an http(s) URL"
        elif len(url) > 2000:
            errors[key] = "is longer than 2000 characters"
        else:
            out[key] = url

    for key, allowed in CHOICE_FIELDS.items():
        if key not in data or (raw := present(key)) is None:
            continue
        if type(raw) is str and len(raw) <= _CACHED_CHOICE_CHARS:
            value = _choice(key, raw)
        else:
            value = _choice.__wrapped__(key, clean_text(raw))
        if value is None:
            errors[key] = f"must be one of: {', '.join(allowed)}"
        else:
            out[key] = value
    if "seniority" not in out and (inferred := seniority_from_title(out.get("job_title", ""))):
        out["seniority"] = inferred

    if "company_domain" in data and (raw := present("company_domain")) is not None:
        try:
            out["company_domain"] = normalize_domain(str(raw))
        except ValueError as exc:
            errors["company_domain"] = str(exc)

    if "employee_count" in data and (raw := present("employee_count")) is not None:
        try:
            count = int(str(raw).replace(",", "").strip())
            if count < 0 or count > 10_000_000:
                raise ValueError
            out["employee_count"] = count
        except ValueError:
            errors["employee_count"] = "must be a whole number between 0 and 10,000,000"
    if "annual_revenue" in data and (raw := present("annual_revenue")) is not None:
        try:
            revenue = Decimal(str(raw).replace(",", "").strip())
            if not revenue.is_finite() or revenue < 0 or revenue >= Decimal("1e14"):
                raise InvalidOperation
            out["annual_revenue"] = revenue.quantize(Decimal("0.01"))
        except InvalidOperation:
            errors["annual_revenue"] = "must be a non-negative number"

    if (raw := data.get("attributes")) not in (None, {}):
        if not isinstance(raw, Mapping):
            errors["attributes"] = "must be an object of custom attributes"
        else:
            try:
                encoded = json.dumps(raw, ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError):
                errors["attributes"] = "must hold only JSON values (text, numbers, booleans, lists)"
            else:
                if len(encoded.encode()) > MAX_ATTRIBUTES_BYTES:
                    errors["attributes"] = f"are larger than {MAX_ATTRIBUTES_BYTES} bytes"
                else:
                    out["attributes"] = {clean_text(k)[:100]: v for k, v in raw.items()}

    if not errors and "email" not in out and "phone" not in out:
        errors["email"] = "an email address or a phone number is required"
    if errors:
        summary = "; ".join(f"{field} {message}" for field, message in errors.items())
        raise ValidationFailed(f"The lead was not saved: {summary}.", fields=errors)
    return out
