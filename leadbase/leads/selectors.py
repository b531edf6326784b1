"""Reads for leads. Every read that a person or an API key makes goes through
`lead_visible_to`, so a sales rep's isolation is enforced in the query itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OrderBy, OuterRef, Q, QuerySet, Subquery

from leadbase.accounts.models import Role, User
from leadbase.core.prepared import PreparedValues

from .merge_rules import LEAD_FIELDS
from .models import (
    Company,
    Consent,
    ConsentStatus,
    Event,
    Lead,
    LifecycleStage,
    LifecycleTransition,
    Qualification,
    SalesStatus,
    Temperature,
    TransitionKind,
)

SORTS: dict[str, tuple[OrderBy, ...]] = {
    "-total_score": (F("total_score").desc(), F("id").desc()),
    "total_score": (F("total_score").asc(), F("id").asc()),
    "-fit_score": (F("fit_score").desc(), F("id").desc()),
    "fit_score": (F("fit_score").asc(), F("id").asc()),
    "-engagement_score": (F("engagement_score").desc(), F("id").desc()),
    "engagement_score": (F("engagement_score").asc(), F("id").asc()),
    "-last_activity_at": (F("last_activity_at").desc(), F("id").desc()),
    "last_activity_at": (F("last_activity_at").asc(), F("id").asc()),
    "-created_at": (F("id").desc(),),
    "created_at": (F("id").asc(),),
    # Leads without a probability (no model active yet, closed leads) come last either way.
    "-predicted_probability": (F("predicted_probability").desc(nulls_last=True), F("id").desc()),
    "predicted_probability": (F("predicted_probability").asc(nulls_last=True), F("id").asc()),
}
DEFAULT_SORT = "-created_at"
# The qualification filter's value for leads with no qualification (stored as ""), since a
# blank filter means "any".
NOT_QUALIFIED = "none"
# The fit grades a lead can have (Lead.fit_grade; "" while it is not scored).
GRADES = ("A", "B", "C", "D")


def lead_visible_to(user: User) -> QuerySet[Lead]:
    """Every lead `user` may see: all for admins, marketers and viewers; own for sales reps."""
    if not user.is_active:
        return Lead.objects.none()
    queryset = Lead.objects.all()
    if not user.sees_all_leads:
        queryset = queryset.filter(owner=user)
    return queryset


@dataclass(frozen=True)
class LeadFilters:
    q: str = ""
    stage: str = ""
    temperature: str = ""
    qualification: str = ""
    owner: int | None = None
    unassigned: bool = False
    source: str = ""
    min_score: float | None = None
    max_score: float | None = None
    grades: tuple[str, ...] = ()  # any of these fit grades (GRADES); () means any
    prospect: bool | None = None  # True: prospects only; False: the others; None: any
    min_probability: float | None = None  # predicted probability (0-1) at least this
    archived: bool = False
    sort: str = DEFAULT_SORT


def lead_list(*, user: User, filters: LeadFilters) -> QuerySet[Lead]:
    queryset = lead_visible_to(user).filter(archived=filters.archived)
    if filters.q:
        for word in filters.q.lower().split()[:5]:
            queryset = queryset.filter(search_text__contains=word)
    if filters.stage:
        queryset = queryset.filter(lifecycle_stage=filters.stage)
    if filters.temperature:
        queryset = queryset.filter(temperature=filters.temperature)
    if filters.qualification == NOT_QUALIFIED:
        queryset = queryset.filter(qualification=Qualification.NONE)
    elif filters.qualification:
        queryset = queryset.filter(qualification=filters.qualification)
    if filters.unassigned:
        queryset = queryset.filter(owner__isnull=True)
    elif filters.owner is not None:
        queryset = queryset.filter(owner_id=filters.owner)
    if filters.source:
        queryset = queryset.filter(source_channel=filters.source)
    if filters.min_score is not None:
        queryset = queryset.filter(total_score__gte=filters.min_score)
    if filters.max_score is not None:
        queryset = queryset.filter(total_score__lte=filters.max_score)
    if filters.grades:
        queryset = queryset.filter(fit_grade__in=sorted(set(filters.grades)))
    if filters.prospect is not None:
        queryset = queryset.filter(is_prospect=filters.prospect)
    if filters.min_probability is not None:
        queryset = queryset.filter(predicted_probability__gte=filters.min_probability)
    order = SORTS.get(filters.sort, SORTS[DEFAULT_SORT])
    return queryset.select_related("company", "owner", "campaign").order_by(*order)


def lead_get(*, user: User, lead_id: int) -> Lead | None:
    """The lead if `user` may see it, else None (callers answer 404, never 403, so that a
    rep cannot learn which ids exist)."""
    # by primary key: no ORDER BY needed (this runs on every lead page and API read)
    found = lead_visible_to(user).select_related("company", "owner", "campaign").filter(pk=lead_id)
    return next(iter(found.order_by()[:1]), None)


# The columns of LeadOut (leads.schemas), for lead_get_values.
LEAD_OUT_VALUES = (
    "id",
    *LEAD_FIELDS,
    "lifecycle_stage",
    "sales_status",
    "temperature",
    "qualification",
    "fit_score",
    "fit_grade",
    "is_prospect",
    "engagement_score",
    "total_score",
    "predicted_probability",
    "last_activity_at",
    "archived",
    "attributes",
    "created_at",
    "updated_at",
    "company_id",
    "company__name",
    "company__domain",
    "company__industry",
    "company__employee_count",
    "company__annual_revenue",
    "company__country",
    "company__region",
    "company__city",
    "company__created_at",
    "company__updated_at",
    "owner_id",
    "owner__username",
    "campaign__name",
)


def _visible_values(*, pk: int, owner: int, role: str) -> QuerySet[Lead, dict[str, Any]]:
    """lead_get's query as `.values()`, for a stand-in user with this id and role (the
    visibility rule depends on nothing else; a test checks both agree for each role)."""
    stand_in = User(pk=owner, role=role, is_active=True)
    found: QuerySet[Lead, dict[str, Any]]
    found = lead_visible_to(stand_in).filter(pk=pk).order_by().values(*LEAD_OUT_VALUES)
    return found[:1]


# Compiled once (see core.prepared): lead_get_values runs on every API read of a lead.
_VALUES_SEEN_BY_ALL = PreparedValues(
    lambda pk: _visible_values(pk=pk, owner=0, role=Role.ADMIN), pk=int
)
_VALUES_SEEN_BY_OWNER = PreparedValues(
    lambda pk, owner: _visible_values(pk=pk, owner=owner, role=Role.SALES_REP), pk=int, owner=int
)


def lead_get_values(*, user: User, lead_id: int) -> dict[str, Any] | None:
    """lead_get as a row of LEAD_OUT_VALUES (the same visibility rule, the same query, run
    without building model instances), for the API's read of one lead."""
    if not user.is_active:
        return None
    if user.sees_all_leads:
        return _VALUES_SEEN_BY_ALL.first(pk=lead_id)
    return _VALUES_SEEN_BY_OWNER.first(pk=lead_id, owner=user.pk)


