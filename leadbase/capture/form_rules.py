"""The rules a form and its fields must follow, shared by the builder UI and the API.

Pure checks (no writes): each returns cleaned values and the problems found, keyed by the
API's field paths (`slug`, `fields.2.maps_to`), so one message serves both interfaces.
`services_forms` applies them before it writes anything.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from django.core.files.uploadedfile import UploadedFile

from leadbase.accounts.models import Role, User
from leadbase.leads.merge_rules import COMPANY_INPUT_FIELDS, LEAD_FIELDS
from leadbase.leads.models import Channel, ConsentPurpose
from leadbase.leads.normalize import clean_text

from .models import FieldKind, FormField, FormPurpose

MAX_FIELDS = 50
SHORT_FORM_VISIBLE_FIELDS = 5  # more visible fields than this: the builder suggests trimming
MAX_CHOICES = 100
MAX_ALLOWED_DOMAINS = 100
MAX_FIELD_LENGTH = 10_000
MAX_CONTENT_FILE_BYTES = 25 * 1024 * 1024
CONTENT_FILE_TYPES = frozenset(
    {"pdf", "epub", "zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "txt", "csv", "png",
     "jpg", "jpeg", "mp3", "mp4"}
)  # fmt: skip
# Slugs that public URLs under /f/ use for themselves (opt-in, downloads, assets).
RESERVED_SLUGS = frozenset({"confirm", "download", "embed", "static", "media", "api", "admin"})
# The public form's own inputs have a dot in their names (`lb.consent`, ...), which a field
# name cannot have; Django's CSRF input is the one name left to keep free.
RESERVED_FIELD_NAMES = frozenset({"csrfmiddlewaretoken"})
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
ATTRIBUTE_PREFIX = "attributes."
ATTRIBUTE_KEY_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")  # as webhook mappings take them
_HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# What a field can fill: the lead's own fields and the company fields lead_upsert takes.
_TARGET_LABELS = {
    "email": "Email",
    "phone": "Phone",
    "first_name": "First name",
    "last_name": "Last name",
    "job_title": "Job title",
    "company": "Company name",
    "company_domain": "Company website (domain)",
    "industry": "Industry",
    "employee_count": "Company size (employees)",
    "annual_revenue": "Annual revenue",
    "country": "Country",
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "utm_term": "UTM term",
    "utm_content": "UTM content",
    "landing_page": "Landing page",
    "referrer_url": "Referrer URL",
}
LEAD_TARGETS: dict[str, str] = {
    name: _TARGET_LABELS.get(name, name.replace("_", " ").capitalize())
    for name in (*LEAD_FIELDS, *COMPANY_INPUT_FIELDS)
}
MAPS_TO_ALIASES = {"company_name": "company"}  # accepted on input, stored as the lead field
OWNER_ROLES = frozenset({Role.ADMIN, Role.MARKETER, Role.SALES_REP})
EDITOR_ROLES = frozenset({Role.ADMIN, Role.MARKETER})


def may_edit_forms(user: User) -> bool:
    """Admins and marketers build forms and release held spam; everyone else reads."""
    return user.is_active and (user.role in EDITOR_ROLES or user.is_superuser)


@dataclass(frozen=True)
class FieldSpec:
    """One field as the builder or the API describes it (validated by `fields_check`)."""

    name: str
    label: str
    kind: str = FieldKind.TEXT
    required: bool = False
    maps_to: str = ""
    choices: tuple[str, ...] = ()
    default: str = ""
    placeholder: str = ""
    help_text: str = ""
    max_length: int = 200

    @classmethod
    def of(cls, field: FormField) -> FieldSpec:
        choices = field.choices if isinstance(field.choices, list) else []
        values = {
            f.name: getattr(field, f.name) for f in dataclasses.fields(cls) if f.name != "choices"
        }
        return cls(**values, choices=tuple(str(c) for c in choices))


# A new form asks for little: the email (required) and a first name, plus consent.
STARTER_FIELDS = (
    FieldSpec(name="email", label="Email", kind=FieldKind.EMAIL, required=True, maps_to="email"),
    FieldSpec(name="first_name", label="First name", maps_to="first_name", max_length=100),
)
STARTER_CONSENT = (
    "Yes, send me emails about your products and offers. I can unsubscribe at any time."
)
DEFAULT_SETTINGS: dict[str, Any] = {
    "slug": "",
    "purpose": FormPurpose.NEWSLETTER,
    "campaign": "",
    "channel": "",
    "is_active": True,
    "submit_label": "Submit",
    "consent_text": STARTER_CONSENT,
    "consent_purpose": ConsentPurpose.MARKETING_EMAIL,
    "consent_required": True,
    "double_opt_in": False,
    "thank_you_message": "Thank you! We have received your details.",
    "redirect_url": "",
    "allowed_domains": "",
    "owner": None,
    "notify_owner": False,
}
SETTING_NAMES = ("name", *DEFAULT_SETTINGS)
_TEXT_LIMITS = {"name": 200, "submit_label": 60}
_MULTILINE_LIMITS = {"consent_text": 5000, "thank_you_message": 5000}
_FLAGS = ("is_active", "consent_required", "double_opt_in", "notify_owner")


# --- Checks shared by the UI and the API ---------------------------------------------------


def parse_allowed_domains(
    hosts_in: str | Sequence[str],
) -> tuple[list[str], list[str]]:
    """The host names given (text with one per line, or a list) in their ASCII form, without
    duplicates, and the problems found, each naming its line (or entry). A pasted URL counts
    as its host."""
    listed = not isinstance(hosts_in, str)
    lines = list(hosts_in) if listed else str(hosts_in).splitlines()
    hosts: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        raw = line.strip() if isinstance(line, str) else ""
        if not raw and not listed:
            continue
        host, problem = _host_of(raw) if raw else ("", "is empty")
        if problem:
            where = f"entry {number}" if listed else f"line {number}"
            problems.append(f"{where} ({raw[:60]!r}) {problem}")
        elif host not in hosts:
            hosts.append(host)
    if len(hosts) > MAX_ALLOWED_DOMAINS:
        problems.append(f"lists {len(hosts)} hosts; the limit is {MAX_ALLOWED_DOMAINS}")
    return hosts, problems


def _host_of(raw: str) -> tuple[str, str]:
    if "*" in raw:
        return "", "is a wildcard; list each host name (example.com, www.example.com)"
    text = raw
    if "://" in text:
        try:
            text = urlsplit(text).hostname or ""
        except ValueError:
            return "", "is not a host name"
    text = text.split("/")[0]
    try:
        return str(ipaddress.ip_address(text.strip("[]"))), ""
    except ValueError:
        pass
    text = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    return host_normalize(text)


def host_normalize(text: str) -> tuple[str, str]:
    """(the host name in lower-case ASCII, "") or ("", what is wrong). IDN is encoded."""
    text = text.strip().rstrip(".").lower()
    try:
        ascii_host = text.encode("idna").decode("ascii")
    except UnicodeError:
        return "", "is not a host name"
    labels = ascii_host.split(".")
    if ascii_host == "localhost":
        return ascii_host, ""
    if (
        len(ascii_host) > 253
        or len(labels) < 2
        or not all(_HOST_LABEL_RE.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        return "", "is not a host name (expected something like example.com)"
    return ascii_host, ""


def redirect_problem(url: str, hosts: Sequence[str]) -> str:
    """What is wrong with `url` as the thank-you redirect, or "" when it may be used."""
    try:
        parts = urlsplit(url)
        if parts.port == 0:
            return "has port 0"
    except ValueError:  # also a port that is not a number
        return "is not a URL"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "must be a full http(s) address, e.g. https://example.com/thank-you"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    if len(url) > 500:
        return "is longer than 500 characters"
    host, problem = host_normalize(parts.hostname)
    if problem:
        try:
            host = str(ipaddress.ip_address(parts.hostname))
        except ValueError:
            return f"has a host that {problem}"
    if host in hosts:
        return ""
    if not hosts:
        return (
            f"goes to {host}, but no allowed domains are listed. A form redirects only to "
            f"sites you list: add {host} to the allowed domains."
        )
    return (
        f"goes to {host}, which is not among the allowed domains ({', '.join(hosts)}). "
        f"Add {host} to the allowed domains, or redirect to a page on one of them."
    )


def maps_to_normalize(value: str) -> tuple[str, str]:
    """(the stored form of a field's `maps_to`, "") or ("", what is wrong)."""
    text = MAPS_TO_ALIASES.get(value.strip(), value.strip())
    if not text or text in LEAD_TARGETS:
        return text, ""
    if text.startswith(ATTRIBUTE_PREFIX):
        key = text.removeprefix(ATTRIBUTE_PREFIX)
        if ATTRIBUTE_KEY_RE.match(key):
            return text, ""
        return "", (
            "names a custom attribute badly: after 'attributes.' use up to 64 letters, "
            "digits, _, - or . (e.g. attributes.team_size)"
        )
    return "", (
        f"{text[:60]!r} is not a lead field; choose one of {', '.join(LEAD_TARGETS)}, or "
        "attributes.<key> for a custom attribute"
    )


def _text_problem(value: Any, limit: int) -> tuple[str, str]:
    if not isinstance(value, str):
        return "", "must be text"
    text = clean_text(value)
    if len(text) > limit:
        return "", f"is {len(text)} characters long; the limit is {limit}"
    return text, ""


def _multiline_problem(value: Any, limit: int) -> tuple[str, str]:
    """Like _text_problem, but keeps line breaks (paragraphs of a message)."""
    if not isinstance(value, str):
        return "", "must be text"
    lines = [clean_text(line) for line in value.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    if len(text) > limit:
        return "", f"is {len(text)} characters long; the limit is {limit}"
    return text, ""


def _check_field(spec: FieldSpec, errors: dict[str, str], prefix: str) -> FieldSpec:
    out: dict[str, Any] = {}
    for attr, limit in (("label", 200), ("placeholder", 200), ("help_text", 300)):
        out[attr], problem = _text_problem(getattr(spec, attr), limit)
        if problem:
            errors[f"{prefix}{attr}"] = problem
    if not out["label"] and f"{prefix}label" not in errors:
        errors[f"{prefix}label"] = "is required: the text people see next to the field"
    name = spec.name.strip() if isinstance(spec.name, str) else ""
    if not name:
        errors[f"{prefix}name"] = "is required (e.g. company_size)"
    elif not FIELD_NAME_RE.match(name):
        errors[f"{prefix}name"] = (
            "must start with a lower-case letter and hold only lower-case letters, digits, "
            "_ and - (at most 64), e.g. company_size"
        )
    elif name in RESERVED_FIELD_NAMES:
        errors[f"{prefix}name"] = f"'{name}' is used by the form itself; choose another name"
    kind = spec.kind if spec.kind in FieldKind.values else ""
    if not kind:
        errors[f"{prefix}kind"] = f"must be one of {', '.join(FieldKind.values)}"
    maps_to, problem = maps_to_normalize(spec.maps_to if isinstance(spec.maps_to, str) else "")
    if problem:
        errors[f"{prefix}maps_to"] = problem
    elif maps_to == "email" and kind and kind != FieldKind.EMAIL:
        errors[f"{prefix}maps_to"] = "email is filled only by a field of kind email"
    choices = _check_choices(spec.choices, kind, errors, f"{prefix}choices")
    default, problem = _text_problem(spec.default, 500)
    if problem:
        errors[f"{prefix}default"] = problem
    elif default and kind == FieldKind.CHOICE and choices and default not in choices:
        errors[f"{prefix}default"] = "must be one of the choices"
    length = spec.max_length
    if isinstance(length, bool) or not isinstance(length, int):
        errors[f"{prefix}max_length"] = "must be a whole number"
    elif not 1 <= length <= MAX_FIELD_LENGTH:
        errors[f"{prefix}max_length"] = f"must be between 1 and {MAX_FIELD_LENGTH:,}"
    return replace(
        spec,
        **out,
        name=name,
        kind=kind,
        maps_to=maps_to,
        choices=choices,
        default=default,
        required=bool(spec.required),
    )


def _check_choices(
    raw: Sequence[str], kind: str, errors: dict[str, str], key: str
) -> tuple[str, ...]:
    if kind != FieldKind.CHOICE:
        if raw:
            errors[key] = "only fields of kind choice have choices; remove them or change the kind"
        return ()
    if not raw:
        errors[key] = "a choice field needs at least one choice"
        return ()
    if len(raw) > MAX_CHOICES:
        errors[key] = f"has {len(raw)} choices; the limit is {MAX_CHOICES}"
        return ()
    choices: list[str] = []
    for number, item in enumerate(raw, start=1):
        text, problem = _text_problem(item, 200)
        if problem or not text:
            errors[key] = f"choice {number} {problem or 'is empty'}"
            return ()
        if text.casefold() in {c.casefold() for c in choices}:
            errors[key] = f"choice {number} ({text!r}) is listed twice"
            return ()
        choices.append(text)
    return tuple(choices)


def fields_check(specs: Sequence[FieldSpec]) -> tuple[list[FieldSpec], dict[str, str]]:
    """The fields cleaned, and every problem keyed `fields.<index>.<attribute>` (or `fields`
    for the list as a whole)."""
    errors: dict[str, str] = {}
    if len(specs) > MAX_FIELDS:
        errors["fields"] = (
            f"has {len(specs)} fields; a form may have at most {MAX_FIELDS} (and short forms "
            "convert better)"
        )
        return list(specs), errors
    clean = [_check_field(spec, errors, f"fields.{i}.") for i, spec in enumerate(specs)]
    for attr, what in (("name", "name"), ("maps_to", "lead field")):
        seen: dict[str, list[int]] = {}
        for index, spec in enumerate(clean):
            if value := getattr(spec, attr):
                seen.setdefault(value, []).append(index)
        for value, indexes in seen.items():
            if len(indexes) < 2:
                continue
            positions = " and ".join(str(i + 1) for i in indexes)
            for index in indexes:
                errors.setdefault(
                    f"fields.{index}.{attr}",
                    f"fields {positions} both use the {what} {value!r}; each may appear once",
                )
    if not any(spec.maps_to in {"email", "phone"} for spec in clean):
        errors.setdefault(
            "fields",
            "no field fills the lead's email or phone, and a lead needs one of them: keep (or "
            "add) a field of kind email mapped to email",
        )
    return clean, errors


def visible_field_count(specs: Sequence[FieldSpec | FormField]) -> int:
    return sum(1 for spec in specs if spec.kind != FieldKind.HIDDEN)


def check_settings(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, limit in _TEXT_LIMITS.items():
        out[key], problem = _text_problem(values.get(key, ""), limit)
        if problem:
            errors[key] = problem
    for key, limit in _MULTILINE_LIMITS.items():
        out[key], problem = _multiline_problem(values.get(key, ""), limit)
        if problem:
            errors[key] = problem
    if not out["name"] and "name" not in errors:
        errors["name"] = "is required"
    slug = values.get("slug") or ""
    if not slug:
        errors["slug"] = "is required (e.g. spring-webinar)"
    elif not isinstance(slug, str) or not SLUG_RE.match(slug) or len(slug) > 80:
        errors["slug"] = (
            "must be lower-case letters, digits and single hyphens (at most 80), e.g. "
            "spring-webinar"
        )
    elif slug in RESERVED_SLUGS:
        errors["slug"] = f"'{slug}' is used by Leadbase's own pages under /f/; choose another"
    out["slug"] = slug if isinstance(slug, str) else ""
    for key, choices in (
        ("purpose", FormPurpose.values),
        ("channel", ["", *Channel.values]),
        ("consent_purpose", ConsentPurpose.values),
    ):
        out[key] = values.get(key)
        if out[key] not in choices:
            errors[key] = f"must be one of {', '.join(c for c in choices if c)}"
    for key in _FLAGS:
        out[key] = values.get(key)
        if not isinstance(out[key], bool):
            errors[key] = "must be true or false"
    out["campaign"], problem = _text_problem(values.get("campaign") or "", 200)
    if problem:
        errors["campaign"] = problem
    hosts, problems = parse_allowed_domains(values.get("allowed_domains") or "")
    out["allowed_domains"] = "\n".join(hosts)
    if problems:
        errors["allowed_domains"] = "; ".join(problems)
    url = values.get("redirect_url") or ""
    out["redirect_url"] = url.strip() if isinstance(url, str) else ""
    if out["redirect_url"] and (problem := redirect_problem(out["redirect_url"], hosts)):
        errors["redirect_url"] = problem
    owner = out["owner"] = values.get("owner")
    if owner is not None and not (
        isinstance(owner, User) and owner.is_active and owner.role in OWNER_ROLES
    ):
        errors["owner"] = (
            "must be an active admin, marketer or sales rep (new leads are assigned to them)"
        )
    if out["notify_owner"] is True and owner is None:
        errors["notify_owner"] = "needs an owner to notify; choose the owner first"
    return out, errors


def check_content_file(
    upload: UploadedFile[bytes] | None, purpose: str, errors: dict[str, str]
) -> None:
    if upload is None:
        return
    extension = PurePosixPath(upload.name or "").suffix.lower().lstrip(".")
    if purpose != FormPurpose.CONTENT_DOWNLOAD:
        errors["content_file"] = "is delivered only by content-download forms; choose that purpose"
    elif (upload.size or 0) > MAX_CONTENT_FILE_BYTES:
        errors["content_file"] = f"is larger than {MAX_CONTENT_FILE_BYTES // 2**20} MB"
    elif extension not in CONTENT_FILE_TYPES:
        errors["content_file"] = f"must be one of {', '.join(sorted(CONTENT_FILE_TYPES))}"
