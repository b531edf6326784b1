"""The scoring engine alone (no database): full recompute, incremental update, fit.

    python -m bench.scoring [--quick]        (or through bench.run --only scoring)

Synthetic rows for the default rule set: N leads, 10 N (event, rule) rows over 180 days with a
realistic mix (page views and email opens most, demo requests rare), ordered by (lead, time)
as the event table's index reads them. Phases, each against a baseline in the same run:

- full recompute (`ScoringEngine.recompute`: decay, daily caps, rule caps, clamp) against two
  plain numpy passes over the same arrays: one `np.add.at` of the raw points per lead (the
  brief's floor), and the same decay without caps (`np.exp2` + `np.bincount`: the arithmetic's
  lower bound); the same rows shuffled, to show the cost of an unordered input;
- peak memory of the recompute (tracemalloc sees numpy's buffers) against its input arrays;
- a check that the recompute equals the per-lead reference on a sample of leads;
- the incremental update: `apply_event` + `engagement` per event, in µs (mean and p99);
- event matching (`event_rows`, the step before the recompute) and `fit_many`, per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.common import Report, percentile, print_table
from leadbase.scoring_engine import EventIn, ScoringEngine, default_rule_set

DAY = 86_400.0
NOW = 1_790_000_000.0  # a fixed "now", so runs compare
RULE_MIX = {  # share of (event, rule) rows per rule of the default rule set
    "page_view": 0.42,
    "email_opened": 0.20,
    "email_clicked": 0.08,
    "pricing_page_view": 0.05,
    "content_download": 0.05,
    "form_submitted": 0.04,
    "social_engagement": 0.04,
    "webinar_registered": 0.03,
    "webinar_attended": 0.02,
    "careers_page_view": 0.02,
    "demo_request": 0.015,
    "trial_signup": 0.01,
    "quote_request": 0.005,
    "referral_made": 0.005,
    "unsubscribed": 0.005,
    "email_bounced": 0.005,
}


def make_rows(
    engine: ScoringEngine, n_leads: int, n_rows: int, seed: int = 1
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16], npt.NDArray[np.float64]]:
    """(lead, rule, time) rows ordered by (lead, time)."""
    rng = np.random.default_rng(seed)
    index = engine.compiled.index
    rules = np.array([index[r] for r in RULE_MIX], dtype=np.int16)
    shares = np.array(list(RULE_MIX.values()))
    rule = rules[rng.choice(len(rules), size=n_rows, p=shares / shares.sum())]
    lead = rng.integers(0, n_leads, size=n_rows)
    times = NOW - rng.random(n_rows) * 180 * DAY
    order = np.lexsort((times, lead))
    return lead[order], rule[order], times[order]


def timed(fn: Any, repeats: int) -> tuple[float, Any]:
    """The best of `repeats` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(quick: bool = False, report: Report | None = None) -> dict[str, Any]:
    """Run every phase; print and return the figures (and add them to `report` if given)."""
    report = report or Report("engine")
    n_leads = 100_000 if quick else 1_000_000
    n_rows = 10 * n_leads
    repeats = 3
    engine = ScoringEngine(default_rule_set())
    compiled = engine.compiled
    lead, rule, times = make_rows(engine, n_leads, n_rows)
    figures: dict[str, Any] = {"leads": n_leads, "rows": n_rows}

    def add_at() -> npt.NDArray[np.float64]:
        total = np.zeros(n_leads)
        np.add.at(total, lead, compiled.points[rule])
        return total

    def decay_only() -> npt.NDArray[np.float64]:
        worth = compiled.points[rule] * np.exp2((times - NOW) * compiled.rate[rule])
        return np.bincount(lead, weights=worth, minlength=n_leads)

    def decay_and_rule_caps() -> npt.NDArray[np.float64]:
        worth = compiled.points[rule] * np.exp2((times - NOW) * compiled.rate[rule])
        n_rules = len(compiled.rules)
        dense = np.bincount(lead * n_rules + rule, weights=worth, minlength=n_leads * n_rules)
        capped = np.clip(dense.reshape(n_leads, n_rules), -compiled.cap, compiled.cap)
        total: npt.NDArray[np.float64] = np.clip(capped.sum(axis=1), 0.0, 100.0)
        return total

    def recompute() -> Any:
        return engine.recompute(lead=lead, rule=rule, time=times, n_leads=n_leads, at=NOW)

    floor_s, _ = timed(add_at, repeats)
    decay_s, _ = timed(decay_only, repeats)
    caps_s, _ = timed(decay_and_rule_caps, repeats)
    full_s, result = timed(recompute, repeats)
    shuffle = np.random.default_rng(2).permutation(n_rows)
    s_lead, s_rule, s_time = lead[shuffle], rule[shuffle], times[shuffle]
    unordered_s, unordered = timed(
        lambda: engine.recompute(lead=s_lead, rule=s_rule, time=s_time, n_leads=n_leads, at=NOW),
        1,
    )
    assert np.allclose(unordered.raw, result.raw, rtol=0, atol=1e-9)
    for name, seconds in (
        ("np.add.at of raw points (floor)", floor_s),
        ("decay + bincount, no caps", decay_s),
        ("decay + rule caps, no daily caps (plain numpy)", caps_s),
        ("engine recompute, rows by (lead, time)", full_s),
        ("engine recompute, rows shuffled", unordered_s),
    ):
        report.add(
            phase=name,
            rows=n_rows,
            seconds=round(seconds, 3),
            rows_per_s=round(n_rows / seconds),
            vs_add_at=f"{seconds / floor_s:.2f}",
            vs_decay=f"{seconds / decay_s:.2f}",
            vs_caps=f"{seconds / caps_s:.2f}",
        )
    figures.update(
        add_at_s=floor_s,
        decay_floor_s=decay_s,
        decay_caps_s=caps_s,
        recompute_s=full_s,
        shuffled_s=unordered_s,
    )

    tracemalloc.start()
    recompute()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    input_mb = (lead.nbytes + rule.nbytes + times.nbytes) / 2**20
    figures.update(peak_mb=peak / 2**20, input_mb=input_mb)
    report.add(phase="recompute peak memory", peak_mb=round(peak / 2**20), input_mb=round(input_mb))

    figures["max_error_vs_reference"] = check_sample(engine, lead, rule, times, result.raw)
    report.add(
        phase="recompute vs per-lead reference", max_abs_error=figures["max_error_vs_reference"]
    )

    figures.update(incremental(engine, lead, rule, times, 20_000 if quick else 200_000))
    report.add(
        phase="incremental update per event",
        mean_us=round(figures["incremental_mean_us"], 1),
        p99_us=round(figures["incremental_p99_us"], 1),
    )
    figures.update(matching_and_fit(engine, 20_000 if quick else 200_000))
    report.add(phase="event_rows (matching)", rows_per_s=round(figures["match_events_per_s"]))
    report.add(phase="fit_many", leads_per_s=round(figures["fit_leads_per_s"]))
    return figures