@dataclass(frozen=True)
class TimelineEntry:
    at: Any
    kind: str  # "event" | "transition"
    title: str
    detail: str


_TRANSITION_LABELS: dict[str, dict[str, str]] = {
    TransitionKind.STAGE: dict(LifecycleStage.choices),
    TransitionKind.QUALIFICATION: {**dict(Qualification.choices), "": "—"},
    TransitionKind.TEMPERATURE: dict(Temperature.choices),
    TransitionKind.SALES_STATUS: dict(SalesStatus.choices),
}


def _label(kind: str, value: str) -> str:
    """The value as people read it ("MQL", "Opportunity"); "—" for none."""
    return _TRANSITION_LABELS.get(kind, {}).get(value, value) if value else "—"


def lead_timeline(*, lead: Lead, limit: int = 200) -> list[TimelineEntry]:
    """Events and transitions of one lead, newest first, merged by time."""
    events = Event.objects.filter(lead=lead).order_by("-occurred_at", "-id")[:limit]
    transitions = LifecycleTransition.objects.filter(lead=lead).order_by("-at", "-id")[:limit]
    entries = [
        TimelineEntry(
            at=e.occurred_at,
            kind="event",
            title=e.type.replace("_", " "),
            detail=", ".join(f"{k}: {v}" for k, v in list(e.properties.items())[:4]),
        )
        for e in events
    ] + [
        TimelineEntry(
            at=t.at,
            kind="transition",
            title=f"{t.get_kind_display()}: {_label(t.kind, t.from_value)} → "
            f"{_label(t.kind, t.to_value)}",
            detail=t.reason,
        )
        for t in transitions
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def company_list(*, q: str = "") -> QuerySet[Company]:
    queryset = Company.objects.all()
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(domain__icontains=q))
    return queryset


# The event capture records when it asks a lead to confirm a consent by email (double opt-in);
# the consent stays pending until `confirmed_at` is set on it.
CONSENT_CONFIRMATION_REQUESTED = "consent_confirmation_requested"


def lead_emailable_filter(queryset: QuerySet[Lead], *, purpose: str) -> QuerySet[Lead]:
    """The leads of `queryset` that may be sent email for `purpose` (a ConsentPurpose): not
    archived, with an email address, and whose newest consent row for the purpose is granted
    and, when a double opt-in confirmation was asked for it (a CONSENT_CONFIRMATION_REQUESTED
    event for the purpose at or after that row), confirmed. No consent row means no email;
    a withdrawal wins over every earlier grant."""
    newest = Consent.objects.filter(lead=OuterRef("pk"), purpose=purpose).order_by(
        "-recorded_at", "-id"
    )
    pending_confirmation = Event.objects.filter(
        lead=OuterRef("pk"),
        type=CONSENT_CONFIRMATION_REQUESTED,
        properties__purpose=purpose,
        occurred_at__gte=OuterRef("_consent_at"),
    )
    return (
        queryset.filter(archived=False)
        .exclude(email="")
        .annotate(
            _consent_status=Subquery(newest.values("status")[:1]),
            _consent_at=Subquery(newest.values("recorded_at")[:1]),
            _consent_confirmed_at=Subquery(newest.values("confirmed_at")[:1]),
        )
        .filter(_consent_status=ConsentStatus.GRANTED)
        .exclude(Q(_consent_confirmed_at__isnull=True) & Exists(pending_confirmation))
    )


def lead_emailable(*, lead: Lead, purpose: str) -> bool:
    """Whether `lead` may be sent email for `purpose` (see lead_emailable_filter)."""
    return lead_emailable_filter(Lead.objects.filter(pk=lead.pk), purpose=purpose).exists()
