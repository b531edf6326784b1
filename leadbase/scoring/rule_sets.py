"""Rule sets as versioned data: the one in force, drafts, publish and roll back.

- `rule_set_active()` is the published version; on a database without any, the default rule set
  that ships with Leadbase (scoring_engine's default_rule_set.json) is published as version 1.
- `rule_set_draft_create` / `rule_set_draft_update` save a draft; every problem of the rules is
  reported at once (ValidationFailed with one entry per rule path) and nothing is saved then.
- `rule_set_publish` makes a version the one in force (the previous one retires) and starts the
  full recompute; publishing a retired version again is the roll back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from leadbase.accounts.models import Role, User
from leadbase.core.errors import ApplicationError, PermissionDenied, ValidationFailed
from leadbase.scoring_engine import RuleSet as EngineRules
from leadbase.scoring_engine import (
    RuleSetError,
    ScoringEngine,
    default_rule_set,
    rule_set_from_dict,
)

from .inputs import KNOWN_FIELDS
from .models import RuleSet, RuleSetStatus

EDITOR_ROLES = frozenset({Role.ADMIN, Role.MARKETER})
NAME_MAX_LENGTH = RuleSet._meta.get_field("name").max_length or 200
ACTIVE_CACHE_SECONDS = 2.0  # another process's publish is seen within this time


class NotADraft(ApplicationError):
    status = 409


def require_editor(user: User | None) -> None:
    if user is not None and not (user.is_leadbase_admin or user.role in EDITOR_ROLES):
        raise PermissionDenied("Only admins and marketers change scoring rules.")


def parse_rules(definition: Any) -> EngineRules:
    """The engine's rule set, or ValidationFailed naming every problem."""
    problems: list[str] = []
    name = definition.get("name") if isinstance(definition, Mapping) else None
    if isinstance(name, str) and len(name) > NAME_MAX_LENGTH:
        problems.append(f"name: is {len(name)} characters long; the limit is {NAME_MAX_LENGTH}")
    try:
        rules = rule_set_from_dict(definition, known_fields=KNOWN_FIELDS)
    except RuleSetError as exc:
        problems = [*problems, *exc.problems]
    if problems:
        fields: dict[str, str] = {}
        for problem in problems:
            path, _, message = problem.partition(": ")
            if not message:
                path, message = "definition", problem
            fields[path] = f"{fields[path]}; {message}" if path in fields else message
        count = len(problems)
        summary = "; ".join(problems[:5]) + (f" (and {count - 5} more)" if count > 5 else "")
        raise ValidationFailed(
            f"The rule set has {count} problem{'s' if count != 1 else ''}: {summary}. "
            "Correct them and save again.",
            fields=fields,
        )
    return rules


_engines: dict[tuple[int, str], ScoringEngine] = {}
_active: dict[str, tuple[float, RuleSet]] = {}
_lock = threading.Lock()


def engine_for(rule_set: RuleSet) -> ScoringEngine:
    """One engine per (version, content), kept per process."""
    key = (rule_set.pk, str(rule_set.updated_at))
    engine = _engines.get(key)
    if engine is None:
        engine = ScoringEngine(parse_rules(rule_set.definition))
        with _lock:
            if len(_engines) > 16:
                _engines.clear()
            _engines[key] = engine
    return engine


def _next_version() -> int:
    return int(RuleSet.objects.aggregate(top=Max("version"))["top"] or 0) + 1


def rule_set_active(*, fresh: bool = False) -> RuleSet:
    """The published rule set (the shipped default, published, on a database without one)."""
    cached = _active.get("active")
    if not fresh and cached and time.monotonic() - cached[0] < ACTIVE_CACHE_SECONDS:
        return cached[1]
    found = RuleSet.objects.filter(status=RuleSetStatus.PUBLISHED).first()
    if found is None:
        found = _publish_default()
    _active["active"] = (time.monotonic(), found)
    return found


def active_forget() -> None:
    _active.clear()


def _publish_default() -> RuleSet:
    rules = default_rule_set()
    try:
        with transaction.atomic():
            return RuleSet.objects.create(
                version=_next_version(),
                name=rules.name,
                status=RuleSetStatus.PUBLISHED,
                definition=rules.to_dict(),
                note="The default rule set that ships with Leadbase.",
                published_at=timezone.now(),
            )
    except IntegrityError:  # another process published it first
        return RuleSet.objects.get(status=RuleSetStatus.PUBLISHED)


def rule_set_draft_create(
    *, actor: User | None, definition: Mapping[str, Any] | None = None, note: str = ""
) -> RuleSet:
    """A new draft: `definition`, or a copy of the rule set in force."""
    require_editor(actor)
    data = dict(definition) if definition is not None else dict(rule_set_active().definition)
    data["version"] = _next_version()  # the number is the server's (set again when saved)
    rules = parse_rules(data)
    for attempt in range(3):
        try:
            with transaction.atomic():
                version = _next_version()
                data["version"] = version
                return RuleSet.objects.create(
                    version=version,
                    name=rules.name,
                    definition=data,
                    note=note,
                    created_by=actor,
                )
        except IntegrityError:  # two drafts took the same number: take the next one
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def rule_set_draft_update(
    *, rule_set: RuleSet, actor: User | None, definition: Mapping[str, Any], note: str | None = None
) -> RuleSet:
    require_editor(actor)
    if rule_set.status != RuleSetStatus.DRAFT:
        raise NotADraft(
            f"Version {rule_set.version} is {rule_set.get_status_display().lower()}: only "
            "drafts are edited. Make a new draft from it instead."
        )
    data = dict(definition)
    data["version"] = rule_set.version
    rules = parse_rules(data)
    rule_set.definition, rule_set.name = data, rules.name
    if note is not None:
        rule_set.note = note
    rule_set.save(update_fields=["definition", "name", "note", "updated_at"])
    return rule_set


def rule_set_publish(*, rule_set: RuleSet, actor: User | None) -> RuleSet:
    """Put `rule_set` in force (a draft, or a retired version: a roll back). The scores are
    recomputed by the publish job the caller starts (services.publish_start)."""
    require_editor(actor)
    parse_rules(rule_set.definition)
    with transaction.atomic():
        locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        if locked.status == RuleSetStatus.PUBLISHED:
            return locked
        RuleSet.objects.filter(status=RuleSetStatus.PUBLISHED).update(
            status=RuleSetStatus.RETIRED, updated_at=timezone.now()
        )
        locked.status = RuleSetStatus.PUBLISHED
        locked.published_at, locked.published_by = timezone.now(), actor
        locked.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    active_forget()
    return locked


def rule_set_delete(*, rule_set: RuleSet, actor: User | None) -> None:
    require_editor(actor)
    if rule_set.status != RuleSetStatus.DRAFT:
        raise NotADraft("Only drafts are deleted; published versions stay for the record.")
    rule_set.delete()
