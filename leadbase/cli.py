"""The `leadbase` console script: Django management commands under one name.

`leadbase demo`, `leadbase serve`, `leadbase worker`, `leadbase createuser`, `leadbase apikey
create ...` and every Django command (`leadbase migrate`, `leadbase check --deploy`, ...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbase.config.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:] if argv is None else argv
    execute_from_command_line(["leadbase", *(args or ["help"])])


if __name__ == "__main__":
    main()
