"""Request and response shapes of the leads API (/api/v1/leads, /api/v1/companies).

Input schemas check only types; values are validated and normalised by
`leadbase.leads.normalize.normalize_lead_data`, the one place every way into Leadbase shares,
so the API accepts exactly what forms, imports and webhooks accept.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal, get_args

from django.db import models
from ninja import Field, Schema
from pydantic import (
    ConfigDict,
    IPvAnyAddress,
    ValidationInfo,
    field_validator,
)

from .models import (
    Channel,
    ConsentPurpose,
    Lead,
    LifecycleStage,
    Qualification,
    SalesStatus,
    Temperature,
)
from .normalize import CHOICE_FIELDS, TEXT_FIELDS

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
MAX_DB_ID = 2**63 - 1  # ids beyond a BIGINT cannot exist (and would overflow the query)

LeadSort = Literal[
    "-created_at",
    "created_at",
    "-total_score",
    "total_score",
    "-fit_score",
    "fit_score",
    "-engagement_score",
    "engagement_score",
    "-last_activity_at",
    "last_activity_at",
    "-predicted_probability",
    "predicted_probability",
]
CompanySort = Literal["-created_at", "name"]
# The qualifications, and "none" for leads without one ("" means any, as in the UI's form).
QualificationFilter = Literal["", "none", "iql", "mql", "sql"]
LeadAction = Literal["created", "updated", "unchanged"]
Grade = Literal["A", "B", "C", "D"]
GRADES = frozenset(get_args(Grade))


def _text(field: str, description: str = "") -> Any:
    limit = TEXT_FIELDS[field]
    return Field(None, description=f"{description} Up to {limit} characters.".strip())


def _choice(field: str) -> Any:
    return Field(None, description="One of: " + ", ".join(CHOICE_FIELDS[field]) + ".")


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong and what to do about it.")
    errors: dict[str, str] = Field(
        default_factory=dict, description="Each bad field (dotted path) and what is wrong with it."
    )


class ConsentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    purpose: ConsentPurpose
    granted: bool = Field(True, description="false records a withdrawal.")
    text_shown: str = Field("", max_length=10_000, description="The exact wording shown.")
    source: str = Field("", max_length=200, description="Form or page that asked.")
    ip_address: IPvAnyAddress | None = Field(
        None,
        description="The person's IP address, if the caller knows it (e.g. a server-side form "
        "handler); defaults to the address the API request came from.",
    )


class LeadFieldsIn(Schema):
    """Every lead field the API accepts; all optional. Unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, description="Matched case-insensitively; stored lower-case.")
    phone: str | None = Field(
        None, description="Any common format; a number without + needs `country`."
    )
    first_name: str | None = _text("first_name")
    last_name: str | None = _text("last_name")
    job_title: str | None = _text("job_title", "Seniority is inferred from it when not given.")
    seniority: str | None = _choice("seniority")
    department: str | None = _text("department")
    company: str | None = _text("company", "Company name.")
    company_domain: str | None = Field(None, description="e.g. example.com")
    industry: str | None = _text("industry")
    employee_count: int | str | None = None
    annual_revenue: Decimal | str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code, e.g. DE.")
    region: str | None = _text("region")
    city: str | None = _text("city")
    source_channel: str | None = _choice("source_channel")
    source_detail: str | None = _text("source_detail", "Form, hook, file, ...")
    campaign: str | None = _text("campaign", "Campaign name; created when new.")
    utm_source: str | None = _text("utm_source")
    utm_medium: str | None = _text("utm_medium")
    utm_campaign: str | None = _text("utm_campaign")
    utm_term: str | None = _text("utm_term")
    utm_content: str | None = _text("utm_content")
    landing_page: str | None = Field(None, description="http(s) URL")
    referrer_url: str | None = Field(None, description="http(s) URL")
    lifecycle_stage: str | None = _choice("lifecycle_stage")
    attributes: dict[str, Any] | None = Field(
        None, description="Custom attributes (JSON object, up to 8 KB)."
    )

    def lead_data(self) -> dict[str, Any]:
        """The fields the client sent, for lead_upsert / lead_update."""
        return self.model_dump(exclude_unset=True, exclude={"consents"})


