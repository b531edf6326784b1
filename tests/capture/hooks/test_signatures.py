"""Signatures are HMAC-SHA256 over the exact bytes received, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json

from hypothesis import given
from hypothesis import strategies as st

from leadbase.capture.signatures import (
    facebook_signature,
    facebook_signature_valid,
    generic_signature,
    generic_signature_valid,
    generic_timestamp_problem,
    linkedin_challenge_response,
    linkedin_signature,
    linkedin_signature_valid,
)

secrets_ = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s)


def test_facebook_signature_is_hmac_sha256_of_the_raw_body_with_prefix() -> None:
    expected = hmac.new(b"s3cret", b'{"a": 1}', hashlib.sha256).hexdigest()
    assert facebook_signature("s3cret", b'{"a": 1}') == f"sha256={expected}"


@given(secret=secrets_, body=st.binary(max_size=200))
def test_a_signed_body_verifies_and_any_changed_byte_does_not(secret: str, body: bytes) -> None:
    header = facebook_signature(secret, body)
    assert facebook_signature_valid(secret=secret, body=body, header=header)
    assert facebook_signature_valid(secret=secret, body=body, header=header.upper())
    assert not facebook_signature_valid(secret=secret, body=body + b" ", header=header)
    assert not facebook_signature_valid(secret=secret + "x", body=body, header=header)
    if body:
        flipped = bytes([body[0] ^ 1]) + body[1:]
        assert not facebook_signature_valid(secret=secret, body=flipped, header=header)


@given(
    data=st.dictionaries(
        st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), min_size=2
    )
)
def test_a_signature_over_the_reserialised_body_does_not_verify(data: dict[str, object]) -> None:
    sent = json.dumps(data, indent=1).encode()  # what travelled
    reserialised = json.dumps(json.loads(sent)).encode()  # what a framework would re-encode
    assert sent != reserialised
    header = facebook_signature("k", reserialised)
    assert not facebook_signature_valid(secret="k", body=sent, header=header)


def test_malformed_signature_headers_never_verify() -> None:
    body = b"{}"
    good = facebook_signature("k", body)
    for header in ["", "sha256=", good[7:], "sha1=" + good[7:], good + "00", "sha256=zz" + good[9:],
                   "sha256=" + "é" * 64]:  # fmt: skip
        assert not facebook_signature_valid(secret="k", body=body, header=header), header
    assert not facebook_signature_valid(secret="", body=body, header=facebook_signature("", body))


def test_linkedin_challenge_response_is_hex_hmac_of_the_code() -> None:
    code = "890e4665-4dfe-4ab1-b689-ed553bceeed0"
    expected = hmac.new(b"cs", code.encode(), hashlib.sha256).hexdigest()
    assert linkedin_challenge_response("cs", code) == expected


def test_linkedin_signature_accepts_both_readings_of_the_documentation() -> None:
    body = b'{"leadGenFormResponse": "urn:li:leadGenFormResponse:1"}'
    documented = hmac.new(b"cs", b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    plain = hmac.new(b"cs", body, hashlib.sha256).hexdigest()
    assert linkedin_signature("cs", body) == documented
    for header in (documented, plain, f"hmacsha256={documented}", f"hmacsha256={plain}"):
        assert linkedin_signature_valid(secret="cs", body=body, header=header), header
    assert not linkedin_signature_valid(secret="other", body=body, header=documented)
    assert not linkedin_signature_valid(secret="cs", body=body + b"\n", header=documented)


def test_generic_signature_covers_timestamp_and_body() -> None:
    header = generic_signature("k", "1700000000", b"{}")
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"
    assert generic_signature_valid(secret="k", timestamp="1700000000", body=b"{}", header=header)
    assert not generic_signature_valid(
        secret="k", timestamp="1700000001", body=b"{}", header=header
    )


def test_timestamps_outside_five_minutes_are_refused() -> None:
    now = 1_700_000_000.0
    assert generic_timestamp_problem("1700000000", now=now) is None
    assert generic_timestamp_problem("1699999701", now=now) is None
    assert "past" in (generic_timestamp_problem("1699999699", now=now) or "")
    assert "future" in (generic_timestamp_problem("1700000301", now=now) or "")
    arabic_indic = "\u0661\u0667" + "\u0660" * 8  # digits, but not ASCII ones
    for bad in ["", "abc", "1.5", "-5", arabic_indic, "9" * 40]:
        assert generic_timestamp_problem(bad, now=now), bad
