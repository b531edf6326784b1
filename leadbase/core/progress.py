"""The progress bar every long CLI command shows: on stderr, and only when stderr is a terminal
(stdout may carry JSON, and logs and CI get no bar codes)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_bar(*, counts: bool = True, remaining: bool = True, off: bool = False) -> Progress:
    """A bar labelled by each task's description. `counts`: "1,200/5,000" (rows, leads);
    otherwise a percentage (a job of steps that are not items). `off` hides it too (e.g. when
    the command prints JSON)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if counts else TaskProgressColumn(),
        TimeElapsedColumn(),
        *([TimeRemainingColumn()] if remaining else []),
        console=Console(stderr=True),
        disable=off or not sys.stderr.isatty(),
        transient=False,
    )
