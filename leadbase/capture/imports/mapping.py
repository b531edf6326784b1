"""Column mapping: which column of the file feeds which lead field.

A mapping is `{column name: target}`, where a target is a lead field (`email`, `first_name`,
`company`, ...: what lead_upsert and lead_upsert_many accept), `full_name` (split into first
and last name), `consent` (whether the row's person consented: see .consent),
`attributes.<key>` (a custom attribute), or "" (the column is ignored). No column is ever
suggested as the consent column: recording consent is a statement a person makes.
`suggest_mapping` proposes one from the column names; `compile_mapping` checks one and turns
it into a `RowMapper` that makes the lead data of each row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leadbase.core.errors import ValidationFailed
from leadbase.leads.normalize import ACCEPTED_FIELDS

from .consent import CONSENT

FULL_NAME = "full_name"
ATTRIBUTE_PREFIX = "attributes."
IMPORT_CHANNEL = "import"  # the source channel of imported leads whose row names none

# Lead fields in the order the mapping form lists them, with their labels.
_LABELS: dict[str, str] = {
    "email": "Email",
    "phone": "Phone",
    "first_name": "First name",
    FULL_NAME: "Full name (split into first and last name)",
    "last_name": "Last name",
    "job_title": "Job title",
    "seniority": "Seniority",
    "department": "Department",
    "company": "Company name",
    "company_domain": "Company domain or website",
    "industry": "Industry",
    "employee_count": "Number of employees",
    "annual_revenue": "Annual revenue",
    "country": "Country (ISO code or name)",
    "region": "Region or state",
    "city": "City",
    "source_channel": "Source channel",
    "source_detail": "Lead source (detail)",
    "campaign": "Campaign",
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "utm_term": "UTM term",
    "utm_content": "UTM content",
    "landing_page": "Landing page URL",
    "referrer_url": "Referrer URL",
    "lifecycle_stage": "Lifecycle stage",
    CONSENT: "Consent given (yes or no, or the date)",
}
# Every field lead_upsert accepts except the attributes object (mapped key by key).
LEAD_TARGETS: tuple[str, ...] = (
    *(t for t in _LABELS if t in ACCEPTED_FIELDS),
    *sorted(ACCEPTED_FIELDS - set(_LABELS) - {"attributes"}),
)
TARGETS: tuple[str, ...] = (*LEAD_TARGETS, FULL_NAME, CONSENT)


def target_label(target: str) -> str:
    if target.startswith(ATTRIBUTE_PREFIX):
        return f"Custom attribute “{target.removeprefix(ATTRIBUTE_PREFIX)}”"
    return _LABELS.get(target) or target.replace("_", " ").capitalize()


# Column names (as `header_key` spells them) and the field each one suggests. English, plus
# the most common German, French and Spanish names. Deliberately not here: "company size"
# (usually a range such as 51-200, not a number) and "lead source" as a channel (free text;
# it goes to source_detail).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "email", "emailaddress", "mail", "emailid", "workemail", "businessemail",
        "primaryemail", "emailadresse", "courriel", "adresseemail", "correo",
        "correoelectronico",
    ),
    "phone": (
        "phone", "phonenumber", "telephone", "telephonenumber", "tel", "mobile",
        "mobilephone", "mobilenumber", "cell", "cellphone", "workphone", "businessphone",
        "telefon", "telefonnummer", "handy", "telefono", "portable",
    ),
    "first_name": (
        "firstname", "first", "givenname", "forename", "fname", "vorname", "prenom", "nombre",
    ),
    "last_name": (
        "lastname", "last", "surname", "familyname", "lname", "nachname", "nom", "apellido",
        "apellidos",
    ),
    FULL_NAME: ("name", "fullname", "contactname", "nomcomplet", "nombrecompleto"),
    "job_title": (
        "jobtitle", "title", "position", "role", "jobrole", "designation", "berufsbezeichnung",
        "poste", "cargo",
    ),
    "seniority": ("seniority", "senioritylevel"),
    "department": ("department", "dept", "abteilung", "departement", "departamento"),
    "company": (
        "company", "companyname", "organisation", "organization", "organisationname",
        "organizationname", "org", "account", "accountname", "employer", "firma",
        "unternehmen", "entreprise", "societe", "empresa",
    ),
    "company_domain": (
        "companydomain", "domain", "website", "companywebsite", "web", "homepage", "url",
        "webseite", "siteweb",
    ),
    "industry": ("industry", "sector", "branche", "secteur", "industria"),
    "employee_count": (
        "employees", "employeecount", "numberofemployees", "noofemployees", "headcount",
        "mitarbeiter", "anzahlmitarbeiter",
    ),
    "annual_revenue": ("annualrevenue", "revenue", "turnover", "umsatz"),
    "country": ("country", "countrycode", "land", "pays", "pais"),
    "region": ("region", "state", "province", "county", "bundesland", "stateprovince"),
    "city": ("city", "town", "ort", "stadt", "ville", "ciudad", "locality"),
    "source_channel": ("channel", "sourcechannel", "leadchannel"),
    "source_detail": ("source", "leadsource", "sourcedetail", "origin", "quelle"),
    "campaign": ("campaign", "campaignname", "kampagne", "campagne", "campana"),
    "utm_source": ("utmsource",),
    "utm_medium": ("utmmedium",),
    "utm_campaign": ("utmcampaign",),
    "utm_term": ("utmterm",),
    "utm_content": ("utmcontent",),
    "landing_page": ("landingpage", "landingpageurl", "landingurl", "pageurl"),
    "referrer_url": ("referrer", "referer", "referrerurl", "refererurl", "referringurl"),
    "lifecycle_stage": ("lifecyclestage", "stage", "lifecycle"),
}  # fmt: skip
_SUGGESTED: dict[str, str] = {
    key: target for target, keys in _SYNONYMS.items() for key in keys if target in TARGETS
}
_NOT_KEY = re.compile(r"[^a-z0-9]+")
_ATTRIBUTE_KEY = re.compile(r"^[\w][\w .-]{0,99}$")


def header_key(header: str) -> str:
    """The column name compared with the synonyms: accents, case, spaces and punctuation
    dropped ("E-mail Address" and "email_address" are both "emailaddress")."""
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return _NOT_KEY.sub("", plain.lower())


def attribute_key(header: str) -> str:
    """A custom attribute key from a column name: lower case, words joined by underscores."""
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")[:100]


def suggest_mapping(headers: Sequence[str]) -> dict[str, str]:
    """A target for every column: the field its name suggests (the first column wins when
    two suggest the same one), else a custom attribute named after it."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for position, header in enumerate(headers, 1):
        target = _SUGGESTED.get(header_key(header), "")
        if target and target not in used:
            used.add(target)
        else:
            key = attribute_key(header) or f"column_{position}"
            while f"{ATTRIBUTE_PREFIX}{key}" in used:
                key = f"{key}_{position}"
            target = f"{ATTRIBUTE_PREFIX}{key}"
            used.add(target)
        mapping[header] = target
    return mapping


