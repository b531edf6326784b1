"""The per-process scorer thread: bursts gathered into one scoring call per kind, rebuilds kept
apart, a failure logged without stopping the thread; and the sweep that catches what a lost
process never scored."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.utils import timezone

from leadbase.leads.models import Lead
from leadbase.scoring.background import BackgroundScorer
from leadbase.scoring.models import LeadScoreState
from leadbase.scoring.services import leads_rescore
from leadbase.scoring.tasks import unscored_sweep_task

MakeLead = Callable[..., Lead]


class Recorder:
    def __init__(self, fail_first: bool = False) -> None:
        self.calls: list[tuple[list[int], bool]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def __call__(self, ids: list[int], rebuild: bool) -> None:
        with self.lock:
            self.calls.append((ids, rebuild))
            if self.fail_first and len(self.calls) == 1:
                raise RuntimeError("boom")


def test_a_burst_is_scored_once_per_lead() -> None:
    seen = Recorder()
    scorer = BackgroundScorer(seen, debounce=0.2)
    scorer.submit([3, 1], False)
    scorer.submit([1, 2], False)
    scorer.submit([2], True)

    assert scorer.wait_idle(5)

    assert sorted(seen.calls) == [([1, 3], False), ([2], True)]
    assert scorer.pending() == 0


def test_a_failure_is_logged_and_the_thread_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    seen = Recorder(fail_first=True)
    scorer = BackgroundScorer(seen, debounce=0.01)
    scorer.submit([1], False)
    assert scorer.wait_idle(5)
    scorer.submit([2], False)
    assert scorer.wait_idle(5)

    assert [ids for ids, _ in seen.calls] == [[1], [2]]
    assert "the sweep will retry" in caplog.text


@pytest.mark.django_db
def test_the_sweep_scores_leads_whose_activity_is_newer_than_their_score(
    make_lead: MakeLead,
) -> None:
    lead = make_lead(email="ann@example.com")
    leads_rescore([lead.pk])
    state = LeadScoreState.objects.get(lead=lead)
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=timezone.now())
    assert Lead.objects.get(pk=lead.pk).last_activity_at > state.scored_at

    assert unscored_sweep_task.call() == 1

    assert LeadScoreState.objects.get(lead=lead).scored_at > state.scored_at
    assert unscored_sweep_task.call() == 0
