"""The consent of an import: what a cell of the consent column says, and the import-level
settings (the text people consented to, its purpose, every row or the marked ones).

A cell says consent was given with yes, true, 1, x, a check mark (and the same words in
German, French and Spanish) or the date it was given (ISO 8601: 2024-03-01, or with a time);
a blank cell, no, false or 0 records nothing. Anything else rejects the row: consent is never
guessed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from django.utils import timezone

from leadbase.leads.bulk import BatchConsent
from leadbase.leads.models import ConsentPurpose
from leadbase.leads.services import ConsentInput

if TYPE_CHECKING:
    from ..models import ImportJob
    from .rows import Row

CONSENT = "consent"  # the mapping target of the consent column
DEFAULT_CONSENT_PURPOSE = ConsentPurpose.MARKETING_EMAIL.value
TEXT_CHARS = 5_000  # the longest consent text kept
GIVEN = frozenset(
    {"yes", "y", "true", "t", "1", "x", "✓", "✔", "☑", "ja", "oui", "si", "sí", "granted"}
    | {"given", "opt-in", "opted in", "opted-in", "subscribed", "consented"}
)
NOT_GIVEN = frozenset(
    {"", "no", "n", "false", "f", "0", "-", "nein", "non", "none", "opt-out", "opted out"}
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([t ].*)?")  # matched lower-cased
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ConsentValueError(ValueError):
    """A consent cell that says neither yes, no nor a date."""


def consent_given(cell: str, *, now: dt.datetime | None = None) -> bool | dt.datetime:
    """False (none recorded), True (given, no date) or when it was given."""
    text = " ".join(cell.split()).lower()
    if text in NOT_GIVEN:
        return False
    if text in GIVEN:
        return True
    if _DATE.fullmatch(text):
        try:
            when = dt.datetime.fromisoformat(text.upper())
        except ValueError:
            raise ConsentValueError(
                f"“{cell[:40]}” is not a valid date (write it as 2024-03-01, or with the time "
                "as 2024-03-01 14:30)"
            ) from None
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        if when > (now or timezone.now()):
            raise ConsentValueError(f"“{cell[:40]}” is a date in the future")
        return when
    raise ConsentValueError(
        f"“{cell[:40]}” says neither yes, no nor when consent was given (use yes or no, "
        "true or false, 1 or 0, or the date as 2024-03-01)"
    )


def clean_consent_text(text: str) -> str:
    """The consent text as it is kept: Unicode NFC, line breaks kept (as \\n), other control
    characters removed, spaces at the ends trimmed."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text).strip()


def consent_settings_errors(
    *, text: str, purpose: str, every_row: bool, column: str
) -> dict[str, str]:
    """What is wrong with an import's consent settings (cleaned text), by field."""
    errors: dict[str, str] = {}
    wanted = every_row or bool(column)
    if every_row and column:
        errors["consent_all"] = (
            f"cannot go with a consent column (“{column}”): either every row consented, or "
            "the column says which rows did"
        )
    if wanted and not text:
        errors["consent_text"] = (
            "is required to record consent: give the text the people were shown and agreed to"
        )
    elif text and not wanted:
        errors["consent_text"] = (
            "is given, but no column is mapped to consent and not every row is marked as "
            "consented: map the consent column, tick “every row consented”, or leave it empty"
        )
    if len(text) > TEXT_CHARS:
        errors["consent_text"] = f"is {len(text):,} characters long; the limit is {TEXT_CHARS:,}"
    if purpose and purpose not in ConsentPurpose.values:
        errors["consent_purpose"] = f"must be one of {', '.join(ConsentPurpose.values)}"
    return errors


def row_consents(job: ImportJob, rows: Sequence[Row], source: str) -> list[list[ConsentInput]]:
    """The consents the rows with lead data record, in order (none without a consent text):
    every row's with consent_all, else those of the rows the consent column marks, given
    when the cell says (else at the time of the import); `source` is recorded with them."""
    if not job.consent_text:
        return []
    consent = BatchConsent(
        purpose=job.consent_purpose or DEFAULT_CONSENT_PURPOSE,
        text_shown=job.consent_text,
        source=source[:200],
    )
    if job.consent_all:
        return [[consent] for row in rows if row.data is not None]
    return [
        [consent if row.consent is True else replace(consent, given_at=row.consent)]
        if row.consent
        else []
        for row in rows
        if row.data is not None
    ]