@dataclass(frozen=True)
class RowMapper:
    """A checked mapping for columns in a given order: makes a row's lead data."""

    width: int
    fields: tuple[tuple[int, str], ...]
    attributes: tuple[tuple[int, str], ...]
    full_name: int | None
    column_of: Mapping[str, str]  # target -> column name, for messages
    consent: int | None = None  # the consent column (not lead data: see .consent)

    def lead_data(self, cells: Sequence[str], defaults: Mapping[str, str]) -> dict[str, Any]:
        """The lead data of a row (cells in column order): mapped values that are not blank,
        the split full name filling blank names, then `defaults` for fields still unset."""
        data: dict[str, Any] = {}
        for index, target in self.fields:
            value = cells[index]
            if value and not value.isspace():
                data[target] = value
        if self.full_name is not None and (name := cells[self.full_name].strip()):
            first, last = split_full_name(name)
            if first and "first_name" not in data:
                data["first_name"] = first
            if last and "last_name" not in data:
                data["last_name"] = last
        if self.attributes:
            attributes = {}
            for index, key in self.attributes:
                value = cells[index].strip()
                if value:
                    attributes[key] = value
            if attributes:
                data["attributes"] = attributes
        for name, value in defaults.items():
            if value and name not in data:
                data[name] = value
        return data

    def field_column(self, field: str) -> str:
        """The column a lead field came from, for an error message ("" if none)."""
        return self.column_of.get(field, "")


