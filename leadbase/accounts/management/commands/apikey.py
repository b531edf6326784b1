"""`leadbase apikey create --user NAME --scopes read,write,ingest [--name LABEL]`,
`leadbase apikey list [--user NAME]`, `leadbase apikey revoke PREFIX`.

`create` prints the key once, alone on the last line, so scripts can take it with `tail -1`.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leadbase.accounts.models import ApiKey, User
from leadbase.accounts.services import apikey_create, apikey_revoke
from leadbase.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create, list or revoke API keys."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("--user", required=True, help="username the key acts as")
        create.add_argument("--scopes", required=True, help="comma-separated: read,write,ingest")
        create.add_argument("--name", default="", help="a label, e.g. the tool that uses it")
        listing = sub.add_parser("list", help="list keys (never the secrets)")
        listing.add_argument("--user", default=None)
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(
                    f"No user named {options['user']!r}; create one with `leadbase createuser`."
                )
            try:
                new = apikey_create(user=user, scopes=options["scopes"], name=options["name"])
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            self.stderr.write(
                f"API key {new.api_key.prefix} for {user.username} with scopes "
                f"{','.join(new.api_key.scopes)}. It is shown once; store it now."
            )
            self.stdout.write(new.plain)
        elif action == "list":
            keys = ApiKey.objects.select_related("user")
            if options["user"]:
                keys = keys.filter(user__username=options["user"])
            for key in keys:
                state = "revoked" if key.revoked_at else "active"
                used = key.last_used_at.isoformat() if key.last_used_at else "never"
                self.stdout.write(
                    f"{key.prefix}\t{key.user.username}\t{','.join(key.scopes)}\t{state}\t"
                    f"last used {used}\t{key.name}"
                )
        else:
            found = ApiKey.objects.filter(prefix=options["prefix"]).first()
            if found is None:
                raise CommandError(f"No API key with prefix {options['prefix']!r}.")
            apikey_revoke(api_key=found)
            self.stdout.write(f"Revoked {found.prefix}.")
