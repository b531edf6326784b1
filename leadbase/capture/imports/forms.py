"""Forms of the import pages: the upload, the sheet choice and the column mapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

from leadbase.leads.models import ConsentPurpose

from .consent import DEFAULT_CONSENT_PURPOSE, TEXT_CHARS
from .mapping import ATTRIBUTE_PREFIX, TARGETS, attribute_key, target_label
from .reading import ENCODINGS
from .services import SOURCE_CHARS

SKIP = ("", "— skip this column —")


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or Excel file",
        help_text="CSV (any delimiter, UTF-8, UTF-16 or Windows/Latin-1) or .xlsx; the first "
        "row names the columns.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx,.xlsm,.xls,.ods"}),
    )


class SheetForm(forms.Form):
    sheet = forms.ChoiceField(label="Sheet")

    def __init__(self, data: Any = None, *, sheets: Sequence[str], current: str) -> None:
        super().__init__(data, initial={"sheet": current})
        field = self.fields["sheet"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(name, name) for name in sheets]


ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with byte order mark)",
    "utf-16": "UTF-16 (with byte order mark)",
    "utf-16-le": "UTF-16 little-endian",
    "utf-16-be": "UTF-16 big-endian",
    "utf-32": "UTF-32 (with byte order mark)",
    "cp1252": "Windows-1252 (Western European, Latin-1)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp1253": "Windows-1253 (Greek)",
    "iso8859-15": "ISO 8859-15 (Latin-9)",
    "mac-roman": "Mac OS Roman",
}
DELIMITER_LABELS = {",": "comma ( , )", ";": "semicolon ( ; )", "\t": "tab", "|": "pipe ( | )"}


class ReadAsForm(forms.Form):
    """The encoding and delimiter of a CSV file, when the detected ones read it wrong."""

    encoding = forms.ChoiceField(label="Encoding")
    delimiter = forms.ChoiceField(label="Delimiter", choices=list(DELIMITER_LABELS.items()))

    def __init__(self, data: Any = None, *, encoding: str, delimiter: str) -> None:
        super().__init__(data, initial={"encoding": encoding, "delimiter": delimiter})
        field = self.fields["encoding"]
        assert isinstance(field, forms.ChoiceField)
        names = dict.fromkeys([encoding, *ENCODINGS])  # the detected one first
        field.choices = [(name, ENCODING_LABELS.get(name, name)) for name in names]


def column_field_name(index: int) -> str:
    return f"column_{index}"


class MappingForm(forms.Form):
    """One choice per column of the file (named column_<n>: column names can be anything),
    with the source name, campaign and consent settings of the import."""

    source = forms.CharField(
        label="Source name",
        required=False,
        max_length=SOURCE_CHARS,
        help_text="Recorded with every lead and change. Empty: import:<file name>.",
    )
    campaign = forms.CharField(
        label="Campaign",
        required=False,
        max_length=200,
        help_text="Leads without a campaign column get this campaign (created if new).",
    )
    consent_text = forms.CharField(
        label="Consent text",
        required=False,
        max_length=TEXT_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What these people were shown and agreed to, word for word. Recorded as "
        "their consent: for the rows whose column mapped to “Consent given” says yes (or a "
        "date), or for every row when the box below is ticked. Leave empty to record none.",
    )
    consent_purpose = forms.ChoiceField(
        label="Consent purpose", choices=ConsentPurpose.choices, required=False
    )
    consent_all = forms.BooleanField(
        label="Every row of this file consented to that text (no consent column)",
        required=False,
    )

    def __init__(
        self,
        data: Any = None,
        *,
        headers: Sequence[str],
        mapping: Mapping[str, str],
        source: str = "",
        campaign: str = "",
        consent_text: str = "",
        consent_purpose: str = "",
        consent_all: bool = False,
    ) -> None:
        initial = {"source": source, "campaign": campaign, "consent_text": consent_text}
        initial |= {"consent_purpose": consent_purpose or DEFAULT_CONSENT_PURPOSE}
        super().__init__(data, initial=initial | {"consent_all": consent_all})
        self.headers = list(headers)
        for index, header in enumerate(self.headers):
            own_key = attribute_key(header) or f"column_{index + 1}"
            choices = [SKIP, *((t, target_label(t)) for t in TARGETS)]
            attribute_targets = [f"{ATTRIBUTE_PREFIX}{own_key}"]
            current = mapping.get(header, "")
            if current.startswith(ATTRIBUTE_PREFIX) and current not in attribute_targets:
                attribute_targets.append(current)
            choices += [(t, target_label(t)) for t in attribute_targets]
            self.fields[column_field_name(index)] = forms.ChoiceField(
                label=header, required=False, choices=choices, initial=current
            )

    def columns(self) -> list[tuple[str, forms.BoundField]]:
        """(column name, its choice) in the file's order."""
        return [(h, self[column_field_name(i)]) for i, h in enumerate(self.headers)]

    def mapping(self) -> dict[str, str]:
        return {
            header: self.cleaned_data.get(column_field_name(index)) or ""
            for index, header in enumerate(self.headers)
        }

    def add_service_errors(self, errors: Mapping[str, str], message: str) -> None:
        """The service's errors next to the inputs concerned (mapping.<column>, source,
        campaign, consent settings), the rest at the top."""
        position = {h: i for i, h in enumerate(self.headers)}
        placed = False
        for key, problem in errors.items():
            column = key.removeprefix("mapping.")
            if key.startswith("mapping.") and column in position:
                self.add_error(column_field_name(position[column]), problem)
                placed = True
            elif key in {"source", "campaign", "consent_text", "consent_purpose", "consent_all"}:
                self.add_error(key, problem)
                placed = True
            elif key == "mapping":
                self.add_error(None, f"The mapping {problem}.")
                placed = True
        if not placed:
            self.add_error(None, message)
