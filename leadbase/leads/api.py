"""The leads API: /api/v1/leads and /api/v1/companies.

Every read goes through the selectors (a sales rep's isolation lives in the query, and a lead
the key's user cannot see is a 404, never a 403); every write goes through the services.
Lists use keyset pagination: the cursor holds the last row's sort value and id, signed, so
pages stay stable while leads are added and a client cannot forge a position.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from django.core import signing
from django.db import transaction
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status
from ninja.renderers import JSONRenderer

from leadbase.accounts.api_auth import request_api_key, request_user, require_scope
from leadbase.accounts.models import Role, Scope, User
from leadbase.core.api_json import ApiJSONRenderer
from leadbase.core.errors import ApplicationError, NotFound, PermissionDenied

from .models import Company, Lead
from .schemas import (
    MAX_DB_ID,
    CompanyListQuery,
    CompanyOut,
    CompanyPage,
    ErrorOut,
    LeadAction,
    LeadIn,
    LeadListQuery,
    LeadOut,
    LeadPage,
    LeadPatch,
    LeadReceipt,
    lead_out_from_values,
)
from .selectors import LeadFilters, company_list, lead_get, lead_get_values, lead_list
from .services import ConsentInput, lead_assign, lead_delete, lead_update, lead_upsert

router = Router()
JSON = JSONRenderer()  # the API's renderer, for views that answer with an HttpResponse


def errors(*statuses: HTTPStatus) -> dict[int, type[ErrorOut]]:
    """The error responses an endpoint documents: its own, plus 401, 403 and 422 (every
    endpoint checks the key and validates its parameters)."""
    common = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.UNPROCESSABLE_ENTITY)
    return {int(status): ErrorOut for status in sorted({*common, *statuses})}


# --- Keyset pagination ---------------------------------------------------------------------

CURSOR_SALT = "leadbase.api.cursor"


class InvalidCursor(ApplicationError):
    status = HTTPStatus.BAD_REQUEST


@dataclass(frozen=True)
class Keyset:
    """An order that a cursor can resume: one column, then the id as tie-breaker, both in the
    same direction. For a nullable column, NULLs come last in both directions on every
    database (no lead column sorted today is nullable)."""

    sort: str  # the public name of the sort, bound into each cursor
    column: str | None  # None: the id alone
    descending: bool
    kind: Literal["float", "datetime", "text"] = "float"
    nullable: bool = False

    def order_by(self) -> list[OrderBy]:
        by_id = F("pk").desc() if self.descending else F("pk").asc()
        if self.column is None:
            return [by_id]
        nulls_last = True if self.nullable else None
        column = F(self.column)
        first = (
            column.desc(nulls_last=nulls_last)
            if self.descending
            else column.asc(nulls_last=nulls_last)
        )
        return [first, by_id]

    def after(self, value: Any, last_id: int) -> Q:
        """Rows that come after (value, last_id) in this order."""
        beyond = "lt" if self.descending else "gt"
        if self.column is None:
            return Q(**{f"pk__{beyond}": last_id})
        if value is None:  # already in the NULL tail
            return Q(**{f"{self.column}__isnull": True, f"pk__{beyond}": last_id})
        condition = Q(**{f"{self.column}__{beyond}": value}) | Q(
            **{self.column: value, f"pk__{beyond}": last_id}
        )
        if self.nullable:
            condition |= Q(**{f"{self.column}__isnull": True})
        return condition

    def encode(self, row: Model) -> str:
        value = getattr(row, self.column) if self.column else None
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        return signing.dumps({"sort": self.sort, "v": value, "id": row.pk}, salt=CURSOR_SALT)

    def decode(self, cursor: str) -> tuple[Any, int]:
        try:
            payload = signing.loads(cursor, salt=CURSOR_SALT)
        except (signing.BadSignature, ValueError, UnicodeError):
            raise InvalidCursor(
                "The cursor is not valid: it was changed, cut short or made up. Pass the "
                "`next` value of the previous page exactly as it was returned, or leave "
                "`cursor` out to start from the first page.",
                fields={"cursor": "is not a cursor returned by this API"},
            ) from None
        if not isinstance(payload, dict) or payload.get("sort") != self.sort:
            made_for = payload.get("sort") if isinstance(payload, dict) else None
            raise InvalidCursor(
                f"This cursor belongs to a listing sorted by {made_for!r}, not {self.sort!r}. "
                "Keep the same sort (and filters) while paging, or leave `cursor` out to start "
                "again.",
                fields={"cursor": f"was made for sort={made_for}"},
            )
        last_id, value = payload.get("id"), payload.get("v")
        try:
            if not isinstance(last_id, int) or isinstance(last_id, bool):
                raise TypeError
            return self._parse_value(value), last_id
        except (TypeError, ValueError):
            raise InvalidCursor(
                "The cursor is damaged; leave `cursor` out to start from the first page.",
                fields={"cursor": "is damaged"},
            ) from None

    def _parse_value(self, value: Any) -> Any:
        if self.column is None:
            return None
        if value is None:
            if not self.nullable:
                raise ValueError
            return None
        if self.kind == "datetime":
            return dt.datetime.fromisoformat(str(value))
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError
            return float(value)
        if not isinstance(value, str):
            raise TypeError
        return value


def paginate[M: Model](
    queryset: QuerySet[M], keyset: Keyset, *, limit: int, cursor: str | None
) -> tuple[list[M], str | None]:
    """One page of `queryset` in `keyset` order after `cursor`, and the cursor of the next
    page (None on the last one). One query: it fetches one row more than it returns."""
    queryset = queryset.order_by(*keyset.order_by())
    if cursor:
        value, last_id = keyset.decode(cursor)
        queryset = queryset.filter(keyset.after(value, last_id))
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, keyset.encode(rows[-1])


LEAD_KEYSETS: dict[str, Keyset] = {
    "-created_at": Keyset("-created_at", None, descending=True),
    "created_at": Keyset("created_at", None, descending=False),
    "-total_score": Keyset("-total_score", "total_score", descending=True),
    "total_score": Keyset("total_score", "total_score", descending=False),
    "-fit_score": Keyset("-fit_score", "fit_score", descending=True),
    "fit_score": Keyset("fit_score", "fit_score", descending=False),
    "-engagement_score": Keyset("-engagement_score", "engagement_score", descending=True),
    "engagement_score": Keyset("engagement_score", "engagement_score", descending=False),
    "-last_activity_at": Keyset(
        "-last_activity_at", "last_activity_at", True, kind="datetime", nullable=False
    ),
    "last_activity_at": Keyset(
        "last_activity_at", "last_activity_at", False, kind="datetime", nullable=False
    ),
    "-predicted_probability": Keyset(
        "-predicted_probability", "predicted_probability", True, nullable=True
    ),
    "predicted_probability": Keyset(
        "predicted_probability", "predicted_probability", False, nullable=True
    ),
}
COMPANY_KEYSETS: dict[str, Keyset] = {
    "-created_at": Keyset("companies:-created_at", None, descending=True),
    "name": Keyset("companies:name", "name", descending=False, kind="text"),
}


# --- Helpers -------------------------------------------------------------------------------


class LeadOwnedElsewhere(ApplicationError):
    status = HTTPStatus.CONFLICT


def _visible_lead(user: User, lead_id: int) -> Lead:
    lead = lead_get(user=user, lead_id=lead_id) if 0 < lead_id <= MAX_DB_ID else None
    if lead is None:
        raise _lead_not_found(lead_id)
    return lead


def _lead_not_found(lead_id: int) -> NotFound:
    return NotFound(
        f"There is no lead with id {lead_id} that you can see. Check the id (sales reps "
        "see only the leads they own).",
    )


def _require_editor(user: User) -> None:
    if not user.can_edit_leads:
        raise PermissionDenied(
            f"Your role ({user.get_role_display()}) may read leads but not create or change "
            "them. Ask an admin if you need to."
        )


def _client_ip(request: HttpRequest) -> str | None:
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


def _lead_body(request: HttpRequest, lead: Lead, action: LeadAction) -> Lead | LeadReceipt:
    """The lead (rendered as LeadOut) for keys that may read; otherwise only its id and what
    happened."""
    if request_api_key(request).has_scope(Scope.READ):
        return lead
    return LeadReceipt(id=lead.pk, action=action)


# --- Leads ---------------------------------------------------------------------------------


@router.get(
    "/leads",
    response={200: LeadPage, **errors(HTTPStatus.BAD_REQUEST)},
    tags=["leads"],
    summary="List leads",
)
def list_leads(request: HttpRequest, params: Query[LeadListQuery]) -> dict[str, Any]:
    """Leads the key's user can see, newest first unless `sort` says otherwise. Needs `read`."""
    require_scope(request, Scope.READ)
    filters = LeadFilters(
        q=params.q,
        stage=params.stage or "",
        temperature=params.temperature or "",
        qualification=params.qualification or "",
        owner=params.owner,
        unassigned=params.unassigned,
        source=params.source or "",
        min_score=params.min_score,
        max_score=params.max_score,
        grades=tuple(params.grade),
        prospect=params.prospect,
        min_probability=params.min_probability,
        archived=params.archived,
        sort=params.sort,
    )
    queryset = lead_list(user=request_user(request), filters=filters).select_related("campaign")
    items, next_cursor = paginate(
        queryset, LEAD_KEYSETS[params.sort], limit=params.limit, cursor=params.cursor
    )
    return {"items": items, "next": next_cursor}


