"""`leadbase export --format csv|xlsx [--out FILE] [--user NAME] [filters]`

Exports leads exactly as the lead list's Export links do, with the same filters: --q, --stage,
--temperature, --qualification, --owner (a username, or "unassigned"), --source, --min-score,
--max-score, --sort, plus --archived (archived leads instead of active ones). --user exports
what that user may see (a sales rep: their own leads); without it, every lead. CSV goes to
standard output unless --out is given; XLSX needs --out. With --out, a progress bar is shown
on standard error.
"""

from __future__ import annotations

import dataclasses
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError

from leadbase.accounts.models import Role, User
from leadbase.capture.exports import FORMATS, counted, csv_chunks, export_rows, xlsx_write
from leadbase.core.progress import progress_bar
from leadbase.leads import selectors
from leadbase.leads.forms import UNASSIGNED, LeadFilterForm

FILTERS = ("q", "stage", "temperature", "qualification", "source", "min_score", "max_score")


class Command(BaseCommand):
    help = "Export leads to CSV or XLSX, with the lead list's filters."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="csv", dest="fmt")
        parser.add_argument("--out", type=Path, help="file to write (default: standard output)")
        parser.add_argument("--user", help="export what this user may see (default: all leads)")
        parser.add_argument("--q", default="", help="search: name, email or company")
        parser.add_argument("--stage", default="")
        parser.add_argument("--temperature", default="")
        parser.add_argument("--qualification", default="")
        parser.add_argument("--owner", default="", help=f'a username, or "{UNASSIGNED}"')
        parser.add_argument("--source", default="", help="source channel")
        parser.add_argument("--min-score", default="")
        parser.add_argument("--max-score", default="")
        parser.add_argument(
            "--grade",
            action="append",
            default=[],
            metavar="A|B|C|D",
            help="fit grade (repeat for several: --grade A --grade B)",
        )
        parser.add_argument("--prospect", default="", help="yes: prospects only; no: the others")
        parser.add_argument("--sort", default="")
        parser.add_argument("--archived", action="store_true", help="archived leads only")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt: str = options["fmt"]
        out: Path | None = options["out"]
        if fmt == "xlsx" and out is None:
            raise CommandError("--format xlsx writes a binary file: give --out FILE.")
        user = self._user(options["user"])
        data = {name: str(options[name]) for name in FILTERS if options[name] not in ("", None)}
        if options["owner"]:
            data["owner"] = self._owner(options["owner"])
        if options["sort"]:
            data["sort"] = options["sort"]
        if options["prospect"]:
            data["prospect"] = options["prospect"]
        form_data: dict[str, Any] = {**data, "grade": [g.upper() for g in options["grade"]]}
        owners = User.objects.filter(is_active=True) if user.sees_all_leads else None
        form = LeadFilterForm(form_data, owners=owners)
        if not form.is_valid():
            problems = "; ".join(
                f"--{name.replace('_', '-')}: {' '.join(str(error) for error in errors)}"
                for name, errors in form.errors.items()
            )
            raise CommandError(f"Invalid filters: {problems}")
        filters = dataclasses.replace(form.to_filters(), archived=options["archived"])
        queryset = selectors.lead_list(user=user, filters=filters)
        if out is None:
            self._to_stdout(queryset)
        else:
            self._to_file(queryset, fmt, out)

    def _user(self, username: str | None) -> User:
        if not username:
            # Whoever runs the command can read the database: every lead, as an admin sees them.
            return User(username="(command line)", role=Role.ADMIN, is_active=True)
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive and may see no leads.")
        return user

    def _owner(self, owner: str) -> str:
        if owner == UNASSIGNED:
            return UNASSIGNED
        found = User.objects.filter(username=owner, is_active=True).first()
        if found is None:
            raise CommandError(f"--owner: no active user named {owner!r}.")
        return str(found.pk)

    def _to_stdout(self, queryset: Any) -> None:
        binary: IO[bytes] | None = getattr(self.stdout._out, "buffer", None)
        for chunk in csv_chunks(export_rows(queryset)):
            if binary is not None:
                binary.write(chunk)
            else:  # a text stream (call_command(stdout=StringIO()))
                self.stdout.write(chunk.decode("utf-8"), ending="")
        if binary is not None:
            binary.flush()

    def _to_file(self, queryset: Any, fmt: str, out: Path) -> None:
        total = queryset.count()
        started = time.monotonic()
        with progress_bar(remaining=False) as bar:
            job = bar.add_task("Exporting leads", total=total)
            written = [0]

            def progress(count: int) -> None:
                written[0] = count
                bar.update(job, completed=count)

            rows = counted(export_rows(queryset), progress)
            partial = out.with_name(f".{out.name}.partial")
            try:
                with partial.open("wb") as target:
                    if fmt == "csv":
                        for chunk in csv_chunks(rows):
                            target.write(chunk)
                    else:
                        xlsx_write(rows, target)
                partial.replace(out)
            finally:
                partial.unlink(missing_ok=True)
        seconds = time.monotonic() - started
        self.stderr.write(f"Exported {written[0]} leads to {out} in {seconds:.1f} s.")
