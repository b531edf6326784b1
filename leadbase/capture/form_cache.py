"""The public endpoints' read of a form and its fields, kept per process between requests.

A process trusts its copy of a form for FORM_CACHE_SECONDS after it last checked it; then the
next request asks the database whether the form is still active and when it last changed
(one small query, compiled once per connection: `core.prepared`), and reads the form and its
fields again only when `updated_at` differs. So:

- in the process that makes an edit, the edit shows on the next request: saving or deleting
  a Form or a FormField drops the form's copy at once and again when the transaction commits
  (so a request running meanwhile cannot keep the old rows);
- in every other process an edit shows within FORM_CACHE_SECONDS (2 s), and so does
  deactivating a form (a request in that time is taken as if it came just before).

Every edit in the builder, the API and the admin saves the form (also a change of fields
only), which moves `updated_at`; code that changes `FormField` rows without signals
(`update()`, `bulk_update()`) must save the form too. The cache is a copy of database rows,
never the only place of anything, so any number of processes can each hold one.

Each entry also keeps the answers that depend only on the form (`PublicForm.answers`: the
thank-you page, the JSON answer), made once per version of the form.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.db.models.signals import post_delete, post_save

from leadbase.core.prepared import PreparedValues

from .models import Form, FormField

MAX_CACHED_FORMS = 500
FORM_CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class PublicForm:
    form: Form
    fields: tuple[FormField, ...]
    updated_at: dt.datetime
    answers: dict[str, Any] = field(default_factory=dict, compare=False)


_VERSION_COLUMNS = ("id", "updated_at")


def _version(slug: str) -> QuerySet[Form, dict[str, Any]]:
    found: QuerySet[Form, dict[str, Any]]
    found = Form.objects.filter(slug=slug, is_active=True).order_by().values(*_VERSION_COLUMNS)
    return found[:1]  # slug is unique


# Compiled once per connection (see core.prepared): this runs on public requests.
_VERSION = PreparedValues(_version, slug=str)
_cache: dict[str, tuple[PublicForm, float]] = {}  # slug -> (entry, monotonic time checked)
_lock = threading.Lock()
_clock = time.monotonic  # (tests move it forward)


def public_form_get(slug: str) -> PublicForm | None:
    """The active form with this slug and its fields in order, or None. The instances are
    shared between requests: read them, never change them."""
    now = _clock()
    found = _cache.get(slug)
    if found is not None and now - found[1] < FORM_CACHE_SECONDS:
        return found[0]
    row = _VERSION.first(slug=slug)
    if row is None:
        return None
    cached = found[0] if found is not None else None
    if (
        cached is not None
        and cached.form.pk == row["id"]
        and cached.updated_at == row["updated_at"]
    ):
        entry = cached
    else:
        form = Form.objects.select_related("campaign").filter(pk=row["id"]).first()
        if form is None:
            return None
        fields = tuple(FormField.objects.filter(form=form).order_by("position", "id"))
        entry = PublicForm(form=form, fields=fields, updated_at=row["updated_at"])
    with _lock:
        if len(_cache) >= MAX_CACHED_FORMS and slug not in _cache:
            _cache.clear()
        _cache[slug] = (entry, now)
    return entry


def public_form_forget(form_id: int | None = None) -> None:
    """Drop this process's copy of one form (by id), or of every form (tests, and after bulk
    changes made outside the services)."""
    with _lock:
        if form_id is None:
            _cache.clear()
            return
        for slug in [s for s, (entry, _) in _cache.items() if entry.form.pk == form_id]:
            del _cache[slug]


def _changed(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    form_id = instance.pk if isinstance(instance, Form) else getattr(instance, "form_id", None)
    if form_id is None:
        return
    public_form_forget(form_id)
    transaction.on_commit(lambda: public_form_forget(form_id), robust=True)


for _signal in (post_save, post_delete):
    for _model in (Form, FormField):
        _signal.connect(_changed, sender=_model, dispatch_uid=f"form_cache.{_model.__name__}")