@router.post(
    "/leads",
    response={
        200: LeadOut | LeadReceipt,
        201: LeadOut | LeadReceipt,
        **errors(HTTPStatus.BAD_REQUEST, HTTPStatus.CONFLICT, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    },
    tags=["leads"],
    summary="Create or update a lead",
)
def upsert_lead(request: HttpRequest, payload: LeadIn) -> Status[Any]:
    """Creates the lead (201) or, when its email (case-insensitive) or phone is already known,
    fills in that lead's blank fields (200); differing values are kept in the lead's history,
    not applied. Needs `write` or `ingest`. A sales rep becomes the owner of leads they create.
    """
    require_scope(request, Scope.WRITE, Scope.INGEST)
    user = request_user(request)
    _require_editor(user)
    ip = _client_ip(request)
    consents = [
        ConsentInput(
            purpose=c.purpose,
            granted=c.granted,
            text_shown=c.text_shown,
            source=c.source,
            ip_address=str(c.ip_address) if c.ip_address else ip,
        )
        for c in payload.consents
    ]
    with transaction.atomic():
        result = lead_upsert(data=payload.lead_data(), source="api", actor=user, consents=consents)
        if result.created and not user.sees_all_leads:
            lead_assign(lead=result.lead, owner=user, actor=user)
        lead = lead_get(user=user, lead_id=result.lead.pk)
        if lead is None:
            # A rep sent a lead that another owner already has: change nothing (roll back).
            raise LeadOwnedElsewhere(
                f"A lead with this {result.matched_by or 'email or phone'} already exists and "
                "is owned by someone else, so nothing was changed. Ask an admin or a marketer "
                "to assign it to you if you should work on it.",
                fields={result.matched_by or "email": "belongs to a lead owned by someone else"},
            )
    status = HTTPStatus.CREATED if result.created else HTTPStatus.OK
    return Status(status, _lead_body(request, lead, result.action))


@router.get(
    "/leads/{lead_id}",
    response={200: LeadOut, **errors(HTTPStatus.NOT_FOUND)},
    tags=["leads"],
    summary="Get a lead",
)
def get_lead(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Needs `read`. 404 when the lead does not exist or the key's user cannot see it."""
    require_scope(request, Scope.READ)
    user = request_user(request)
    row = lead_get_values(user=user, lead_id=lead_id) if 0 < lead_id <= MAX_DB_ID else None
    if row is None:
        raise _lead_not_found(lead_id)
    # LeadOut's JSON, built straight from the row: this is the API's most frequent request.
    renderer = ApiJSONRenderer()  # the API's renderer (config.api), same output as JSON's
    body = renderer.render(request, lead_out_from_values(row), response_status=HTTPStatus.OK)
    return HttpResponse(body, content_type=f"{renderer.media_type}; charset={renderer.charset}")


@router.patch(
    "/leads/{lead_id}",
    response={
        200: LeadOut | LeadReceipt,
        **errors(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    },
    tags=["leads"],
    summary="Change a lead",
)
def patch_lead(request: HttpRequest, lead_id: int, payload: LeadPatch) -> Lead | LeadReceipt:
    """A JSON merge patch: fields left out are not changed, values given replace stored ones
    (the old values stay in the lead's history), null or "" clears a field. Also changes
    `owner` (admins and marketers only), `sales_status`, `qualification`, `lifecycle_stage`
    and `temperature`, recorded as transitions with `reason`. Needs `write`; viewers cannot
    change leads and sales reps only their own."""
    require_scope(request, Scope.WRITE)
    user = request_user(request)
    lead = _visible_lead(user, lead_id)
    _require_editor(user)
    result = lead_update(
        lead=lead, data=payload.lead_data(), actor=user, source="api", reason=payload.reason or ""
    )
    return _lead_body(request, _visible_lead(user, lead_id), result.action)


@router.delete(
    "/leads/{lead_id}",
    response={204: None, **errors(HTTPStatus.NOT_FOUND)},
    tags=["leads"],
    summary="Delete a lead",
)
def delete_lead(request: HttpRequest, lead_id: int) -> Status[Any]:
    """Erases the lead and everything recorded about it. Needs `write`, and an admin's or a
    marketer's key."""
    require_scope(request, Scope.WRITE)
    user = request_user(request)
    lead = _visible_lead(user, lead_id)
    if not (user.is_leadbase_admin or (user.is_active and user.role == Role.MARKETER)):
        raise PermissionDenied(
            "Deleting a lead erases everything recorded about it, so only admins and marketers "
            f"may do it; your role is {user.get_role_display()}. Ask one of them."
        )
    lead_delete(lead=lead)
    return Status(HTTPStatus.NO_CONTENT, None)


# --- Companies -----------------------------------------------------------------------------


@router.get(
    "/companies",
    response={200: CompanyPage, **errors(HTTPStatus.BAD_REQUEST)},
    tags=["companies"],
    summary="List companies",
)
def list_companies(request: HttpRequest, params: Query[CompanyListQuery]) -> dict[str, Any]:
    """Newest first, or `sort=name`. Needs `read`."""
    require_scope(request, Scope.READ)
    items, next_cursor = paginate(
        company_list(q=params.q),
        COMPANY_KEYSETS[params.sort],
        limit=params.limit,
        cursor=params.cursor,
    )
    return {"items": items, "next": next_cursor}


@router.get(
    "/companies/{company_id}",
    response={200: CompanyOut, **errors(HTTPStatus.NOT_FOUND)},
    tags=["companies"],
    summary="Get a company",
)
def get_company(request: HttpRequest, company_id: int) -> Company:
    """Needs `read`."""
    require_scope(request, Scope.READ)
    company = company_list().filter(pk=company_id).first() if 0 < company_id <= MAX_DB_ID else None
    if company is None:
        raise NotFound(f"There is no company with id {company_id}. Check the id.")
    return company
