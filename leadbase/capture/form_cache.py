"""The public endpoints' read of a form and its fields, kept per process between requests.

Every request still asks the database whether the form is active and when it last changed
(one small query, compiled once per connection: `core.prepared`); only when `updated_at`
differs from the cached copy are the form and its fields read again. Every edit in the
builder, the API and the admin saves the form (also a change of fields only), which moves
`updated_at`, so an edit shows on the next request in every process. Code that changes
`FormField` rows directly must save the form too. The cache is a copy of database rows, never
the only place of anything, so any number of processes can each hold one.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from leadbase.core.prepared import PreparedValues

from .models import Form, FormField

MAX_CACHED_FORMS = 500


@dataclass(frozen=True)
class PublicForm:
    form: Form
    fields: tuple[FormField, ...]
    updated_at: dt.datetime


_VERSION_COLUMNS = ("id", "updated_at")


def _version(slug: str) -> QuerySet[Form, dict[str, Any]]:
    found: QuerySet[Form, dict[str, Any]]
    found = Form.objects.filter(slug=slug, is_active=True).order_by().values(*_VERSION_COLUMNS)
    return found[:1]  # slug is unique


# Compiled once per connection (see core.prepared): this runs on every public request.
_VERSION = PreparedValues(_version, slug=str)
_cache: dict[str, PublicForm] = {}
_lock = threading.Lock()


def public_form_get(slug: str) -> PublicForm | None:
    """The active form with this slug and its fields in order, or None. The instances are
    shared between requests: read them, never change them."""
    row = _VERSION.first(slug=slug)
    if row is None:
        return None
    cached = _cache.get(slug)
    if (
        cached is not None
        and cached.form.pk == row["id"]
        and cached.updated_at == row["updated_at"]
    ):
        return cached
    form = Form.objects.select_related("campaign").filter(pk=row["id"]).first()
    if form is None:
        return None
    fields = tuple(FormField.objects.filter(form=form).order_by("position", "id"))
    entry = PublicForm(form=form, fields=fields, updated_at=row["updated_at"])
    with _lock:
        if len(_cache) >= MAX_CACHED_FORMS:
            _cache.clear()
        _cache[slug] = entry
    return entry


def public_form_forget() -> None:
    """Empty this process's cache (tests, and after bulk changes made outside the services)."""
    with _lock:
        _cache.clear()
