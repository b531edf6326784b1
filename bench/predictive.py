"""Predictive scoring with the database: N leads with 10 N events, about half of them with an
outcome that depends on their fields and on what they did before it; then, in one run:

- the training data from the database (`dataset_build`: outcomes, cut-offs, features as of each
  cut-off), traced by tracemalloc for the Python heap's peak;
- `model_train` end to end (not activated), timed in its parts from its progress reports:
  reading the data (untraced), `learn.fit` (inner folds, the three models, calibration,
  validation metrics, importance, the refit on all rows), storing the version;
- the baseline: the same model (the chosen kind, class and parameters, read back from the
  stored artefact) fitted on a ready-made numpy matrix of the same shape (the encoded training
  rows) with the same outcomes, so that the cost of building features and choosing the model
  shows as a ratio;
- scoring: every open lead rescored with no model active (rules only), then the activation
  (every open lead predicted, the probability written, the lead reclassified), against the
  chosen model's `predict_proba` on a ready-made matrix of as many rows.

Peak memory: per phase the process's peak resident size (VmHWM, reset before each phase
through /proc/self/clear_refs; the largest of them for the whole run, since the reset clears
getrusage's maxrss too) and, for the data set, tracemalloc's peak of Python allocations
(numpy's included).

The leads and events come from bench/scoring_db.py's loader (`reuse=True` keeps a database that
already holds exactly those rows, e.g. a copy of the recompute benchmark's, and only resets the
outcomes). Outcomes (seed 11): each lead is labelled with probability 1/2 at a cut-off uniform
in the 170 days before the load; it converts with probability sigmoid(z), where z grows with
its pricing-page visits, demo requests, trial sign-ups and email clicks before the cut-off, its
events of the 30 days before it, its seniority and its company's industry, and falls with an
unsubscribe. Converted: stage customer (with `became_customer_at`) or sales status won (with a
transition); not: lost or unqualified (a transition) or disqualified (`became_disqualified_at`).
Every lead's `last_activity_at` is its last event: those without an event in the last 90 days
(about 1 %) are the gone-quiet ones. Events after a lead's cut-off stay in the database (the
features must not see them).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import resource
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Report

DAY = 86_400.0
SIGNAL = ("pricing_page_view", "demo_request", "trial_signup", "email_clicked", "unsubscribed")
WEIGHTS = np.array([0.8, 1.2, 1.2, 0.2, -1.0])
SENIORITY_EFFECT = {"c_level": 0.7, "vp": 0.7, "director": 0.3, "entry": -0.7}
INDUSTRY_EFFECT = {"Software": 0.5, "Finance": 0.3, "Education": -0.6}
BENCH_ACTOR = "bench-predictive"
READ = 100_000


# Memory ---------------------------------------------------------------------------------------


_run_peak = [0.0]  # the largest peak seen before a reset (the reset clears getrusage's too)


def _hwm_reset() -> None:
    """Reset the process's peak resident size (Linux; ignored elsewhere)."""
    _run_peak[0] = max(_run_peak[0], _hwm_mb())
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _hwm_mb() -> float:
    """The peak resident size since the last reset (MiB); maxrss where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return _maxrss_mb()


def _rss_mb() -> float:
    """The resident size now (MiB; 0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def _maxrss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# Data -----------------------------------------------------------------------------------------


def _reset_outcomes() -> None:
    """A reused database: every lead open again, no model version."""
    from django.db import connection, transaction

    from leadbase.leads.models import Lead, LifecycleTransition
    from leadbase.scoring.models import PredictiveModel

    lead = connection.ops.quote_name(Lead._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {lead} SET lifecycle_stage = 'lead', sales_status = 'new', "  # noqa: S608
            "became_customer_at = NULL, became_advocate_at = NULL, "
            "became_disqualified_at = NULL, predicted_probability = NULL"
        )
        LifecycleTransition.objects.filter(actor_label=BENCH_ACTOR).delete()
        PredictiveModel.objects.all().delete()


def _events() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(sorted lead ids, each event's lead position, signal kind (index in SIGNAL, or -1), time
    in POSIX seconds), read with a plain cursor."""
    from django.db import connection

    from leadbase.leads.models import Event, Lead

    ids = np.fromiter(Lead.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    table = connection.ops.quote_name(Event._meta.db_table)
    kind = " ".join(f"WHEN '{name}' THEN {j}" for j, name in enumerate(SIGNAL))
    if connection.vendor == "postgresql":
        epoch = "EXTRACT(EPOCH FROM occurred_at)::float8"
    else:
        epoch = "CAST(strftime('%s', occurred_at) AS REAL)"
    lead, signal, times = [], [], []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lead_id, CASE type {kind} ELSE -1 END, {epoch} FROM {table} "  # noqa: S608
            "WHERE lead_id IS NOT NULL"
        )
        while batch := cursor.fetchmany(READ):
            array = np.array(batch, dtype=np.float64)
            lead.append(array[:, 0].astype(np.int64))
            signal.append(array[:, 1].astype(np.int64))
            times.append(array[:, 2])
    lead_ids = np.concatenate(lead)
    return ids, np.searchsorted(ids, lead_ids), np.concatenate(signal), np.concatenate(times)


def make_outcomes(*, seed: int = 11) -> dict[str, Any]:
    """Give about half of the leads an outcome that depends on their fields and events (see the
    module's notes); every lead's last activity becomes its last event. Returns counts."""
    from django.db import transaction

    from leadbase.core.fastinsert import insert_rows, update_rows
    from leadbase.leads.models import Lead, LifecycleTransition

    rng = np.random.default_rng(seed)
    ids, position, signal, times = _events()
    n = len(ids)
    now = float(times.max())
    labelled = rng.random(n) < 0.5
    cutoff = now - rng.uniform(2, 170, n) * DAY
    before = times < cutoff[position]
    k = len(SIGNAL)
    counted = before & (signal >= 0)
    counts = np.bincount(position[counted] * k + signal[counted], minlength=n * k).reshape(n, k)
    recent = before & (times >= cutoff[position] - 30 * DAY)
    recent_all = np.bincount(position[recent], minlength=n)
    fields = Lead.objects.order_by("pk").values_list("seniority", "company__industry")
    effect = np.fromiter(
        (
            SENIORITY_EFFECT.get(seniority, 0.0) + INDUSTRY_EFFECT.get(industry or "", 0.0)
            for seniority, industry in fields.iterator(chunk_size=50_000)
        ),
        dtype=np.float64,
        count=n,
    )
    z = -2.0 + np.minimum(counts, 3) @ WEIGHTS + 0.1 * np.minimum(recent_all, 10) + effect
    converted = rng.random(n) < 1.0 / (1.0 + np.exp(-z))
    how = rng.random(n)
    last = np.full(n, -np.inf)
    np.maximum.at(last, position, times)
    del position, signal, times, before, counted, recent

    def at(seconds: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)

    updates: list[list[Any]] = []
    transitions: list[dict[str, Any]] = []
    kinds: dict[str, int] = {}
    for i in np.flatnonzero(labelled).tolist():
        pk, when = int(ids[i]), at(float(cutoff[i]))
        stage, status, customer_at, disqualified_at = "opportunity", "connected", None, None
        if converted[i] and how[i] < 0.5:
            what, stage, customer_at = "customer", "customer", when
        elif converted[i]:
            what, status = "won", "won"
        elif how[i] < 0.6:
            what, status = "lost", "lost"
        elif how[i] < 0.85:
            what, stage, disqualified_at = "disqualified", "disqualified", when
        else:
            what, status = "unqualified", "unqualified"
        kinds[what] = kinds.get(what, 0) + 1
        updates.append([pk, stage, status, customer_at, disqualified_at])
        if what in ("won", "lost", "unqualified"):
            transitions.append(
                {
                    "lead_id": pk,
                    "kind": "sales_status",
                    "from_value": "connected",
                    "to_value": status,
                    "at": when,
                    "actor_label": BENCH_ACTOR,
                }
            )
    with transaction.atomic():
        for start in range(0, len(updates), 50_000):
            update_rows(
                Lead,
                ["lifecycle_stage", "sales_status", "became_customer_at", "became_disqualified_at"],
                updates[start : start + 50_000],
            )
        for start in range(0, len(transitions), 50_000):
            insert_rows(LifecycleTransition, transitions[start : start + 50_000])
        seen = np.isfinite(last)
        rows = [[int(ids[i]), at(float(last[i]))] for i in np.flatnonzero(seen).tolist()]
        for start in range(0, len(rows), 50_000):
            update_rows(Lead, ["last_activity_at"], rows[start : start + 50_000])
    quiet = int(np.sum(~labelled & (last < now - 90 * DAY)))
    return {
        "labelled": int(labelled.sum()),
        "converted": int((labelled & converted).sum()),
        "outcomes": dict(sorted(kinds.items())),
        "quiet": quiet,
        "open": int((~labelled).sum()),
    }


# The run --------------------------------------------------------------------------------------


class _Phases:
    """Times and peak memory of model_train's parts, from its progress reports."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.marks: dict[str, tuple[float, float]] = {}  # part -> (seconds, peak MiB)
        self.last = self.start

    def _mark(self, part: str) -> None:
        now = time.perf_counter()
        self.marks[part] = (now - self.last, _hwm_mb())
        self.last = now
        _hwm_reset()

    def __call__(self, done: int, total: int, what: str) -> None:
        if "read" not in self.marks and what.startswith("Training on"):
            self._mark("read")
        elif "fit" not in self.marks and what == "done":
            self._mark("fit")
        elif "store" not in self.marks and what.startswith("Comparing"):
            self._mark("store")


def _baseline_fit(model: dict[str, Any], x: np.ndarray, y: np.ndarray, categorical: Any) -> None:
    """Fit the parts of `model` again (same classes, same parameters) on x."""
    from sklearn.base import clone

    from leadbase.scoring_engine.learn.models import nb_fit, one_thread

    with one_thread():
        for part in model["parts"]:
            if part["kind"] == "naive_bayes":
                nb_fit(x, y, categorical)
            else:
                clone(part["estimator"]).fit(x, y)


def run(report: Report, *, leads: int, reuse: bool = False) -> None:
    from bench import scoring_db
    from bench.common import wipe_leads
    from leadbase.leads.models import Event, Lead
    from leadbase.scoring.predictive import dataset as dataset_module
    from leadbase.scoring.predictive.dataset import dataset_build, open_lead_ids
    from leadbase.scoring.predictive.training import model_activate, model_train
    from leadbase.scoring.services import leads_rescore
    from leadbase.scoring_engine.learn import loads
    from leadbase.scoring_engine.learn.models import model_proba

    events = 10 * leads
    if reuse and Lead.objects.count() == leads and Event.objects.count() == events:
        _reset_outcomes()
        report.add(phase=f"reused {leads:,} leads and {events:,} events", seconds=0)
    else:
        wipe_leads()
        loaded = scoring_db.load(leads, events)
        report.add(phase=f"load {leads:,} leads (bulk insert)", seconds=round(loaded["leads_s"], 1))
        report.add(
            phase=f"load {events:,} events (bulk insert)",
            seconds=round(loaded["events_s"], 1),
            rows_per_s=round(events / loaded["events_s"]),
        )
    started = time.perf_counter()
    made = make_outcomes()
    report.add(
        phase="outcomes given (not measured)",
        seconds=round(time.perf_counter() - started, 1),
        note=str(made),
    )
    cap = dataset_module.max_rows()
    report.add(phase="settings", note=f"LEADBASE_PREDICTIVE_MAX_ROWS={cap:,}")

    report.add(phase="resident size before the measured phases", peak_rss_mb=_rss_mb())

    # 1. The training data set, traced (Python heap peak).
    _hwm_reset()
    tracemalloc.start()
    started = time.perf_counter()
    data = dataset_build()
    traced_s = time.perf_counter() - started
    python_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rows = len(data.y)
    report.add(
        phase="dataset_build under tracemalloc",
        rows=rows,
        seconds=round(traced_s, 1),
        rows_per_s=round(rows / traced_s),
        python_peak_mb=round(python_peak, 1),
        peak_rss_mb=_hwm_mb(),
        note=f"labelled {data.summary['labelled_before_cap']:,}, used {rows:,}, "
        f"{int(data.y.sum()):,} converted, {len(data.table):,} columns",
    )

    # 2. model_train end to end (not activated), in its parts.
    _hwm_reset()
    phases = _Phases()
    started = time.perf_counter()
    model = model_train(activate="never", progress=phases)
    train_s = time.perf_counter() - started
    assert model.status == "ready", model.error
    read_s, read_mb = phases.marks["read"]
    fit_s, fit_mb = phases.marks["fit"]
    store_s, store_mb = phases.marks["store"]

    # 3. The baseline: the chosen model fitted on a ready-made matrix of the same shape.
    artefact = bytes(model.artefact or b"")
    predictor = loads(artefact)
    started = time.perf_counter()
    x = predictor.encoder.transform(data.table)
    encode_s = time.perf_counter() - started
    y = data.y
    del data
    _hwm_reset()
    started = time.perf_counter()
    _baseline_fit(predictor.model, x, y, predictor.encoder.categorical)
    floor_s = time.perf_counter() - started
    floor_mb = _hwm_mb()
    chosen = model.metrics.get("chosen_metrics", {})
    shape = f"{x.shape[0]:,} x {x.shape[1]}"

    def train_row(phase: str, seconds: float, peak: float, **extra: Any) -> None:
        report.add(
            phase=phase,
            rows=rows,
            seconds=round(seconds, 2),
            rows_per_s=round(rows / seconds),
            vs_floor=f"{seconds / floor_s:.1f}",
            peak_rss_mb=peak,
            **extra,
        )

    train_row(f"floor: fit the chosen model ({model.kind}) on a ready matrix {shape}",
              floor_s, floor_mb)  # fmt: skip
    train_row("encode the table into that matrix (not in the floor)", encode_s, _hwm_mb())
    train_row("model_train: read outcomes + features (dataset_build)", read_s, read_mb)
    train_row("model_train: learn.fit (selection, 3 models, metrics, refit)", fit_s, fit_mb)
    train_row("model_train: store the version (skops)", store_s, store_mb,
              note=f"artefact {len(artefact) / 2**20:.1f} MiB")  # fmt: skip
    train_row(
        "model_train end to end",
        train_s,
        max(read_mb, fit_mb, store_mb),
        note=f"chosen {model.kind}, validation ROC AUC {chosen.get('roc_auc') or 0:.3f}, "
        f"{model.summary.get('labelled', 0):,} of {model.summary.get('labelled_before_cap', 0):,}"
        " labelled leads used",
    )

    # 4. Scoring every open lead: rules only, then with the model (activation), and the floor.
    ids = open_lead_ids()
    n_open = len(ids)
    _hwm_reset()
    started = time.perf_counter()
    for start in range(0, n_open, 2_000):
        leads_rescore(ids[start : start + 2_000])
    rules_s = time.perf_counter() - started
    rules_mb = _hwm_mb()
    rows_x = x[np.resize(np.arange(x.shape[0]), n_open)]
    started = time.perf_counter()
    model_proba(predictor.model, rows_x)
    proba_s = time.perf_counter() - started
    del rows_x, x
    _hwm_reset()
    started = time.perf_counter()
    model_activate(model=model, actor=None)
    predict_s = time.perf_counter() - started
    predict_mb = _hwm_mb()
    predicted = Lead.objects.filter(predicted_probability__isnull=False).count()

    def score_row(phase: str, seconds: float, **extra: Any) -> None:
        report.add(
            phase=phase,
            rows=n_open,
            seconds=round(seconds, 2),
            leads_per_s=round(n_open / seconds),
            vs_floor=f"{seconds / proba_s:.1f}",
            **extra,
        )

    score_row(f"floor: predict_proba of the chosen model on a ready matrix ({n_open:,} rows)",
              proba_s)  # fmt: skip
    score_row("rescore every open lead, no model active (rules only)", rules_s,
              peak_rss_mb=rules_mb)  # fmt: skip
    score_row(
        "activate: predict + write + reclassify every open lead",
        predict_s,
        peak_rss_mb=predict_mb,
        note=f"{predicted:,} leads have a probability",
    )
    report.add(phase="process peak, whole run", peak_rss_mb=max(_run_peak[0], _hwm_mb()))


def run_evaluate(report: Report, *, rows: int) -> None:
    """`leadbase evaluate`'s pipeline on a generated CSV (bench/evaluate_csv.py), no database."""
    import tempfile

    from bench.evaluate_csv import write_csv
    from leadbase.scoring_engine.learn import evaluate, read_csv

    path = Path(tempfile.mkdtemp(prefix="leadbase-evaluate-")) / "leads.csv"
    rate = write_csv(path, rows)
    _hwm_reset()
    started = time.perf_counter()
    table = read_csv(path)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    result = evaluate(table, target="converted", folds=5)
    evaluate_s = time.perf_counter() - started
    report.add(
        phase=f"evaluate: read_csv ({rows:,} rows x {len(table) - 1} columns)",
        rows=rows,
        seconds=round(read_s, 2),
        rows_per_s=round(rows / read_s),
    )
    report.add(
        phase="evaluate: 5 folds x 3 models + the chosen one",
        rows=rows,
        seconds=round(evaluate_s, 1),
        rows_per_s=round(rows / evaluate_s),
        peak_rss_mb=_hwm_mb(),
        note=f"positive rate {rate:.3f}, chosen {result['chosen']}, "
        f"ROC AUC {result['chosen_metrics']['roc_auc']:.3f}",
    )
    path.unlink()
