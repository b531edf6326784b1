"""`leadbase createuser NAME [--role ROLE] [--email E] [--password P]`."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leadbase.accounts.models import Role
from leadbase.accounts.services import user_ensure
from leadbase.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a user (prints a generated password once if none is given)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", default=Role.VIEWER, choices=Role.values)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None, help="default: a random one, printed")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = user_ensure(
                username=options["username"],
                role=options["role"],
                email=options["email"],
                password=options["password"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if not result.created:
            raise CommandError(f"A user named {options['username']!r} already exists.")
        self.stdout.write(f"Created {result.user.role} {result.user.username!r}.")
        if result.password:
            self.stdout.write(f"Password (shown once): {result.password}")
