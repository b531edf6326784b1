"""`leadbase scoring preview VERSION [--json]`, `leadbase scoring publish VERSION`,
`leadbase scoring rescore [--rebuild]`

Long scoring work in this process, with a progress bar on stderr when it is a terminal:

- `preview VERSION`: how leads would move between temperatures, qualifications and prospect if
  that version were in force (computed on the real data; nothing is changed). With --json,
  stdout carries one JSON object: the job's id, the version and the preview's result (leads,
  moves with example lead ids, grades, mean_total_change).
- `publish VERSION`: put the version in force (a retired one: roll back) and recompute every
  lead's scores, recording each move. Refused while another publish runs.
- `rescore`: score every lead again under the rules in force (--rebuild: rebuild engagement
  from all events instead of the stored state).

The jobs show under /scoring/ like those started in the UI. Exit status 0 on success, 1 when the
version is unknown, its rules do not parse, or the job failed.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import (
    Progress,
    TaskID,
)

from leadbase.core.errors import ApplicationError
from leadbase.core.progress import progress_bar
from leadbase.leads.models import Lead
from leadbase.scoring import jobs, selectors
from leadbase.scoring.models import JobStatus, RuleSet, ScoringJob
from leadbase.scoring.services import leads_rescore
from leadbase.scoring.summary import move_label

RESCORE_CHUNK = 2_000


class Command(BaseCommand):
    help = "Preview or publish a scoring rule set, or rescore every lead, with a progress bar."
    requires_system_checks: list[str] = []  # a data command: the checks only cost start-up time

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        preview = commands.add_parser("preview", help="how leads would move under a version")
        preview.add_argument("version", type=int, help="the rule set's version number")
        preview.add_argument("--json", action="store_true", help="print one JSON object")
        publish = commands.add_parser("publish", help="put a version in force and rescore all")
        publish.add_argument("version", type=int, help="the rule set's version number")
        rescore = commands.add_parser("rescore", help="score every lead again")
        rescore.add_argument(
            "--rebuild", action="store_true", help="rebuild engagement from all events"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action: str = options["action"]
        try:
            if action == "preview":
                self._preview(options["version"], as_json=options["json"])
            elif action == "publish":
                self._publish(options["version"])
            else:
                self._rescore(rebuild=options["rebuild"])
        except ApplicationError as exc:
            if options.get("json"):
                self.stdout.write(json.dumps({"error": exc.message}, ensure_ascii=False))
            raise CommandError(exc.message) from None

    def _rule_set(self, version: int) -> RuleSet:
        found = selectors.rule_set_get(version=version)
        if found is None:
            versions = ", ".join(f"v{r.version}" for r in selectors.rule_set_list()[:20])
            raise ApplicationError(f"There is no rule set v{version}; there are: {versions}.")
        return found

    def _run(self, job: ScoringJob, description: str) -> ScoringJob:
        with progress_bar(counts=False) as bar:
            task = bar.add_task(description, total=None)
            job = jobs.job_run(job.pk, progress=_advance(bar, task))
        if job.status != JobStatus.DONE:
            raise ApplicationError(f"The {job.kind} of v{job.rule_set.version} failed: {job.error}")
        return job

    def _preview(self, version: int, *, as_json: bool) -> None:
        rule_set = self._rule_set(version)
        job = jobs.preview_start(rule_set=rule_set, actor=None, enqueue=False)
        job = self._run(job, f"Previewing v{version}")
        if as_json:
            payload = {"job_id": job.pk, "version": version, **job.result}
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return
        result = job.result
        self.stdout.write(
            f"Preview of v{version} {rule_set.name} over {result.get('leads', 0):,} leads "
            f"(nothing changed); mean change of the total score: "
            f"{result.get('mean_total_change', 0):+g}."
        )
        moves = result.get("moves") or {}
        if not moves:
            self.stdout.write("No lead would change temperature, qualification or prospect.")
        for kind, rows in moves.items():
            self.stdout.write(f"{kind}:")
            for row in rows:
                examples = ", ".join(f"#{pk}" for pk in row.get("examples", []))
                self.stdout.write(
                    f"  {move_label(kind, row['from'])} -> {move_label(kind, row['to'])}: "
                    f"{row['leads']:,} leads (e.g. {examples})"
                )
        grades = result.get("grades") or {}
        self.stdout.write(
            "grades: " + ", ".join(f"{g} {grades.get(g, 0):,}" for g in ("A", "B", "C", "D"))
        )

    def _publish(self, version: int) -> None:
        rule_set = self._rule_set(version)
        was = rule_set.get_status_display().lower()
        job = jobs.publish_start(rule_set=rule_set, actor=None, enqueue=False)
        job = self._run(job, f"Publishing v{version}")
        verb = "Rolled back to" if was == "retired" else "Published"
        self.stdout.write(
            f"{verb} v{version} {rule_set.name}: {job.result.get('leads', 0):,} leads rescored "
            f"(job #{job.pk})."
        )

    def _rescore(self, *, rebuild: bool) -> None:
        ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
        scored = transitions = 0
        with progress_bar() as bar:
            task = bar.add_task("Rescoring", total=len(ids))
            for start in range(0, len(ids), RESCORE_CHUNK):
                result = leads_rescore(ids[start : start + RESCORE_CHUNK], rebuild=rebuild)
                scored += result.scored
                transitions += len(result.transitions)
                bar.update(task, completed=min(len(ids), start + RESCORE_CHUNK))
        self.stdout.write(f"Rescored {scored:,} leads; {transitions:,} transitions recorded.")


def _advance(bar: Progress, task: TaskID) -> Callable[[ScoringJob], None]:
    def update(job: ScoringJob) -> None:
        bar.update(task, completed=job.done, total=job.total or None)

    return update