class LeadIn(LeadFieldsIn):
    """A lead to create or update (matched by email, then phone). Needs an email or a phone."""

    consents: list[ConsentIn] = Field(default_factory=list, max_length=50)


def _status(choices: type[models.TextChoices], description: str) -> Any:
    values = ", ".join(value or "none" for value in choices.values)
    return Field(None, description=f"One of: {values}. {description}".strip())


class LeadPatch(LeadFieldsIn):
    """Fields to change, as a JSON merge patch: a field left out is not changed; a value
    replaces the stored one (the old value stays in the lead's history); null or "" clears
    it. Email and phone may be cleared only while the other remains; lifecycle_stage,
    sales_status and temperature cannot be cleared. In `attributes`, a key set to null is
    removed."""

    owner: int | str | None = Field(
        None,
        description="The user to own the lead: their id or username (an active admin, "
        "marketer or sales rep); null unassigns. Only admins and marketers may reassign.",
    )
    sales_status: str | None = _status(SalesStatus, "")
    qualification: str | None = _status(Qualification, 'null, "" or none clears it.')
    temperature: str | None = _status(Temperature, "")
    reason: str | None = Field(
        None,
        max_length=500,
        description="Why: kept with the stage, status, qualification or temperature change.",
    )

    @field_validator("owner", mode="before")
    @classmethod
    def _user_id_or_username(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError("must be a user id (a number) or a username (text)")
        if isinstance(value, int) and not 0 < value <= MAX_DB_ID:
            raise ValueError(f"{value} is not a user id (ids are positive numbers)")
        if isinstance(value, str) and len(value) > 150:
            raise ValueError("is longer than any username (150 characters at most)")
        return value

    def lead_data(self) -> dict[str, Any]:
        """The fields the client sent, for lead_update (`reason` is not one of them)."""
        return self.model_dump(exclude_unset=True, exclude={"reason"})


class OwnerOut(Schema):
    id: int
    username: str


class CompanyOut(Schema):
    id: int
    name: str
    domain: str
    industry: str
    employee_count: int | None
    annual_revenue: Decimal | None
    country: str
    region: str
    city: str
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadOut(Schema):
    id: int
    email: str
    phone: str
    first_name: str
    last_name: str
    job_title: str
    seniority: str
    department: str
    company: CompanyOut | None
    country: str
    region: str
    city: str
    source_channel: str
    source_detail: str
    campaign: str | None = Field(description="Campaign name.")
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    landing_page: str
    referrer_url: str
    owner: OwnerOut | None
    lifecycle_stage: str
    sales_status: str
    temperature: str = Field(description="cold, warm or hot.")
    qualification: str = Field(description='iql, mql, sql, or "" when not qualified.')
    fit_score: float = Field(description="How well the lead fits the ideal customer (0-100).")
    engagement_score: float = Field(description="How engaged the lead is now (decays).")
    total_score: float = Field(description="The same as `score` (kept for older clients).")
    score: float = Field(description="The total score: the weighted fit and engagement.")
    grade: Grade | None = Field(description="The fit grade, A (best) to D; null: not scored.")
    is_prospect: bool = Field(description="Fit reaches the ideal-customer threshold.")
    predicted_probability: float | None
    last_activity_at: dt.datetime | None
    archived: bool
    attributes: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_campaign(obj: Lead) -> str | None:
        return obj.campaign.name if obj.campaign is not None else None

    @staticmethod
    def resolve_score(obj: Lead) -> float:
        return obj.total_score

    @staticmethod
    def resolve_grade(obj: Lead) -> str | None:
        return obj.fit_grade or None


# Where each LeadOut field comes from in a row of `selectors.LEAD_OUT_VALUES`, in LeadOut's
# order (the JSON's); company and owner are then made objects, grade "" null.
_ROW_KEYS = {
    "company": "company_id",
    "owner": "owner_id",
    "campaign": "campaign__name",
    "score": "total_score",
    "grade": "fit_grade",
}
_LEAD_OUT_KEYS = tuple((name, _ROW_KEYS.get(name, name)) for name in LeadOut.model_fields)
_COMPANY_OUT_KEYS = tuple(
    (field, "company_id" if field == "id" else f"company__{field}")
    for field in CompanyOut.model_fields
)


def lead_out_from_values(row: dict[str, Any]) -> dict[str, Any]:
    """What LeadOut serialises for a lead, built from its row of `selectors.LEAD_OUT_VALUES`
    without model instances or validation (the API's read of one lead is its hottest path;
    a test checks that both give the same JSON)."""
    data = {name: row[key] for name, key in _LEAD_OUT_KEYS}
    if data["company"] is not None:
        data["company"] = {field: row[key] for field, key in _COMPANY_OUT_KEYS}
    if data["owner"] is not None:
        data["owner"] = {"id": data["owner"], "username": row["owner__username"]}
    data["grade"] = data["grade"] or None
    return data


class LeadReceipt(Schema):
    """What a key without the `read` scope gets back from a write: the id, not the data
    (an ingest key must not be a way to read leads by submitting their email)."""

    id: int
    action: LeadAction


class LeadPage(Schema):
    items: list[LeadOut]
    next: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class CompanyPage(Schema):
    items: list[CompanyOut]
    next: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class PageQuery(Schema):
    limit: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page (1 to 500)."
    )
    cursor: str | None = Field(
        None, max_length=1000, description="The `next` value of the previous page."
    )


