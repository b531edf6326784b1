"""Django forms of the form builder. They only parse what the browser sent; the rules live in
`form_rules` and are applied by the services, whose errors `add_service_errors` puts back
next to the inputs they concern."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.text import slugify

from leadbase.leads.models import Channel, ConsentPurpose

from .form_rules import ATTRIBUTE_PREFIX, LEAD_TARGETS, MAX_FIELD_LENGTH, FieldSpec
from .models import FieldKind, Form, FormPurpose, SubmissionStatus
from .selectors import owner_choices

CAMPAIGN_LIST_ID = "campaign-names"
CUSTOM_ATTRIBUTE = ATTRIBUTE_PREFIX  # the maps_to option that takes a key from attribute_key


def _area(rows: int, **attrs: str) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": str(rows), **attrs})


class FormSettingsForm(forms.Form):
    """Every setting of a Form. `read_only=True` shows the same inputs, disabled."""

    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    slug = forms.CharField(
        required=False,
        max_length=80,
        help_text="The form's address: /f/<slug>. Left empty, it is made from the name.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    purpose = forms.ChoiceField(choices=FormPurpose.choices)
    campaign = forms.CharField(
        required=False,
        max_length=200,
        help_text="Choose an existing campaign or type a new name to create it.",
        widget=forms.TextInput(attrs={"list": CAMPAIGN_LIST_ID, "autocomplete": "off"}),
    )
    channel = forms.ChoiceField(
        required=False,
        choices=[("", "From the UTM values and referrer"), *Channel.choices],
        label="Source channel",
    )
    submit_label = forms.CharField(max_length=60, label="Button text")
    consent_text = forms.CharField(
        required=False,
        widget=_area(3),
        label="Consent text",
        help_text="Shown next to the consent checkbox and stored with each consent. Empty: "
        "the form asks no consent.",
    )
    consent_purpose = forms.ChoiceField(choices=ConsentPurpose.choices)
    consent_required = forms.BooleanField(
        required=False, label="Consent is required to submit the form"
    )
    double_opt_in = forms.BooleanField(
        required=False,
        label="Double opt-in",
        help_text="Send a confirmation link; consent counts once the person clicks it.",
    )
    thank_you_message = forms.CharField(required=False, widget=_area(3))
    redirect_url = forms.CharField(
        required=False,
        max_length=500,
        label="Redirect after submitting",
        help_text="Optional. Only to a host listed under allowed domains, so the form cannot "
        "send people to someone else's site.",
        widget=forms.URLInput(attrs={"placeholder": "https://www.example.com/thank-you"}),
    )
    allowed_domains = forms.CharField(
        required=False,
        widget=_area(3, spellcheck="false", placeholder="example.com\nwww.example.com"),
        help_text="One host name per line: the sites that may embed the form and be "
        "redirected to. Internationalised names are fine (they are stored as punycode).",
    )
    content_file = forms.FileField(
        required=False,
        label="Content to deliver",
        help_text="For content-download forms: the file people receive.",
    )
    remove_content_file = forms.BooleanField(required=False, label="Remove the current file")
    owner = forms.ModelChoiceField(
        queryset=owner_choices(),
        required=False,
        empty_label="Nobody (assign by routing)",
        help_text="New leads from this form are assigned to this person.",
    )
    notify_owner = forms.BooleanField(required=False, label="Email the owner about each lead")
    is_active = forms.BooleanField(
        required=False, label="Active", help_text="Inactive forms accept no submissions."
    )

    def __init__(
        self, *args: Any, read_only: bool = False, new: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if not new:
            self.fields["slug"].help_text = (
                "The form's address: /f/<slug>. Changing it breaks the pages that link to or "
                "embed the old address. Left empty, it stays as it is."
            )
        if new:  # builder.js shows the slug the name gives, as the placeholder
            self.fields["slug"].widget.attrs |= {
                "data-suggest": "",
                "placeholder": "made from the name",
            }
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = owner_choices()  # evaluated per form, not at import
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    def values(self) -> dict[str, Any]:
        """The settings, as services_forms.form_create/form_update take them."""
        skip = {"content_file", "remove_content_file"}
        return {key: value for key, value in self.cleaned_data.items() if key not in skip}


def _maps_to_choices() -> list[tuple[str, Any]]:
    return [
        ("", "Nothing: keep it in the submission only"),
        ("Lead fields", list(LEAD_TARGETS.items())),
        ("Custom attribute", [(CUSTOM_ATTRIBUTE, "Custom attribute (give its key) …")]),
    ]


class FieldForm(forms.Form):
    """One field of a form; `taken` holds the other fields' names, so a name made from the
    label does not collide with them."""

    label = forms.CharField(max_length=200)
    name = forms.CharField(
        required=False,
        max_length=64,
        help_text="The input's name (lower-case letters, digits, _ or -). Left empty, it is "
        "made from the label.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(choices=FieldKind.choices, initial=FieldKind.TEXT)
    required = forms.BooleanField(required=False)
    maps_to = forms.ChoiceField(choices=_maps_to_choices, required=False, label="Fills")
    attribute_key = forms.CharField(
        required=False,
        max_length=64,
        label="Attribute key",
        help_text="For a custom attribute: its key, e.g. team_size.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    choices = forms.CharField(
        required=False, widget=_area(3), help_text="For a choice field: one choice per line."
    )
    default = forms.CharField(
        required=False,
        max_length=500,
        help_text="The value a hidden field sends (or a visible one starts with).",
    )
    placeholder = forms.CharField(required=False, max_length=200)
    help_text = forms.CharField(required=False, max_length=300)
    max_length = forms.IntegerField(min_value=1, max_value=MAX_FIELD_LENGTH, initial=200)

    def __init__(self, *args: Any, taken: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taken = set(taken)

    @classmethod
    def initial_of(cls, spec: FieldSpec) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "label": spec.label,
            "name": spec.name,
            "kind": spec.kind,
            "required": spec.required,
            "maps_to": spec.maps_to,
            "choices": "\n".join(spec.choices),
            "default": spec.default,
            "placeholder": spec.placeholder,
            "help_text": spec.help_text,
            "max_length": spec.max_length,
        }
        if spec.maps_to.startswith(ATTRIBUTE_PREFIX):
            initial["maps_to"] = CUSTOM_ATTRIBUTE
            initial["attribute_key"] = spec.maps_to.removeprefix(ATTRIBUTE_PREFIX)
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("maps_to") == CUSTOM_ATTRIBUTE and not data.get("attribute_key"):
            self.add_error("attribute_key", "Give the custom attribute's key, e.g. team_size.")
        return data

    def spec(self) -> FieldSpec:
        data = self.cleaned_data
        name = data["name"].strip() or self._name_from(data["label"])
        maps_to = data["maps_to"]
        if maps_to == CUSTOM_ATTRIBUTE:
            maps_to = ATTRIBUTE_PREFIX + data["attribute_key"].strip()
        lines = [line.strip() for line in data["choices"].splitlines()]
        return FieldSpec(
            name=name,
            label=data["label"],
            kind=data["kind"],
            required=data["required"],
            maps_to=maps_to,
            # Choices typed for another kind are dropped (the kind may just have changed).
            choices=tuple(line for line in lines if line) if data["kind"] == "choice" else (),
            default=data["default"],
            placeholder=data["placeholder"],
            help_text=data["help_text"],
            max_length=data["max_length"],
        )

    def _name_from(self, label: str) -> str:
        base = slugify(label).replace("-", "_")[:60].strip("_")
        if not base or not base[0].isalpha():
            base = f"field_{base}".strip("_")
        name, number = base, 2
        while name in self.taken:
            name, number = f"{base}_{number}", number + 1
        return name


def add_service_errors(form: forms.Form, errors: Mapping[str, str]) -> None:
    """Show a service's errors (by input name, as `ValidationFailed.fields` has them) next to
    the inputs of `form`; the others become errors of the whole form."""
    for key, message in errors.items():
        name = "attribute_key" if key == "maps_to" and _is_attribute(form) else key
        if name in form.fields:
            form.add_error(name, f"{message[:1].upper()}{message[1:]}.")
        else:
            form.add_error(None, f"{key.replace('_', ' ').capitalize()}: {message}.")


def _is_attribute(form: forms.Form) -> bool:
    return bool(getattr(form, "cleaned_data", {}).get("maps_to") == CUSTOM_ATTRIBUTE)


class SubmissionFilterForm(forms.Form):
    """The inbox's filters, from the query string; a bad value is a form error, not a crash."""

    form = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Form")
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *SubmissionStatus.choices],
        label="Status",
    )

    def __init__(self, data: Any = None, *, forms_: Iterable[Form] = ()) -> None:
        super().__init__(data)
        field = self.fields["form"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "Any form"), *((str(f.pk), f.name) for f in forms_)]
