"""The hook point where downstream apps (routing, nurture) react to a lead's classification
changing: temperature (cold/warm/hot), qualification (IQL/MQL/SQL), prospect, and the lifecycle
stage moves that qualification brings.

Register from the downstream app's `AppConfig.ready`::

    from leadbase.scoring.hooks import on_transitions
    on_transitions(my_handler)   # my_handler(transitions: Sequence[LifecycleTransition]) -> None

Handlers run after the scoring transaction commits, with the transition rows just stored (each
has lead_id, kind, from_value, to_value, at, reason). They must be quick (enqueue a task for
real work); an exception in one is logged and does not affect the others or the scores.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.db import transaction

from leadbase.leads.models import LifecycleTransition

logger = logging.getLogger(__name__)

type TransitionsHandler = Callable[[Sequence[LifecycleTransition]], None]

_handlers: list[TransitionsHandler] = []


def on_transitions(handler: TransitionsHandler) -> TransitionsHandler:
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def forget_transitions(handler: TransitionsHandler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def _run(transitions: tuple[LifecycleTransition, ...]) -> None:
    for handler in tuple(_handlers):
        try:
            handler(transitions)
        except Exception:
            logger.exception("A transitions handler failed: %r", handler)


def transitions_recorded(transitions: Sequence[LifecycleTransition]) -> None:
    """Hand `transitions` to the handlers once the current transaction commits."""
    stored = tuple(transitions)
    if stored and _handlers:
        transaction.on_commit(lambda: _run(stored))
