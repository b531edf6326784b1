"""`leadbase worker`: run background tasks in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import math
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS

from leadbase.core.worker import WORKER_ID_MAX_LENGTH, run_worker


def positive_seconds(value: str) -> float:
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ArgumentTypeError("must be a positive number of seconds")
    return seconds


def positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ArgumentTypeError("must be greater than zero")
    return number


def worker_id(value: str) -> str:
    if not value or len(value) > WORKER_ID_MAX_LENGTH:
        raise ArgumentTypeError(f"must be 1-{WORKER_ID_MAX_LENGTH} characters")
    return value


class Command(BaseCommand):
    help = (
        "Run background tasks (django.tasks, database backend) in the foreground: claims tasks, "
        "sends heartbeats, re-queues tasks of dead workers and enqueues periodic jobs. "
        "Stops after the current task on SIGINT/SIGTERM. Logs to stderr."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--interval",
            type=positive_seconds,
            default=1.0,
            help="Seconds to wait when the queue is empty (default: %(default)s).",
        )
        parser.add_argument(
            "--queue",
            dest="queues",
            action="extend",
            nargs="+",
            metavar="NAME",
            help="Queue(s) to process; repeatable ('*' for all). Default: the QUEUES in TASKS.",
        )
        parser.add_argument(
            "--max-tasks",
            type=positive_int,
            default=None,
            help="Exit after running this many tasks.",
        )
        parser.add_argument(
            "--worker-id",
            type=worker_id,
            default=None,
            help="Unique id of this worker (default: host-pid-random).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = int(options["verbosity"])
        level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
        for name in ("leadbase", "django_tasks_db", "django.tasks"):
            logging.getLogger(name).setLevel(level)
        try:
            run_worker(
                queue_names=options["queues"],
                interval=options["interval"],
                max_tasks=options["max_tasks"],
                worker_id=options["worker_id"],
                backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            )
        except ImproperlyConfigured as e:
            raise CommandError(str(e)) from e
