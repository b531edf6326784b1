"""`leadbase demo [--leads N] [--seed S] [--port P] [--no-serve] [--reset]`

The one-command start: migrate the database, make sure an admin exists (printing its password
the one time it is created), load deterministic demo data unless there already are leads, then
serve Leadbase with granian and run the task worker inside this process.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from leadbase.accounts.models import Role
from leadbase.accounts.services import user_ensure
from leadbase.capture.demo import demo_capture_ensure
from leadbase.core.management.commands.serve import granian_command
from leadbase.core.progress import progress_bar
from leadbase.core.worker import start_worker_thread
from leadbase.leads.demo_data import load_demo_data
from leadbase.leads.models import Lead
from leadbase.scoring.models import ModelStatus, PredictiveModel
from leadbase.scoring.predictive.training import model_train
from leadbase.scoring.rule_sets import active_forget
from leadbase.scoring.services import leads_rescore


class Command(BaseCommand):
    help = "Prepare a database with demo data and serve Leadbase with an in-process worker."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--leads", type=int, default=5000, help="demo leads (default 5000)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="web worker processes")
        parser.add_argument("--no-serve", action="store_true", help="only prepare the database")
        parser.add_argument(
            "--reset", action="store_true", help="delete all data first and start over"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["leads"] < 0:
            self.stderr.write("--leads must be 0 or more.")
            sys.exit(2)
        database = settings.DATABASES["default"]
        where = database["NAME"] if database["ENGINE"].endswith("sqlite3") else database["HOST"]
        self.stderr.write(f"Database: {database['ENGINE'].rsplit('.', 1)[-1]} {where}")
        call_command("migrate", interactive=False, verbosity=0)
        if options["reset"]:
            self.stderr.write("--reset: deleting all data")
            call_command("flush", interactive=False, verbosity=0)

        admin = user_ensure(username="admin", role=Role.ADMIN, email="admin@localhost")
        if admin.password:
            self.stdout.write(
                f"Admin user created: admin / {admin.password}  (shown once; change it with "
                "`leadbase changepassword admin`)"
            )
        else:
            self.stdout.write(
                "Admin user 'admin' already exists; its password is unchanged "
                "(`leadbase changepassword admin` sets a new one)."
            )
        self._load(options["leads"], options["seed"])
        self._score()
        self._train()
        capture = demo_capture_ensure(actor=admin.user)
        if capture.forms:
            self.stdout.write(
                f"Created {capture.forms} sample forms (/f/newsletter, /f/demo) and "
                f"{capture.webhook_sources} generic webhook source (Capture > Webhooks)."
            )

        if options["no_serve"]:
            self.stdout.write("Database ready (--no-serve).")
            return
        self._serve(options["host"], options["port"], options["workers"])

    def _load(self, leads: int, seed: int) -> None:
        with progress_bar(remaining=False) as bar:
            job = bar.add_task("Demo data", total=leads)
            summary = load_demo_data(
                leads=leads,
                seed=seed,
                progress=lambda done, total: bar.update(job, completed=done, total=total),
            )
        if summary.already_loaded:
            self.stdout.write(
                f"Demo data already present ({summary.leads} leads); kept as it is "
                "(--reset starts over)."
            )
        else:
            self.stdout.write(
                f"Loaded {summary.leads} leads, {summary.companies} companies, "
                f"{summary.campaigns} campaigns, {summary.events} events (seed {seed})."
            )

    def _score(self) -> None:
        """Score the demo leads never scored with the rule set in force. Their temperature and
        qualification come from the demo's own history and are kept (no transitions now)."""
        ids = list(Lead.objects.filter(score_state__isnull=True).values_list("pk", flat=True))
        if not ids:
            return
        active_forget()  # --reset may have removed the rule set this process knew
        with progress_bar(remaining=False) as bar:
            job = bar.add_task("Scoring", total=len(ids))
            result = leads_rescore(
                ids,
                classify=False,
                progress=lambda done, total: bar.update(job, completed=done, total=total),
            )
        self.stdout.write(f"Scored {result.scored} leads with the default rule set.")

    def _train(self) -> None:
        """Train a first predictive model on the demo leads whose outcome is known, so that
        the Models pages and the leads' probabilities have something to show."""
        if PredictiveModel.objects.exists():
            return
        with progress_bar(counts=False, remaining=False) as bar:
            job = bar.add_task("Training a predictive model", total=100)
            model = model_train(
                progress=lambda done, total, what: bar.update(job, completed=done, total=total),
                classify=False,  # the demo's classes come from its own history: keep them
            )
        if model.status == ModelStatus.ACTIVE:
            auc = (model.metrics.get("chosen_metrics") or {}).get("roc_auc")
            shown = f", ROC AUC {auc:.3f} on the latest leads" if isinstance(auc, float) else ""
            self.stdout.write(f"Trained and activated predictive model v{model.version}{shown}.")
        else:
            self.stdout.write(f"Predictive model v{model.version}: {model.error or model.status}")

    def _serve(self, host: str, port: int, workers: int) -> None:
        stop = threading.Event()
        worker = start_worker_thread(stop)
        command = granian_command(host=host, port=port, workers=workers, threads=4)
        self.stdout.write(f"Leadbase is running on http://{host}:{port}/  (Ctrl+C stops it)")
        server = subprocess.Popen(command)  # noqa: S603 -- our own interpreter and arguments
        try:
            server.wait()
        except KeyboardInterrupt:
            self.stderr.write("Stopping...")
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
            stop.set()
            worker.join(timeout=10)
