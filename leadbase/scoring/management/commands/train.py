"""`leadbase train [--no-activate] [--json]`

Train a predictive model version on the database's leads with a known outcome, in this
process, with a progress bar on stderr (when it is a terminal). The new version is activated
when no version is active or when it beats the active one on the same validation leads
(`--no-activate`: keep it ready, to activate by hand under /scoring/models/). With --json,
stdout carries one JSON object: version, status, kind, activated, metrics (per model), the
chosen model's metrics, validation, summary and error.

Exit status 0 when a version was trained (activated or not); 1 when training failed (too
little data: the message says what there is and what is needed) or another one is training.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leadbase.core.errors import ApplicationError
from leadbase.core.progress import progress_bar
from leadbase.scoring.models import ModelStatus, PredictiveModel
from leadbase.scoring.predictive.training import model_train


class Command(BaseCommand):
    help = "Train a predictive model version on the leads whose outcome is known."
    requires_system_checks: list[str] = []  # a data command: the checks only cost start-up time

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--no-activate",
            action="store_true",
            help="keep the new version ready even if it beats the active one",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        as_json: bool = options["json"]
        bar = progress_bar(counts=False, remaining=False)
        try:
            with bar:
                task = bar.add_task("Training", total=100)

                def progress(done: int, total: int, what: str) -> None:
                    bar.update(task, completed=done, total=total, description=what[:60])

                model = model_train(
                    progress=progress, activate="never" if options["no_activate"] else "auto"
                )
        except ApplicationError as exc:
            if as_json:
                self.stdout.write(json.dumps({"error": exc.message}, ensure_ascii=False))
            raise CommandError(exc.message) from None
        if as_json:
            self.stdout.write(json.dumps(_payload(model), ensure_ascii=False, default=str))
        else:
            self._report(model)
        if model.status == ModelStatus.FAILED:
            raise CommandError(f"Training v{model.version} failed: {model.error}")

    def _report(self, model: PredictiveModel) -> None:
        if model.status == ModelStatus.FAILED:
            return
        metrics = model.metrics or {}
        self.stdout.write(
            f"Model v{model.version} ({model.kind}) trained on "
            f"{(model.summary or {}).get('rows', 0):,} leads; {model.validation}"
        )
        for name, values in (metrics.get("models") or {}).items():
            chosen = " (shipped)" if name == model.kind else ""
            self.stdout.write(
                f"  {name}{chosen}: ROC AUC {_num(values.get('roc_auc'))}, log loss "
                f"{_num(values.get('log_loss'))}, Brier {_num(values.get('brier'))}, "
                f"top-decile lift {_num(values.get('top_decile_lift'))}"
            )
        self.stdout.write(model.activation_note)


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "n/a"


def _payload(model: PredictiveModel) -> dict[str, Any]:
    metrics = model.metrics or {}
    return {
        "version": model.version,
        "status": model.status,
        "kind": model.kind,
        "activated": model.status == ModelStatus.ACTIVE,
        "activation_note": model.activation_note,
        "validation": model.validation,
        "models": metrics.get("models") or {},
        "chosen_metrics": metrics.get("chosen_metrics") or {},
        "summary": model.summary or {},
        "error": model.error,
    }
