"""The short cuts in leadbase.leads.normalize give what the general code gives: normalize_email
for plain ASCII addresses, clean_text for plain ASCII text."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import email_validator
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadbase.leads.normalize import _CONTROL, _email_domain, clean_text, normalize_email

ATEXT = "abcxyzABCXYZ0189_!#$%&'*+-/=?^`{|}~"
local_parts = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.text(alphabet=ATEXT + '."\\ @<>()[],:;', max_size=20),  # quoting, specials, bad dots
    st.text(alphabet="aéßøЖ中😀\u0301.+", min_size=1, max_size=12),  # Unicode, combining
    st.sampled_from(["info", "Sales", "POSTMASTER", "ann.lee+news", '"a b"', '"ann"', "a..b"]),
)
labels = st.one_of(
    st.text(alphabet="abcXYZ019-", min_size=1, max_size=12),
    st.sampled_from(["xn--mller-kva", "xn--bcher-kva", "XN--80AK6AA92E", "münchen"]),
    st.just("\uff25\uff38\uff21\uff2d"),  # full-width letters
    st.text(alphabet="a", min_size=60, max_size=70),  # around the 63-octet label limit
)
tlds = st.sampled_from(
    ["com", "COM", "example", "de", "local", "localhost", "test", "onion", "invalid", "1", "c0m"]
)
domains = st.one_of(
    st.builds(lambda ls, tld: ".".join([*ls, tld]), st.lists(labels, min_size=0, max_size=4), tlds),
    st.sampled_from(["[127.0.0.1]", "[IPv6:::1]", "localhost", "example.com.", ".example.com"]),
    st.sampled_from(["a..com", "-a.com", "a-.com", "ab--cd.com", "a_b.com", "exa mple.com"]),
    st.text(alphabet="abc.-", max_size=20),
)
addresses = st.one_of(
    st.emails(),
    st.builds(
        lambda pre, local, at, domain, post: f"{pre}{local}{at}{domain}{post}",
        st.sampled_from(["", " ", "\t", "Ann <"]),
        local_parts,
        st.sampled_from(["@", "@", "@", "\uff20", "@@"]),  # full-width at-sign too
        domains,
        st.sampled_from(["", " ", "\n", ">"]),
    ),
)


def full_validator(raw: str) -> str:
    return validate_email(raw.strip(), check_deliverability=False).normalized.lower()


def outcome(normalize: object, raw: str) -> tuple[str, str]:
    assert callable(normalize)
    try:
        return ("ok", normalize(raw))
    except EmailNotValidError:
        return ("invalid", "")


@settings(max_examples=500, deadline=None)
@given(addresses)
@example("Ann.Lee+news@Example.COM")
@example("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com")
@example("a" * 70 + "@example.com")
@example("x@" + ".".join(["a" * 63] * 3) + ".ab")
@example("x@xn--mller-kva.example")
@example("user@[127.0.0.1]")
@example("info@acme.example")
def test_fast_path_matches_the_full_validator(raw: str) -> None:
    assert outcome(normalize_email, raw) == outcome(full_validator, raw)


@contextmanager
def validator_setting(name: str, value: object) -> Iterator[None]:
    before = getattr(email_validator, name)
    setattr(email_validator, name, value)
    try:
        yield
    finally:
        setattr(email_validator, name, before)


@pytest.mark.parametrize(
    ("setting", "value", "raw"),
    [
        ("TEST_ENVIRONMENT", True, "ann@mail.test"),
        ("GLOBALLY_DELIVERABLE", False, "ann@intranet"),
        ("STRICT", True, "a" * 65 + "@example.com"),
        ("SPECIAL_USE_DOMAIN_NAMES", [], "ann@printer.local"),
    ],
)
def test_fast_path_follows_changed_validator_settings(
    setting: str, value: object, raw: str
) -> None:
    before = outcome(normalize_email, raw)
    assert before == outcome(full_validator, raw)
    with validator_setting(setting, value):
        after = outcome(normalize_email, raw)
        assert after == outcome(full_validator, raw)
    assert after != before
    _email_domain.cache_clear()


def clean_text_in_full(value: object) -> str:
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(_CONTROL.sub(" ", text).split())


@given(st.one_of(st.text(), st.text(alphabet=" \t\n\x00\x7fabcAB.-é\u0301"), st.integers()))
@example("  Ann   Lee\t")
@example("Zoe\u0308")  # combining diaeresis: NFC makes it one character
def test_clean_text_short_cut_matches_the_full_cleaning(value: str | int) -> None:
    assert clean_text(value) == clean_text_in_full(value)
