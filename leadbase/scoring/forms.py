"""The draft editor's form: the rule set as JSON text, and a note."""

from __future__ import annotations

import json
from typing import Any

from django import forms

MAX_DEFINITION_CHARS = 500_000


class RuleSetForm(forms.Form):
    definition = forms.CharField(
        label="Rules (JSON)",
        max_length=MAX_DEFINITION_CHARS,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 30, "spellcheck": "false", "class": "code", "autocomplete": "off"}
        ),
        help_text="The whole rule set as one JSON object (see docs/scoring-engine.md).",
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What changed and why.",
    )

    def clean_definition(self) -> dict[str, Any]:
        text = self.cleaned_data["definition"]
        try:
            data = json.loads(text)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            column = getattr(exc, "colno", None)
            where = f" at line {line}, column {column}" if line else ""
            message = getattr(exc, "msg", str(exc))
            raise forms.ValidationError(
                f"This is not valid JSON{where}: {message}. Correct it and save again."
            ) from None
        if not isinstance(data, dict):
            raise forms.ValidationError(
                "The rules must be one JSON object ({ ... }), not a "
                f"{type(data).__name__ if data is not None else 'null'}."
            )
        return data


def definition_text(definition: Any) -> str:
    """The stored definition as the editor shows it."""
    return json.dumps(definition, indent=2, ensure_ascii=False)
