"""`leadbase evaluate --data FILE.csv --target COLUMN [--positive VALUE] [--time-column COL]
[--drop COL ...] [--seed N] [--folds K] [--json]`

Runs the predictive pipeline (feature typing, the three models, the model Leadbase would ship)
on any CSV file and prints the metrics measured on held-out rows only: stratified 5-fold
cross-validation, or with --time-column a time split (earliest 80 % train, latest 20 % test).
No database is used. With --json, stdout carries exactly one JSON object; without, a table,
with a progress bar on stderr when it is a terminal. See docs/predictive-evaluation.md.
"""

from __future__ import annotations

import io
import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table as RichTable

from leadbase.core.progress import progress_bar
from leadbase.scoring_engine.learn import evaluate, read_csv

NO_SIGNAL = 0.55
LEAK = 0.95
COLUMNS = (
    ("roc_auc", "ROC AUC"),
    ("pr_auc", "PR AUC"),
    ("log_loss", "log loss"),
    ("brier", "Brier"),
    ("top_decile_lift", "top-decile lift"),
)


class Command(BaseCommand):
    help = "Measure the predictive scoring pipeline on a CSV file (held-out rows only)."
    requires_system_checks: list[str] = []  # no database, no apps needed beyond settings

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--data", required=True, help="the CSV file (delimiter detected)")
        parser.add_argument("--target", required=True, help="the column holding the outcome")
        parser.add_argument(
            "--positive", help="the target's value that means converted (default: 1/yes/true)"
        )
        parser.add_argument("--time-column", help="split by this date column instead of CV")
        parser.add_argument(
            "--drop", nargs="+", action="extend", default=[], metavar="COL",
            help="columns to leave out (ids, columns that leak the outcome)",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (5)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        as_json: bool = options["json"]
        try:
            result = self._evaluate(options, as_json=as_json)
        except (ValueError, OSError) as exc:
            message = str(exc)
            if as_json:
                self.stdout.write(json.dumps({"error": message}, ensure_ascii=False))
            raise CommandError(message) from None
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self._print(result)

    def _evaluate(self, options: dict[str, Any], *, as_json: bool) -> dict[str, Any]:
        path = Path(options["data"])
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        if options["folds"] < 2:
            raise ValueError("--folds must be at least 2")
        table = read_csv(path)
        bar = progress_bar(counts=False, remaining=False, off=as_json)
        with bar:
            task = bar.add_task("Evaluating", total=None)

            def progress(done: int, total: int, what: str) -> None:
                bar.update(task, completed=done, total=total, description=what[:60])

            return evaluate(
                table,
                target=options["target"],
                positive=options["positive"],
                time_column=options["time_column"],
                drop=options["drop"],
                seed=options["seed"],
                folds=options["folds"],
                progress=progress,
            )

    def _print(self, result: dict[str, Any]) -> None:
        buffer = io.StringIO()
        console = Console(file=buffer, width=110)
        console.print(
            f"{result['rows']:,} rows, {result['positive_rate']:.1%} positive. "
            f"{result['validation']}."
        )
        table = RichTable(title="Held-out metrics")
        table.add_column("model")
        for _, title in COLUMNS:
            table.add_column(title, justify="right")
        rows = [
            *result["models"].items(),
            (f"chosen: {result['chosen']}", result["chosen_metrics"]),
        ]
        for name, values in rows:
            table.add_row(name, *(_number(values.get(key)) for key, _ in COLUMNS))
        console.print(table)
        spread = result["chosen_metrics"].get("spread") or {}
        if spread:
            console.print(
                "Chosen model's probabilities: "
                f"10 % below {spread['p10']:.3f}, median {spread['median']:.3f}, "
                f"90 % below {spread['p90']:.3f} (held-out base rate "
                f"{result['chosen_metrics']['base_rate']:.3f})."
            )
        verdict = _verdict(result["chosen_metrics"].get("roc_auc"))
        if verdict:
            console.print(verdict)
        console.print("Features: " + ", ".join(result["features"]))
        if result["skipped"]:
            console.print(
                "Skipped: " + "; ".join(f"{k} ({v})" for k, v in result["skipped"].items())
            )
        self.stdout.write(buffer.getvalue(), ending="")


def _verdict(roc_auc: float | None) -> str | None:
    if roc_auc is None or roc_auc < NO_SIGNAL:
        return "No usable signal: the chosen model ranks leads little better than chance."
    if roc_auc > LEAK:
        return (
            f"ROC AUC above {LEAK}: on lead data this usually means a column leaks the outcome "
            "(filled in after it was known); check the columns and --drop it."
        )
    return None


def _number(value: object) -> str:
    return "-" if not isinstance(value, int | float) else f"{value:.4f}"
