"""How a form is shown: one list of widgets serves the hosted page's template and the embed
script's configuration, so both render the same labels, kinds, options and prefilled values.

The embed script is the static file `capture/embed.js` with the form's configuration (a JSON
object) put in place of its `/*LEADBASE_CONFIG*/null` placeholder."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static

from .attribution import UTM_KEYS
from .form_values import CONSENT_FIELD, countries, field_choices
from .models import FieldKind, Form, FormField
from .spam import HONEYPOT_FIELD, TOKEN_FIELD

# The browser's autofill hint for the lead field a form field fills.
AUTOCOMPLETE: dict[str, str] = {
    "email": "email",
    "phone": "tel",
    "first_name": "given-name",
    "last_name": "family-name",
    "company": "organization",
    "company_name": "organization",
    "job_title": "organization-title",
    "country": "country",
    "city": "address-level2",
    "region": "address-level1",
}
INPUT_TYPES: dict[str, str] = {
    FieldKind.EMAIL: "email",
    FieldKind.PHONE: "tel",
    FieldKind.TEXT: "text",
    FieldKind.HIDDEN: "hidden",
    FieldKind.CHECKBOX: "checkbox",
}
EMBED_PLACEHOLDER = "/*LEADBASE_CONFIG*/null"


@dataclass
class Widget:
    name: str
    id: str
    kind: str
    input_type: str  # email, tel, text, hidden, checkbox; "" for textarea and selects
    label: str
    required: bool
    value: str = ""
    checked: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    placeholder: str = ""
    help_text: str = ""
    max_length: int = 0
    autocomplete: str = ""
    error: str = ""

    @property
    def is_select(self) -> bool:
        return self.kind in (FieldKind.COUNTRY, FieldKind.CHOICE)

    @property
    def described_by(self) -> str:
        ids = [f"{self.id}-help"] if self.help_text else []
        return " ".join([*ids, *([f"{self.id}-error"] if self.error else [])])


def _first(values: Mapping[str, Any], name: str) -> Any:
    value = values.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def widgets_for(
    *,
    form: Form,
    fields: Sequence[FormField],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    id_prefix: str = "f",
) -> list[Widget]:
    """The form's fields as widgets, filled with `values` (what was posted, or the defaults
    and query parameters when the form is first shown)."""
    values = values or {}
    errors = errors or {}
    widgets = []
    for f in fields:
        raw = _first(values, f.name)
        widget = Widget(
            name=f.name,
            id=f"{id_prefix}-{f.name}",
            kind=f.kind,
            input_type=INPUT_TYPES.get(f.kind, ""),
            label=f.label,
            required=f.required,
            placeholder=f.placeholder,
            help_text=f.help_text,
            max_length=f.max_length if f.kind in (FieldKind.TEXT, FieldKind.TEXTAREA) else 0,
            autocomplete=AUTOCOMPLETE.get(f.maps_to, "on" if f.kind != FieldKind.HIDDEN else ""),
            error=errors.get(f.name, ""),
        )
        if f.kind == FieldKind.CHECKBOX:
            widget.checked = str(raw).lower() in {"on", "true", "1", "yes"} if raw else False
        else:
            widget.value = "" if raw is None or isinstance(raw, (dict, list)) else str(raw)
        if f.kind == FieldKind.COUNTRY:
            widget.options = list(countries())
        elif f.kind == FieldKind.CHOICE:
            widget.options = field_choices(f)
        widgets.append(widget)
    return widgets


def initial_values(*, fields: Sequence[FormField], query: Mapping[str, str]) -> dict[str, str]:
    """What the form shows first: each field's default; a hidden field takes the query
    parameter of its own name when the page URL has one."""
    values = {f.name: f.default for f in fields if f.default}
    for f in fields:
        if f.kind == FieldKind.HIDDEN and query.get(f.name):
            values[f.name] = query[f.name][: f.max_length]
    return values


def embed_config(
    *, form: Form, fields: Sequence[FormField], token: str, thank_you: str
) -> dict[str, Any]:
    """What the embed script needs to render and post the form (no secrets: the token only
    says when the form was shown)."""
    widgets = []
    for widget in widgets_for(
        form=form, fields=fields, values=initial_values(fields=fields, query={})
    ):
        item = asdict(widget)
        item.pop("error")
        item.pop("id")
        widgets.append(item)
    return {
        "version": 1,
        "slug": form.slug,
        "path": f"/f/{form.slug}",
        "name": form.name,
        "submitLabel": form.submit_label or "Submit",
        "fields": widgets,
        "consent": (
            {"name": CONSENT_FIELD, "text": form.consent_text, "required": form.consent_required}
            if form.consent_text
            else None
        ),
        "token": {"name": TOKEN_FIELD, "value": token},
        "honeypot": HONEYPOT_FIELD,
        "utm": list(UTM_KEYS),
        "thankYou": thank_you,
        "stylesheet": static("capture/embed.css"),
    }


@cache
def _embed_source(debug: bool) -> str:
    del debug  # part of the cache key only
    path = finders.find("capture/embed.js")
    if not path:
        raise RuntimeError("capture/embed.js is missing from the static files")
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    if EMBED_PLACEHOLDER not in source:
        raise RuntimeError(f"capture/embed.js lacks the placeholder {EMBED_PLACEHOLDER}")
    return source


def embed_script(config: Mapping[str, Any]) -> str:
    """The embed script with `config` in it. The JSON is escaped so that no character in a
    label or message can end the script or the string early (<, >, &, U+2028, U+2029)."""
    payload = json.dumps(config, ensure_ascii=True, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    source = _embed_source(settings.DEBUG)
    if settings.DEBUG:
        _embed_source.cache_clear()  # edits of the file show at once while developing
    return source.replace(EMBED_PLACEHOLDER, payload, 1)