def split_full_name(name: str) -> tuple[str, str]:
    """("Ada", "Lovelace") from "Ada Lovelace" or "Lovelace, Ada"; one word is a first name;
    of more words the last is the last name ("Mary Ann Smith" -> "Mary Ann", "Smith")."""
    if "," in name:
        last, _, first = name.partition(",")
        return " ".join(first.split()), " ".join(last.split())
    words = name.split()
    if len(words) == 1:
        return words[0], ""
    return " ".join(words[:-1]), words[-1]


def compile_mapping(mapping: Any, headers: Sequence[str]) -> RowMapper:
    """Checks `mapping` against the file's columns; raises ValidationFailed naming every
    problem (unknown column or target, a field fed by two columns, neither email nor phone)."""
    if not isinstance(mapping, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise ValidationFailed(
            'The mapping must be a JSON object of column name to lead field, e.g. {"E-mail": '
            '"email", "Vorname": "first_name", "Notes": "attributes.notes", "Internal": ""}.',
            fields={"mapping": "is not an object of column name to field name"},
        )
    errors: dict[str, str] = {}
    position = {header: index for index, header in enumerate(headers)}
    fields: list[tuple[int, str]] = []
    attributes: list[tuple[int, str]] = []
    full_name: int | None = None
    consent: int | None = None
    column_of: dict[str, str] = {}
    for column, raw_target in mapping.items():
        target = raw_target.strip()
        if column not in position:
            errors[f"mapping.{column}"] = "is not a column of the file"
            continue
        if not target:
            continue
        if target.startswith(ATTRIBUTE_PREFIX):
            key = target.removeprefix(ATTRIBUTE_PREFIX).strip()
            if not _ATTRIBUTE_KEY.match(key):
                errors[f"mapping.{column}"] = (
                    "names a custom attribute key that is empty, too long (over 100 "
                    "characters) or not made of letters, digits, spaces, _ . -"
                )
                continue
            target = f"{ATTRIBUTE_PREFIX}{key}"
        elif target not in TARGETS:
            errors[f"mapping.{column}"] = (
                f"“{target}” is not a lead field; use one of {', '.join(TARGETS)}, "
                "attributes.<key> for a custom attribute, or an empty string to skip the column"
            )
            continue
        if target in column_of:
            errors[f"mapping.{column}"] = (
                f"maps to {target}, as the column “{column_of[target]}” does already; map "
                "one of them to something else or skip it"
            )
            continue
        column_of[target] = column
        if target == FULL_NAME:
            full_name = position[column]
        elif target == CONSENT:
            consent = position[column]
        elif target.startswith(ATTRIBUTE_PREFIX):
            attributes.append((position[column], target.removeprefix(ATTRIBUTE_PREFIX)))
        else:
            fields.append((position[column], target))
    if not errors and not ({"email", "phone"} & column_of.keys()):
        errors["mapping"] = (
            "maps no column to email or phone (every lead needs an email address or a phone number)"
        )
    if errors:
        summary = "; ".join(
            f"{name.removeprefix('mapping.')}: {problem}" if name != "mapping" else problem
            for name, problem in errors.items()
        )
        raise ValidationFailed(f"The column mapping cannot be used: {summary}.", fields=errors)
    return RowMapper(
        width=len(headers),
        fields=tuple(sorted(fields)),
        attributes=tuple(sorted(attributes)),
        full_name=full_name,
        column_of=column_of,
        consent=consent,
    )
