"""Sample forms and a webhook source for the demo (`leadbase demo`), so a new user sees each
way a lead comes in: a newsletter sign-up with double opt-in, a demo-request form with a few
more fields, and a generic webhook for other tools. Made once: a database with any form or
webhook source is left as it is."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from leadbase.accounts.models import User
from leadbase.leads.models import Channel

from .form_rules import FieldSpec
from .models import FieldKind, Form, FormPurpose, WebhookKind, WebhookSource
from .services_forms import form_create
from .services_hooks import webhook_source_create

DEMO_FORMS: tuple[tuple[dict[str, object], tuple[FieldSpec, ...]], ...] = (
    (
        {
            "name": "Newsletter",
            "slug": "newsletter",
            "purpose": FormPurpose.NEWSLETTER,
            "campaign": "Monthly newsletter",
            "submit_label": "Subscribe",
            "double_opt_in": True,
            "thank_you_message": "Thanks! Check your inbox to confirm your subscription.",
        },
        (
            FieldSpec(
                name="email", label="Email", kind=FieldKind.EMAIL, required=True, maps_to="email"
            ),
            FieldSpec(name="first_name", label="First name", maps_to="first_name", max_length=100),
        ),
    ),
    (
        {
            "name": "Book a demo",
            "slug": "demo",
            "purpose": FormPurpose.DEMO_REQUEST,
            "campaign": "Website demo requests",
            "submit_label": "Book my demo",
            "consent_required": False,
            "thank_you_message": "Thank you! Someone from sales will contact you within a day.",
        },
        (
            FieldSpec(
                name="email",
                label="Work email",
                kind=FieldKind.EMAIL,
                required=True,
                maps_to="email",
            ),
            FieldSpec(name="first_name", label="First name", required=True, maps_to="first_name"),
            FieldSpec(name="last_name", label="Last name", maps_to="last_name"),
            FieldSpec(name="company", label="Company", required=True, maps_to="company"),
            FieldSpec(name="phone", label="Phone", kind=FieldKind.PHONE, maps_to="phone"),
            FieldSpec(name="country", label="Country", kind=FieldKind.COUNTRY, maps_to="country"),
        ),
    ),
)


@dataclass(frozen=True)
class DemoCapture:
    forms: int
    webhook_sources: int


def demo_capture_ensure(*, actor: User | None) -> DemoCapture:
    """Create the sample forms and webhook source unless the capture app has any already."""
    if Form.objects.exists() or WebhookSource.objects.exists():
        return DemoCapture(forms=0, webhook_sources=0)
    with transaction.atomic():
        for values, fields in DEMO_FORMS:
            form_create(values=values, actor=actor, fields=fields)
        webhook_source_create(
            kind=WebhookKind.GENERIC,
            name="Other tools (generic webhook)",
            field_mapping={
                "email": "email",
                "first_name": "first_name",
                "last_name": "last_name",
                "company": "company",
            },
            channel=Channel.OTHER,
        )
    return DemoCapture(forms=len(DEMO_FORMS), webhook_sources=1)