class LeadListQuery(PageQuery):
    q: str = Field("", max_length=200, description="Words in name, email, phone or company.")
    stage: LifecycleStage | None = None
    temperature: Temperature | None = None
    qualification: QualificationFilter | None = Field(
        None, description="iql, mql or sql; `none` lists leads that are not qualified."
    )
    owner: int | None = Field(None, ge=1, le=MAX_DB_ID, description="Owner's user id.")
    unassigned: bool = Field(False, description="Only leads without an owner.")
    source: Channel | None = Field(None, description="Source channel.")
    min_score: float | None = Field(
        None, allow_inf_nan=False, description="Total score at least this."
    )
    max_score: float | None = Field(None, allow_inf_nan=False, description="Total score at most.")
    grade: list[Grade] = Field(
        default_factory=list,
        description="Fit grades, any of them: repeat the parameter (`grade=A&grade=B`) or "
        "separate them by commas (`grade=A,B`).",
    )
    prospect: bool | None = Field(
        None,
        description="true: prospects only (fit reaches the ideal-customer threshold); "
        "false: the others.",
    )
    min_probability: float | None = Field(
        None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Predicted probability to convert (0-1) at least this.",
    )
    archived: bool = Field(False, description="true lists archived leads instead.")
    sort: LeadSort = Field(
        "-created_at",
        description="`-` means descending. By predicted_probability, leads without one "
        "come last either way.",
    )

    @field_validator("grade", mode="before")
    @classmethod
    def _grades(cls, value: Any) -> Any:
        """`grade=A,b` as well as `grade=A&grade=B`, in any case. Checked here, whole, so
        that the error names the parameter (`grade`) rather than an index into it."""
        values = value if isinstance(value, list) else [value]
        parts = (part.strip() for item in values for part in str(item).split(","))
        grades = [part.upper() for part in parts if part]
        unknown = [grade for grade in grades if grade not in GRADES]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a grade; use A, B, C or D")
        return grades

    @field_validator("max_score")
    @classmethod
    def _not_below_min_score(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("min_score")
        if value is not None and low is not None and value < low:
            raise ValueError(f"must not be less than min_score ({low:g})")
        return value


class CompanyListQuery(PageQuery):
    q: str = Field("", max_length=200, description="Part of the name or domain.")
    sort: CompanySort = Field("-created_at", description="Newest first, or by name.")
