"""Country names and codes become ISO 3166-1 alpha-2 codes; anything else is a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.core.errors import ValidationFailed
from leadbase.leads.countries import country_code_for, fold
from leadbase.leads.normalize import normalize_lead_data


@pytest.mark.parametrize(
    ("given_value", "code"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        ("DEU", "DE"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("  united   KINGDOM ", "GB"),
        ("UK", "GB"),
        ("U.S.A.", "US"),
        ("United States of America", "US"),
        ("Côte d'Ivoire", "CI"),
        ("cote divoire", "CI"),
        ("Österreich", "AT"),
        ("España", "ES"),
        ("日本", "JP"),
        ("Korea, Republic of", "KR"),
        ("South Korea", "KR"),
        ("Niger", "NE"),
        ("Nigeria", "NG"),
    ],
)
def test_names_and_codes_map_to_alpha_2(given_value: str, code: str) -> None:
    assert country_code_for(given_value) == code


@pytest.mark.parametrize("value", ["Narnia", "", "   ", "--", "Germany!!!x", "<script>"])
def test_unknown_names_are_none(value: str) -> None:
    assert country_code_for(value) is None


def test_normalisation_accepts_a_name_and_stores_the_code() -> None:
    assert normalize_lead_data({"email": "a@example.com", "country": "Germany"})["country"] == "DE"


def test_normalisation_error_says_what_to_send() -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_lead_data({"email": "a@example.com", "country": "Narnia"})
    message = caught.value.fields["country"]
    assert "two-letter" in message and "name" in message


@given(st.text(max_size=40))
def test_any_text_gives_a_known_code_or_none(value: str) -> None:
    code = country_code_for(value)
    assert code is None or (len(code) == 2 and code.isupper() and code.isascii())


def test_fold_ignores_case_accents_and_punctuation() -> None:
    assert fold("Côte d\u2019Ivoire") == fold("COTE D'IVOIRE") == "cotedivoire"
