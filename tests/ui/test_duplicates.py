"""Duplicate suggestions in the UI: on the lead page and the Duplicates page, "Merge" and
"Not a duplicate" as CSRF-protected POSTs that work with and without htmx, and who may act."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from leadbase.accounts.models import User
from leadbase.leads.models import DuplicateSuggestion, Event, Lead

from .conftest import LeadFactory

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
HTMX = {"HX-Request": "true"}
DUPLICATES = reverse("leads:duplicates")


def merge_url(suggestion: DuplicateSuggestion) -> str:
    return reverse("leads:duplicate-merge", args=[suggestion.pk])


def dismiss_url(suggestion: DuplicateSuggestion) -> str:
    return reverse("leads:duplicate-dismiss", args=[suggestion.pk])


def detail_url(lead: Lead | int) -> str:
    return reverse("leads:detail", args=[lead if isinstance(lead, int) else lead.pk])


@pytest.fixture
def pair(make_lead: LeadFactory) -> Callable[..., DuplicateSuggestion]:
    """pair(owner=None, candidate_owner=None, name="Ann Lee"): an older and a newer lead with
    one name at one company, and their suggestion."""
    counter = iter(range(1, 1000))

    def factory(
        owner: User | None = None, candidate_owner: User | None = None, name: str = "Ann Lee"
    ) -> DuplicateSuggestion:
        n = next(counter)
        first, last = name.split(" ", 1)
        older = make_lead(
            owner=candidate_owner or owner,
            email=f"first{n}@acme.example",
            first_name=first,
            last_name=last,
        )
        Lead.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
        newer = make_lead(
            owner=owner,
            email=f"second{n}@acme.example",
            first_name=first,
            last_name=last,
            job_title="CTO",
        )
        suggestion, _ = DuplicateSuggestion.objects.get_or_create(
            lead=newer, candidate=older, defaults={"reason": "same name at acme.example"}
        )
        return suggestion

    return factory


Pair = Callable[..., DuplicateSuggestion]


# --- Showing --------------------------------------------------------------------------------


def test_lead_page_shows_open_suggestions_with_both_actions(
    login: Login, marketer: User, pair: Pair
) -> None:
    suggestion = pair()

    html = login(marketer).get(detail_url(suggestion.lead)).text

    assert '<h2 id="h-duplicates">Possible duplicates</h2>' in html
    assert "same name at acme.example" in html
    assert f'href="{detail_url(suggestion.candidate)}"' in html
    assert '<span class="badge">This lead</span>' in html
    assert f'action="{merge_url(suggestion)}"' in html
    assert f'action="{dismiss_url(suggestion)}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'<input type="radio" name="keep" value="{suggestion.candidate_id}" checked>' in html
    assert f'<input type="hidden" name="next" value="{detail_url(suggestion.lead)}">' in html
    assert ">Merge</button>" in html
    assert ">Not a duplicate</button>" in html


def test_lead_page_without_suggestions_has_no_duplicates_section(
    login: Login, marketer: User, pair: Pair, make_lead: LeadFactory
) -> None:
    dismissed = pair()
    DuplicateSuggestion.objects.filter(pk=dismissed.pk).update(dismissed_at=timezone.now())
    lonely = make_lead(email="lonely@example.com")

    for lead in (lonely, dismissed.lead):
        assert "Possible duplicates" not in login(marketer).get(detail_url(lead)).text


def test_duplicates_page_lists_open_suggestions_and_is_in_the_leads_navigation(
    login: Login, admin_user: User, pair: Pair
) -> None:
    first, second = pair(name="Ann Lee"), pair(name="Bo Berg")
    dismissed = pair(name="Cy Dorn")
    DuplicateSuggestion.objects.filter(pk=dismissed.pk).update(dismissed_at=timezone.now())
    client = login(admin_user)

    lead_list = client.get(reverse("leads:list")).text
    assert f'<a href="{DUPLICATES}">Duplicates</a>' in lead_list
    html = client.get(DUPLICATES).text

    assert f'<a href="{DUPLICATES}" aria-current="page">Duplicates</a>' in html
    assert "2 open suggestions" in html
    assert html.index("Bo Berg") < html.index("Ann Lee")  # newest first
    assert "Cy Dorn" not in html
    assert f'action="{merge_url(first)}"' in html
    assert f'action="{dismiss_url(second)}"' in html
    assert f'<input type="hidden" name="next" value="{DUPLICATES}">' in html


def test_duplicates_page_with_none_says_so(login: Login, marketer: User) -> None:
    html = login(marketer).get(DUPLICATES).text
    assert "No open duplicate suggestions." in html


def test_duplicates_page_needs_login(client: Client) -> None:
    response = client.get(DUPLICATES)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_rep_sees_only_suggestions_between_own_leads(
    login: Login, rep: User, other_rep: User, pair: Pair
) -> None:
    pair(owner=rep, name="Own Pair")
    pair(owner=other_rep, name="Their Pair")
    mixed = pair(owner=rep, candidate_owner=other_rep, name="Mixed Pair")
    client = login(rep)

    html = client.get(DUPLICATES).text
    assert "Own Pair" in html
    assert "Their Pair" not in html
    assert "Mixed Pair" not in html
    # Not on the rep's own lead's page either: the other lead is someone else's.
    assert "Possible duplicates" not in client.get(detail_url(mixed.lead)).text


def test_hostile_and_unicode_names_are_escaped(
    login: Login, marketer: User, make_lead: LeadFactory
) -> None:
    one = make_lead(email="x1@evil.example", first_name="<script>alert(1)</script>", last_name="Ω")
    two = make_lead(email="x2@evil.example", first_name="<script>alert(1)</script>", last_name="Ω")
    suggestion, _ = DuplicateSuggestion.objects.update_or_create(
        lead=two, candidate=one, defaults={"reason": '<img src=x onerror="alert(2)">'}
    )
    client = login(marketer)

    for html in (client.get(DUPLICATES).text, client.get(detail_url(two)).text):
        assert "<script>alert(1)" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Ω" in html
        assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html

    response = client.post(dismiss_url(suggestion), {"next": DUPLICATES}, follow=True)
    assert "<script>alert(1)" not in response.text
    assert "Marked &lt;script&gt;alert(1)&lt;/script&gt; Ω" in response.text


def test_viewer_sees_suggestions_without_buttons_and_cannot_act(
    login: Login, viewer: User, pair: Pair
) -> None:
    suggestion = pair()
    client = login(viewer)

    for url in (DUPLICATES, detail_url(suggestion.lead)):
        html = client.get(url).text
        assert "same name at acme.example" in html
        assert ">Merge</button>" not in html
        assert ">Not a duplicate</button>" not in html

    assert client.post(merge_url(suggestion)).status_code == 403
    assert client.post(dismiss_url(suggestion), headers=HTMX).status_code == 403
    assert Lead.objects.count() == 2
    assert DuplicateSuggestion.objects.get(pk=suggestion.pk).dismissed_at is None


# --- Acting ---------------------------------------------------------------------------------


def test_merge_without_js_keeps_the_older_lead_and_goes_to_it(
    login: Login, marketer: User, pair: Pair
) -> None:
    suggestion = pair()
    older, newer = suggestion.candidate, suggestion.lead
    client = login(marketer)

    response = client.post(
        merge_url(suggestion), {"keep": str(older.pk), "next": detail_url(newer)}
    )

    assert response.status_code == 302
    assert response["Location"] == detail_url(older)  # the page's own lead is gone
    assert not Lead.objects.filter(pk=newer.pk).exists()
    assert Lead.objects.get(pk=older.pk).job_title == "CTO"
    page = client.get(response["Location"]).text
    assert f"Merged lead #{newer.pk} into Ann Lee (#{older.pk})." in page
    assert Event.objects.filter(lead=older, type="lead_merged").exists()


def test_merge_may_keep_the_newer_lead(login: Login, marketer: User, pair: Pair) -> None:
    suggestion = pair()

    response = login(marketer).post(
        merge_url(suggestion), {"keep": str(suggestion.lead_id), "next": DUPLICATES}
    )

    assert response.status_code == 302
    assert response["Location"] == DUPLICATES
    assert not Lead.objects.filter(pk=suggestion.candidate_id).exists()


def test_merge_without_a_choice_keeps_the_older_lead(
    login: Login, marketer: User, pair: Pair
) -> None:
    suggestion = pair()

    response = login(marketer).post(merge_url(suggestion))

    assert response["Location"] == detail_url(suggestion.candidate)
    assert not Lead.objects.filter(pk=suggestion.lead_id).exists()


def test_merge_with_htmx_redirects_the_page_to_the_kept_lead(
    login: Login, marketer: User, pair: Pair
) -> None:
    suggestion = pair()

    response = login(marketer).post(
        merge_url(suggestion), {"next": detail_url(suggestion.candidate)}, headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == detail_url(suggestion.candidate)


@pytest.mark.parametrize("keep", ["someone", "-1", "99999999999999999999999", "1e3"])
def test_merge_with_a_bad_choice_merges_nothing(
    login: Login, marketer: User, pair: Pair, keep: str
) -> None:
    suggestion = pair()

    response = login(marketer).post(merge_url(suggestion), {"keep": keep})

    assert response.status_code == 422
    assert "Choose which of the two leads to keep." in response.text
    assert Lead.objects.count() == 2


def test_merge_keeping_a_third_lead_is_refused(
    login: Login, marketer: User, pair: Pair, make_lead: LeadFactory
) -> None:
    suggestion, other = pair(), make_lead(email="third@example.com")

    response = login(marketer).post(merge_url(suggestion), {"keep": str(other.pk)})

    assert response.status_code == 422
    assert Lead.objects.count() == 3


def test_merging_again_is_404(login: Login, marketer: User, pair: Pair) -> None:
    suggestion = pair()
    client = login(marketer)
    client.post(merge_url(suggestion))

    assert client.post(merge_url(suggestion)).status_code == 404


def test_dismiss_without_js_goes_back_with_a_message(
    login: Login, marketer: User, pair: Pair
) -> None:
    suggestion = pair()
    client = login(marketer)

    response = client.post(dismiss_url(suggestion), {"next": DUPLICATES})

    assert response.status_code == 302
    assert response["Location"] == DUPLICATES
    assert DuplicateSuggestion.objects.get(pk=suggestion.pk).dismissed_at is not None
    html = client.get(DUPLICATES).text
    assert "as not duplicates." in html
    assert "No open duplicate suggestions." in html
    assert Lead.objects.count() == 2


def test_dismiss_with_htmx_swaps_the_card_for_a_note(
    login: Login, marketer: User, pair: Pair
) -> None:
    suggestion = pair()

    response = login(marketer).post(dismiss_url(suggestion), headers=HTMX)

    assert response.status_code == 200
    html = response.text.strip()
    assert html.startswith(f'<li class="duplicate duplicate-done" id="duplicate-{suggestion.pk}"')
    assert "Marked as not a duplicate" in html
    assert "<html" not in html


def test_a_foreign_next_is_not_followed(login: Login, marketer: User, pair: Pair) -> None:
    suggestion = pair()

    response = login(marketer).post(dismiss_url(suggestion), {"next": "https://evil.example/"})

    assert response["Location"] == DUPLICATES


def test_actions_are_post_only_and_need_csrf(marketer: User, pair: Pair) -> None:
    suggestion = pair()
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)

    assert client.get(merge_url(suggestion)).status_code == 405
    assert client.get(dismiss_url(suggestion)).status_code == 405
    assert client.post(merge_url(suggestion)).status_code == 403
    assert client.post(dismiss_url(suggestion)).status_code == 403
    assert Lead.objects.count() == 2

    html = client.get(DUPLICATES).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    response = client.post(dismiss_url(suggestion), {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302


def test_rep_cannot_act_on_someone_elses_suggestion(
    login: Login, rep: User, other_rep: User, pair: Pair
) -> None:
    theirs = pair(owner=other_rep)
    mixed = pair(owner=rep, candidate_owner=other_rep)
    client = login(rep)

    for suggestion in (theirs, mixed):
        assert client.post(merge_url(suggestion)).status_code == 404
        assert client.post(dismiss_url(suggestion)).status_code == 404
    assert Lead.objects.count() == 4


def test_rep_merges_own_leads(login: Login, rep: User, pair: Pair) -> None:
    suggestion = pair(owner=rep)

    response = login(rep).post(merge_url(suggestion))

    assert response.status_code == 302
    assert Lead.objects.count() == 1


def test_unknown_suggestion_is_404(login: Login, marketer: User) -> None:
    client = login(marketer)
    assert client.post("/duplicates/987654/merge/").status_code == 404
    assert client.post("/duplicates/99999999999999999999999/dismiss/").status_code == 404


def test_duplicates_page_query_count_does_not_grow_with_rows(
    login: Login,
    marketer: User,
    pair: Pair,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for _ in range(12):
        pair()
    client = login(marketer)
    client.get(DUPLICATES)
    # session + user + count + the page (both leads with company and owner joined)
    with django_assert_max_num_queries(4):
        assert client.get(DUPLICATES).status_code == 200
