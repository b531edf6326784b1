"""Whatever text arrives in a field, it is stored clean and within its limit, or refused
under that field's name: never an error page, never a control character in the lead."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbase.capture.form_values import form_values_clean
from leadbase.capture.models import FieldKind, Form, FormField

FIELDS = [
    FormField(name="name", label="Name", kind=FieldKind.TEXT, max_length=40),
    FormField(name="note", label="Note", kind=FieldKind.TEXTAREA, max_length=80),
    FormField(name="email", label="Email", kind=FieldKind.EMAIL),
    FormField(name="phone", label="Phone", kind=FieldKind.PHONE),
    FormField(name="pick", label="Pick", kind=FieldKind.CHOICE, choices=["a", "b"]),
    FormField(name="ok", label="OK", kind=FieldKind.CHECKBOX),
]
FORM = Form(slug="p", consent_text="Agree?", consent_required=False)
scalar = st.one_of(st.text(max_size=120), st.integers(), st.booleans(), st.none(), st.floats())
value = st.one_of(scalar, st.lists(scalar, max_size=2), st.dictionaries(st.text(), scalar))


@given(raw=st.dictionaries(st.sampled_from([f.name for f in FIELDS] + ["lb.consent"]), value))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_value_is_stored_clean_or_refused_under_its_field(raw: dict[str, object]) -> None:
    clean = form_values_clean(form=FORM, fields=FIELDS, raw=raw)

    assert set(clean.errors) <= {*raw, "lb.consent"}
    assert not set(clean.errors) & set(clean.data)
    for field in FIELDS:
        stored = clean.data.get(field.name)
        if stored is None:
            continue
        if field.kind == FieldKind.CHECKBOX:
            assert stored is True
            continue
        assert isinstance(stored, str) and stored
        assert stored == unicodedata.normalize("NFC", stored) or field.kind == FieldKind.EMAIL
        allowed_controls = "\n\t" if field.kind == FieldKind.TEXTAREA else ""
        assert not [
            c for c in stored if unicodedata.category(c) == "Cc" and c not in allowed_controls
        ]
        if field.kind in (FieldKind.TEXT, FieldKind.TEXTAREA):
            assert len(stored) <= field.max_length
        if field.kind == FieldKind.CHOICE:
            assert stored in ("a", "b")


@pytest.mark.parametrize("raw", [{"ok": "on"}, {"ok": True}, {"ok": "1"}])
def test_ticked_checkbox(raw: dict[str, object]) -> None:
    assert form_values_clean(form=FORM, fields=FIELDS, raw=raw).data == {"ok": True}
