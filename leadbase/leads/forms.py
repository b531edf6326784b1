"""Forms of the lead pages. `LeadFilterForm` turns the list's query string into LeadFilters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from leadbase.accounts.models import User

from .models import Channel, LifecycleStage, Qualification, Temperature
from .selectors import DEFAULT_SORT, GRADES, NOT_QUALIFIED, SORTS, LeadFilters

UNASSIGNED = "unassigned"
# The prospect filter's values (a blank value means any).
PROSPECT_CHOICES = [("", "Any"), ("yes", "Prospects"), ("no", "Not prospects")]

SORT_LABELS: dict[str, str] = {
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "-total_score": "Highest score",
    "total_score": "Lowest score",
    "-fit_score": "Best fit",
    "fit_score": "Weakest fit",
    "-engagement_score": "Most engaged",
    "engagement_score": "Least engaged",
    "-last_activity_at": "Latest activity",
    "last_activity_at": "Least recent activity",
    "-predicted_probability": "Most likely to convert",
    "predicted_probability": "Least likely to convert",
}
# The default first: a browser shows the first option when the query string names no sort.
_SORT_ORDER = [DEFAULT_SORT, *SORT_LABELS, *SORTS]
SORT_CHOICES: list[tuple[str, str]] = [
    (key, SORT_LABELS.get(key, key))
    for key in dict.fromkeys(_SORT_ORDER)  # unique, in order
    if key in SORTS
]


def _any(label: str, choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The model's choices after an "any" option; a blank model value cannot be a filter."""
    return [("", label), *((value, name) for value, name in choices if value)]


class _ChoicesOrBlank(forms.MultipleChoiceField):
    """Several choices, where a blank value (as a hand-written URL may send) means none."""

    def to_python(self, value: Any) -> list[str]:
        return [item for item in super().to_python(value) if item]


class LeadFilterForm(forms.Form):
    """The lead list's filters, read from GET parameters. Every field is optional; a value
    that is not one of the choices (or not a number) is a form error, never a crash."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, email or company",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    stage = forms.ChoiceField(
        label="Stage", required=False, choices=_any("Any stage", LifecycleStage.choices)
    )
    temperature = forms.ChoiceField(
        label="Temperature", required=False, choices=_any("Any", Temperature.choices)
    )
    qualification = forms.ChoiceField(
        label="Qualification",
        required=False,
        choices=[
            ("", "Any"),
            (NOT_QUALIFIED, Qualification.NONE.label),
            *_any("Any", Qualification.choices)[1:],
        ],
    )
    owner = forms.ChoiceField(label="Owner", required=False)
    source = forms.ChoiceField(
        label="Source", required=False, choices=_any("Any source", Channel.choices)
    )
    min_score = forms.FloatField(
        label="Min score",
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    max_score = forms.FloatField(
        label="Max score",
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    grade = _ChoicesOrBlank(
        label="Fit grade",
        required=False,
        choices=[(grade, grade) for grade in GRADES],
        widget=forms.CheckboxSelectMultiple,
    )
    prospect = forms.ChoiceField(label="Prospect", required=False, choices=PROSPECT_CHOICES)
    min_probability = forms.FloatField(
        label="Min probability to convert (%)",
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_CHOICES)

    def __init__(self, data: Any = None, *, owners: Iterable[User] | None = None) -> None:
        """`owners` are the users offered in the owner filter; None removes that filter (a
        sales rep sees only their own leads, so it would mean nothing to them)."""
        super().__init__(data)
        if owners is None:
            del self.fields["owner"]
        else:
            owner_field = self.fields["owner"]
            assert isinstance(owner_field, forms.ChoiceField)
            owner_field.choices = [
                ("", "Anyone"),
                (UNASSIGNED, "Unassigned"),
                *((str(user.pk), str(user)) for user in owners),
            ]

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_score"), cleaned.get("max_score")
        if low is not None and high is not None and low > high:
            self.add_error("max_score", "Max score must not be below min score.")
        return cleaned

    def to_filters(self) -> LeadFilters:
        """The LeadFilters of a valid form (call is_valid() first)."""
        data = self.cleaned_data
        owner = data.get("owner") or ""
        return LeadFilters(
            q=" ".join(data["q"].split()),
            stage=data["stage"],
            temperature=data["temperature"],
            qualification=data["qualification"],
            owner=int(owner) if owner and owner != UNASSIGNED else None,
            unassigned=owner == UNASSIGNED,
            source=data["source"],
            min_score=data["min_score"],
            max_score=data["max_score"],
            grades=tuple(data["grade"]),
            prospect={"yes": True, "no": False}.get(data["prospect"]),
            min_probability=(
                None if data.get("min_probability") is None else data["min_probability"] / 100
            ),
            sort=data["sort"] or DEFAULT_SORT,
        )

    @property
    def active_sort(self) -> str:
        """The sort in effect (the default when the form is invalid or gives none)."""
        if self.is_valid() and self.cleaned_data.get("sort"):
            return str(self.cleaned_data["sort"])
        return DEFAULT_SORT
