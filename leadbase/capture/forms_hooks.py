"""The form of the webhook-source pages: parses input; the service validates and saves."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from leadbase.leads.models import Campaign, Channel

from .hook_mapping import mapping_problems
from .models import WebhookKind, WebhookSource

MAPPING_HELP = (
    'A JSON object: platform field name → lead field (e.g. "company"), "full_name", '
    '"attributes.<key>", or "" to drop the field. Empty: the platform defaults.'
)


class WebhookSourceForm(forms.Form):
    kind = forms.ChoiceField(choices=WebhookKind.choices, label="Platform")
    name = forms.CharField(max_length=200)
    secret = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            "Facebook: the app secret (App settings > Basic). LinkedIn: the client secret "
            "(app > Auth). Generic: leave empty to have one generated. When editing, leave "
            "empty to keep the current one."
        ),
    )
    verify_token = forms.CharField(
        max_length=200,
        required=False,
        label="Verify token",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Facebook only: what you type as Verify Token in the app's Webhooks "
        "settings. Empty: one is generated.",
    )
    external_id = forms.CharField(
        max_length=100,
        required=False,
        label="Page, form or account id",
        help_text="Only leads of this Facebook page or form id, or this LinkedIn ad account, "
        "organization or form (URN or number). Empty: every lead the secret verifies.",
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name"), required=False, empty_label="(none)"
    )
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PAID_SOCIAL)
    consent_text = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Consent text",
        help_text="The disclaimer the platform form shows. When set, a marketing-email consent "
        "with this text is recorded for each lead (generic: for items that send "
        '"consent": true).',
    )
    field_mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"}),
        label="Field mapping",
        help_text=MAPPING_HELP,
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(
        self,
        data: Any = None,
        *,
        source: WebhookSource | None = None,
        initial: dict[str, Any] | None = None,
    ) -> None:
        initial = dict(initial or {})
        if source is not None:
            initial = {
                "kind": source.kind,
                "name": source.name,
                "verify_token": source.verify_token,
                "external_id": source.external_id,
                "campaign": source.campaign_id,
                "channel": source.channel,
                "consent_text": source.consent_text,
                "field_mapping": json.dumps(
                    source.field_mapping or {}, indent=2, ensure_ascii=False
                )
                if source.field_mapping
                else "",
                "is_active": source.is_active,
            }
        super().__init__(data, initial=initial)
        self.source = source
        if source is not None:
            # the platform of a source does not change: its URL and secret depend on it
            self.fields["kind"].disabled = True

    def clean_field_mapping(self) -> dict[str, Any]:
        text = str(self.cleaned_data.get("field_mapping") or "").strip()
        if not text:
            return {}
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"This is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
            ) from None
        problems = mapping_problems(mapping)
        if problems:
            raise forms.ValidationError([f"{k}: {v}" for k, v in problems.items()])
        return dict(mapping)

    def values(self) -> dict[str, Any]:
        """What the service takes, from the cleaned data."""
        data = dict(self.cleaned_data)
        data.pop("kind", None)
        return data
