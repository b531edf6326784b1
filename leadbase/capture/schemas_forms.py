"""Request and response shapes of the forms API (/api/v1/forms, /api/v1/submissions).

Input schemas check types only; the values are checked by `form_rules` (through the
services), the same rules the builder UI applies, so both accept exactly the same forms.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictInt

from leadbase.leads.models import Channel, ConsentPurpose
from leadbase.leads.schemas import MAX_DB_ID, OwnerOut, PageQuery

from .form_rules import FieldSpec
from .models import FieldKind, FormPurpose, SubmissionStatus

_LONG = 20_000  # a bound on any text, far above every rule; the rules give the real limits


class FieldIn(Schema):
    """One field. The list of fields is always sent whole: it replaces the form's fields (a
    field keeps its id when its name stays)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        max_length=_LONG,
        description="Input name: lower-case letters, digits, _ or -; unique in the form.",
    )
    label: str = Field(max_length=_LONG, description="What people see next to the field.")
    kind: FieldKind = FieldKind.TEXT
    required: StrictBool = False
    maps_to: str = Field(
        "",
        max_length=_LONG,
        description="The lead field it fills (email, first_name, company, ...), "
        "`attributes.<key>` for a custom attribute, or empty to keep it in the submission only.",
    )
    choices: list[str] = Field(
        default_factory=list, max_length=1000, description="For kind `choice` only."
    )
    default: str = Field("", max_length=_LONG, description="The value a hidden field sends.")
    placeholder: str = Field("", max_length=_LONG)
    help_text: str = Field("", max_length=_LONG)
    max_length: StrictInt = Field(200, description="Longest value accepted (1 to 10,000).")

    def spec(self) -> FieldSpec:
        values = self.model_dump()
        return FieldSpec(**{**values, "choices": tuple(values["choices"])})


class FormSettingsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    slug: str | None = Field(
        None, max_length=_LONG, description="/f/<slug>; made from the name when left out."
    )
    purpose: FormPurpose | None = None
    campaign: str | None = Field(
        None, max_length=_LONG, description="Campaign name; created when new, null for none."
    )
    channel: Channel | Literal[""] | None = Field(
        None, description='Source channel of the leads; "" takes it from UTM values and referrer.'
    )
    is_active: StrictBool | None = None
    submit_label: str | None = Field(None, max_length=_LONG)
    consent_text: str | None = Field(
        None, max_length=_LONG, description='The consent checkbox text; "" asks no consent.'
    )
    consent_purpose: ConsentPurpose | None = None
    consent_required: StrictBool | None = None
    double_opt_in: StrictBool | None = None
    thank_you_message: str | None = Field(None, max_length=_LONG)
    redirect_url: str | None = Field(
        None, max_length=_LONG, description="Only to a host listed in allowed_domains."
    )
    allowed_domains: list[str] | None = Field(
        None,
        max_length=1000,
        description="Host names that may embed the form and be redirected to (IDN allowed).",
    )
    owner: int | None = Field(
        None, ge=1, le=MAX_DB_ID, description="User id new leads are assigned to; null: none."
    )
    notify_owner: StrictBool | None = None
    fields: list[FieldIn] | None = Field(
        None, description="The form's fields, in order; replaces the current list."
    )

    def settings(self) -> dict[str, Any]:
        """The settings sent, as the services take them (null text is "", a null list is
        empty; a null flag or choice is passed on, for the rules to name)."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude_unset=True, exclude={"fields"}).items():
            if value is None and key in _NULL_IS_EMPTY:
                value = [] if key == "allowed_domains" else ""
            out[key] = value
        return out


_NULL_IS_EMPTY = frozenset(
    {"name", "slug", "campaign", "channel", "submit_label", "consent_text",
     "thank_you_message", "redirect_url", "allowed_domains"}
)  # fmt: skip


class FormIn(FormSettingsIn):
    """A new form. Settings left out take their defaults; `fields` left out gives the starter
    fields (email, required, and first name)."""

    name: str = Field(max_length=_LONG)


class FormPatch(FormSettingsIn):
    """Changes to a form: only the settings sent change; `fields`, when sent, replaces the
    whole list."""

    name: str | None = Field(None, max_length=_LONG)


class FieldOut(Schema):
    id: int
    position: int
    name: str
    label: str
    kind: str
    required: bool
    maps_to: str
    choices: list[str]
    default: str
    placeholder: str
    help_text: str
    max_length: int


class FormOut(Schema):
    id: int
    name: str
    slug: str
    purpose: str
    campaign: str | None
    channel: str
    is_active: bool
    submit_label: str
    consent_text: str
    consent_purpose: str
    consent_required: bool
    double_opt_in: bool
    thank_you_message: str
    redirect_url: str
    allowed_domains: list[str]
    content_file: str | None = Field(
        description="Name of the file delivered (upload it in the UI)."
    )
    owner: OwnerOut | None
    notify_owner: bool
    fields: list[FieldOut]
    fields_count: int
    visible_fields_count: int
    submissions_count: int
    spam_count: int = Field(description="Submissions held as spam.")
    url: str = Field(description="The hosted page, also the target of a plain HTML form.")
    embed_script: str
    embed_snippet: str = Field(description="The one line that embeds the form in a page.")
    created_at: dt.datetime
    updated_at: dt.datetime


class FormPage(Schema):
    items: list[FormOut]
    next: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class FormListQuery(PageQuery):
    active: bool | None = Field(None, description="true: active forms only; false: inactive.")


class SubmissionOut(Schema):
    id: int
    form: int
    status: str
    spam_reason: str
    data: Any = Field(description="The values sent, by field name.")
    context: Any = Field(description="UTM values, referrer, landing page, visitor id.")
    email: str
    lead: int | None = Field(description="The lead it made or updated (null if none you see).")
    duplicate_of: int | None
    error: str
    ip_address: str | None
    created_at: dt.datetime
    processed_at: dt.datetime | None
    released_at: dt.datetime | None
    released_by: str | None = Field(description="User name of who released it.")


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    next: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class SubmissionListQuery(PageQuery):
    status: SubmissionStatus | None = Field(
        None, description="received, processed, duplicate, spam or failed."
    )
