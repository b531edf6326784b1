"""The one hook point where downstream apps react to changes of leads.

Leads never imports the apps that build on it (scoring, routing, nurture). When a lead's fields
or events change, the leads services call `leads_changed(...)`; every function registered with
`on_leads_changed` runs after the transaction commits (never for a rolled-back change), with
the ids of the leads and whether their events changed in a way an incremental update cannot
follow (events re-pointed by a merge or by a visitor identifying: `rebuild=True`).

Register from the downstream app's `AppConfig.ready`::

    from leadbase.leads.hooks import on_leads_changed
    on_leads_changed(my_handler)   # my_handler(lead_ids: frozenset[int], rebuild: bool) -> None

A handler must be quick (enqueue a task for heavy work); an exception in one is logged and does
not stop the others, nor undo the change (it is committed already). Whoever needs certainty
about every lead (a missed call, a crash between commit and handler) also runs a periodic sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.db import transaction

logger = logging.getLogger(__name__)

type LeadsChangedHandler = Callable[[frozenset[int], bool], None]

_handlers: list[LeadsChangedHandler] = []


def on_leads_changed(handler: LeadsChangedHandler) -> LeadsChangedHandler:
    """Register `handler` (once: registering the same function again is a no-op)."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def leads_changed_handlers() -> tuple[LeadsChangedHandler, ...]:
    return tuple(_handlers)


def forget_leads_changed(handler: LeadsChangedHandler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def _run(lead_ids: frozenset[int], rebuild: bool) -> None:
    for handler in tuple(_handlers):
        try:
            handler(lead_ids, rebuild)
        except Exception:
            logger.exception("A leads-changed handler failed: %r", handler)


def leads_changed(lead_ids: Iterable[int], *, rebuild: bool = False) -> None:
    """Tell the registered handlers, once the current transaction commits, that these leads
    changed (at once when there is no transaction)."""
    ids = frozenset(lead_ids)
    if ids and _handlers:
        transaction.on_commit(lambda: _run(ids, rebuild))