def check_sample(
    engine: ScoringEngine,
    lead: npt.NDArray[np.int64],
    rule: npt.NDArray[np.int16],
    times: npt.NDArray[np.float64],
    raw: npt.NDArray[np.float64],
    sample: int = 300,
) -> float:
    """The largest difference between the recompute and the per-lead reference, over the first
    `sample` leads (each event is given the event type of its rule)."""
    types = {i: r.event_types[0] for i, r in enumerate(engine.rule_set.engagement_rules)}
    url = {engine.compiled.index["careers_page_view"]: "/careers/x"}
    end = int(np.searchsorted(lead, sample))
    per_lead: dict[int, list[EventIn]] = {}
    for i in range(end):
        r = int(rule[i])
        props = {"url": url.get(r, "/")}
        per_lead.setdefault(int(lead[i]), []).append(EventIn(types[r], float(times[i]), props))
    worst = 0.0
    for i, events in per_lead.items():
        expected = engine.engagement_of(events, at=NOW).raw
        worst = max(worst, abs(expected - float(raw[i])))
    return worst


def incremental(
    engine: ScoringEngine,
    lead: npt.NDArray[np.int64],
    rule: npt.NDArray[np.int16],
    times: npt.NDArray[np.float64],
    n_events: int,
) -> dict[str, float]:
    """Replay `n_events` rows in time order through per-lead states (as events arrive), timing
    apply_event + engagement of each."""
    types = [r.event_types[0] for r in engine.rule_set.engagement_rules]
    careers = engine.compiled.index["careers_page_view"]
    order = np.argsort(times[:n_events], kind="stable")  # ~n_events / 10 leads, in time order
    events = [
        (
            int(lead[i]),
            EventIn(
                types[int(rule[i])],
                float(times[i]),
                {"url": "/careers/x" if rule[i] == careers else "/"},
            ),
        )
        for i in order
    ]
    states: dict[int, Any] = {}
    samples: list[float] = []
    clock = time.perf_counter_ns
    for lead_id, event in events:
        state = states.get(lead_id)
        started = clock()
        if state is None:
            state = states[lead_id] = engine.new_state()
        engine.apply_event(state, event)
        engine.engagement(state, at=event.at)
        samples.append((clock() - started) / 1000)
    return {
        "incremental_events": len(samples),
        "incremental_mean_us": statistics.fmean(samples),
        "incremental_p99_us": percentile(samples, 99),
        "state_json_bytes": statistics.fmean(
            len(json.dumps(s.to_dict())) for s in list(states.values())[:1000]
        ),
    }


def matching_and_fit(engine: ScoringEngine, n: int) -> dict[str, float]:
    rng = np.random.default_rng(3)
    catalogue = sorted({t for r in engine.rule_set.engagement_rules for t in r.event_types})
    types = [catalogue[i] for i in rng.integers(0, len(catalogue), n)]
    props = [{"url": "/careers" if i % 50 == 0 else "/docs"} for i in range(n)]
    match_s, _ = timed(lambda: engine.event_rows(types, props), 1)
    seniorities = ["", "vp", "manager", "entry", "c_level", "director"]
    industries = ["", "Software", "Retail", "Financial Services", "Education"]
    leads = [
        {
            "email": f"p{i}@{'gmail.com' if i % 7 == 0 else f'co{i % 5000}.example'}",
            "seniority": seniorities[i % 6],
            "job_title": ["CTO", "Head of Growth", "Intern", "Analyst"][i % 4],
            "country": ["US", "DE", "BR"][i % 3],
            "company": {"employee_count": int(i * 7919 % 20_000), "industry": industries[i % 5]},
        }
        for i in range(n)
    ]
    fit_s, _ = timed(lambda: engine.fit_many(leads), 1)
    return {"match_events_per_s": n / match_s, "fit_leads_per_s": n / fit_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k leads, 1M rows")
    args = parser.parse_args()
    report = Report("engine")
    figures = run(args.quick, report)
    columns = ["phase", "rows", "seconds", "rows_per_s", "vs_add_at", "vs_decay", "vs_caps"]
    print_table("scoring engine, full recompute", report.rows[:5], columns)
    print(json.dumps(figures, indent=2, default=float))
    print("saved", report.save("scoring"))


if __name__ == "__main__":
    main()
