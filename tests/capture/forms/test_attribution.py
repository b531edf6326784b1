"""Where a submission came from: context from the posted values, and the derived channel."""

from __future__ import annotations

import pytest

from leadbase.capture.attribution import channel_for, context_from
from leadbase.leads.models import Channel


@pytest.mark.parametrize(
    ("context", "channel"),
    [
        # paid search, also when the medium is spelled differently
        ({"utm_medium": "cpc", "utm_source": "google"}, Channel.PAID_SEARCH),
        ({"utm_medium": "Paid-Search"}, Channel.PAID_SEARCH),
        # cpc on a social network is paid social
        ({"utm_medium": "cpc", "utm_source": "facebook"}, Channel.PAID_SOCIAL),
        ({"utm_medium": "paid_social", "utm_source": "linkedin"}, Channel.PAID_SOCIAL),
        # display ads elsewhere are "other"
        ({"utm_medium": "display", "utm_source": "adnetwork"}, Channel.OTHER),
        ({"utm_medium": "social", "utm_source": "linkedin"}, Channel.ORGANIC_SOCIAL),
        ({"utm_medium": "email"}, Channel.EMAIL),
        ({"utm_medium": "newsletter"}, Channel.EMAIL),
        ({"utm_medium": "affiliate"}, Channel.PARTNER),
        ({"utm_medium": "referral"}, Channel.REFERRAL),
        ({"utm_medium": "event"}, Channel.EVENT),
        # a source alone
        ({"utm_source": "bing"}, Channel.ORGANIC_SEARCH),
        ({"utm_source": "twitter"}, Channel.ORGANIC_SOCIAL),
        ({"utm_source": "somepartner"}, Channel.OTHER),
        ({"utm_medium": "carrier-pigeon"}, Channel.OTHER),
        # no UTM: the referrer decides
        ({"referrer": "https://www.google.de/"}, Channel.ORGANIC_SEARCH),
        ({"referrer": "https://duckduckgo.com/"}, Channel.ORGANIC_SEARCH),
        ({"referrer": "https://t.co/abc"}, Channel.ORGANIC_SOCIAL),
        ({"referrer": "https://www.linkedin.com/feed/"}, Channel.ORGANIC_SOCIAL),
        ({"referrer": "https://blog.example.org/post"}, Channel.REFERRAL),
        ({"referrer": "https://notgoogle.example/"}, Channel.REFERRAL),
        # the site itself, or nothing: direct
        (
            {"referrer": "https://www.acme.example/", "landing_page": "https://www.acme.example/x"},
            Channel.DIRECT,
        ),
        ({}, Channel.DIRECT),
    ],
)
def test_channel_for(context: dict[str, str], channel: str) -> None:
    assert channel_for(context) == channel


def test_context_takes_the_posted_values() -> None:
    context = context_from(
        {
            "lb.landing_page": "https://www.acme.example/demo?utm_source=ignored",
            "lb.referrer": "https://www.google.com/",
            "lb.utm_source": "newsletter",
            "lb.utm_medium": "  email\n",
            "lb.visitor_id": "v_0123-abc",
        },
        referer_header="https://elsewhere.example/",
        visitor_cookie="cookie-id",
    )
    assert context == {
        "landing_page": "https://www.acme.example/demo?utm_source=ignored",
        "referrer": "https://www.google.com/",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "visitor_id": "v_0123-abc",
    }


def test_a_plain_html_form_elsewhere_gives_the_referer_as_landing_page_and_its_utm_values() -> None:
    context = context_from(
        {"email": "a@b.example"},
        referer_header="https://www.acme.example/offer?utm_source=bing&utm_campaign=q3&x=1",
        visitor_cookie="vid-1",
    )
    assert context == {
        "landing_page": "https://www.acme.example/offer?utm_source=bing&utm_campaign=q3&x=1",
        "utm_source": "bing",
        "utm_campaign": "q3",
        "visitor_id": "vid-1",
    }


@pytest.mark.parametrize(
    "posted",
    [
        {"lb.landing_page": "javascript:alert(1)"},
        {"lb.landing_page": "https://a.example/\r\nSet-Cookie: x=1"},
        {"lb.landing_page": "https://" + "a" * 2000 + ".example/"},
        {"lb.landing_page": ["https://a.example/"]},
        {"lb.referrer": "ftp://files.example/"},
        {"lb.visitor_id": "<script>"},
        {"lb.visitor_id": "x" * 65},
        {"lb.utm_source": {"$gt": ""}},
        {"lb.utm_source": True},
    ],
)
def test_bad_context_values_are_dropped_not_reported(posted: dict[str, object]) -> None:
    assert context_from(posted) == {}


def test_long_utm_values_are_cut_to_the_lead_column() -> None:
    assert context_from({"lb.utm_term": "t" * 500}) == {"utm_term": "t" * 200}
