"""Reading the lead notifications of Facebook / Instagram Lead Ads and LinkedIn Lead Gen Forms.

Pure functions from parsed JSON to `PlatformLead` values: which lead (its platform id), which
page/form/account it belongs to (to pick the source), its answers as (name, value) pairs,
and what to record on the `form_submitted` event. Nothing here touches the database.

Both platforms notify with ids only; the answers are fetched from their APIs with a token
(see docs/capture-webhooks.md). Leadbase reads answers sent along in the notification, in the
shape of those APIs' answers: Facebook's `field_data` ([{"name", "values"}]) in the change's
`value`, LinkedIn's `formResponse.answers` in the notification. A notification without them
is kept and reported as needing the fetch, never turned into an empty lead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

_URN_ID = re.compile(r"^urn:li:[A-Za-z]+:(\d+)$")
_LINKEDIN_FORM = re.compile(r"urn:li:leadGenForm:(\d+)")
MAX_ITEMS_PER_REQUEST = 100


class PayloadError(ValueError):
    """The body is JSON but not the shape the platform sends (`status`: 400, or 413 when it
    holds more leads than one request may)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PlatformLead:
    index: int
    external_id: str
    match_ids: frozenset[str]
    fields: tuple[tuple[str, Any], ...] | None  # None: the notification carries no answers
    occurred_at: dt.datetime | None
    properties: dict[str, Any]
    payload: dict[str, Any]
    problem: str = ""  # what is wrong with this item (it is stored as invalid)
    ignored: str = ""  # why there is nothing to do (e.g. a deletion notice)
    consent: bool | None = None  # the platform's own consent answer, when it sends one
    notes: tuple[str, ...] = field(default=())


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (str, int)):
        return str(value).strip()[:200]
    return ""


def parse_time(value: Any) -> dt.datetime | None:
    """Unix seconds, unix milliseconds, or ISO 8601 (Graph API's `2024-05-01T10:00:00+0000`);
    None for anything else or a time outside 2000-2100."""
    moment: dt.datetime | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        try:
            moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return parse_time(int(text))
        if re.search(r"[+-]\d{4}$", text):
            text = f"{text[:-2]}:{text[-2:]}"
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    if moment is None or not 2000 <= moment.year <= 2100:
        return None
    return moment


# --- Facebook ------------------------------------------------------------------------------


def _facebook_fields(value: Mapping[str, Any]) -> tuple[tuple[tuple[str, Any], ...] | None, str]:
    data = value.get("field_data")
    if data is None:
        return None, ""
    if not isinstance(data, list):
        return None, "value.field_data must be a list of {name, values} objects"
    pairs: list[tuple[str, Any]] = []
    for position, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None, f"value.field_data[{position}] must be an object with a name"
        values = item.get("values")
        pairs.append((item["name"], values if isinstance(values, list) else [values]))
    return tuple(pairs), ""


def facebook_leads(body: Any) -> tuple[list[PlatformLead], list[str]]:
    """The leadgen changes of a Lead Ads webhook body, and notes on what was skipped."""
    if not isinstance(body, dict):
        raise PayloadError('The body must be a JSON object: {"object": "page", "entry": [...]}.')
    entries = body.get("entry")
    if body.get("object") != "page" or not isinstance(entries, list):
        raise PayloadError(
            'Not a Lead Ads notification: expected {"object": "page", "entry": [...]} '
            f"(object is {_text(body.get('object')) or 'missing'})."
        )
    leads: list[PlatformLead] = []
    notes: list[str] = []
    for e, entry in enumerate(entries):
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            notes.append(f"entry[{e}] has no list of changes")
            continue
        for c, change in enumerate(changes):
            if not isinstance(change, dict) or change.get("field") != "leadgen":
                notes.append(f"entry[{e}].changes[{c}] is not a leadgen change (ignored)")
                continue
            leads.append(_facebook_lead(len(leads), entry, change, f"entry[{e}].changes[{c}]"))
    if len(leads) > MAX_ITEMS_PER_REQUEST:
        raise PayloadError(
            f"The body holds {len(leads)} leadgen changes; the limit is {MAX_ITEMS_PER_REQUEST}.",
            status=413,
        )
    return leads, notes


def _facebook_lead(
    index: int, entry: Mapping[str, Any], change: Mapping[str, Any], where: str
) -> PlatformLead:
    value = change.get("value")
    payload = {
        "object": "page",
        "entry": {k: entry.get(k) for k in ("id", "time") if k in entry},
        "change": change,
    }
    if not isinstance(value, dict):
        return PlatformLead(
            index, "", frozenset(), None, None, {}, payload, problem=f"{where}.value is missing"
        )
    leadgen_id = _text(value.get("leadgen_id"))
    page_id = _text(value.get("page_id")) or _text(entry.get("id"))
    form_id = _text(value.get("form_id"))
    fields, problem = _facebook_fields(value)
    if not leadgen_id:
        problem = f"{where}.value.leadgen_id is missing"
    properties = {
        "platform": "facebook",
        "leadgen_id": leadgen_id,
        "page_id": page_id,
        "form_id": form_id,
        "ad_id": _text(value.get("ad_id")),
        "adgroup_id": _text(value.get("adgroup_id")),
    }
    return PlatformLead(
        index=index,
        external_id=leadgen_id,
        match_ids=frozenset(i for i in (page_id, form_id) if i),
        fields=fields,
        occurred_at=parse_time(value.get("created_time")),
        properties={k: v for k, v in properties.items() if v},
        payload=payload,
        problem=problem,
    )


# --- LinkedIn ------------------------------------------------------------------------------


def _urn_ids(urn: str) -> Iterator[str]:
    if urn:
        yield urn
    if match := _URN_ID.match(urn):
        yield match.group(1)
    if match := _LINKEDIN_FORM.search(urn):
        yield f"urn:li:leadGenForm:{match.group(1)}"
        yield match.group(1)


def _linkedin_question_names(notice: Mapping[str, Any]) -> dict[str, str]:
    """questionId -> name from the form's questions, when the notification carries them
    (`questions`, or `form.content.questions` as the leadForms API returns them)."""
    questions = notice.get("questions")
    form = notice.get("form")
    if questions is None and isinstance(form, dict) and isinstance(form.get("content"), dict):
        questions = form["content"].get("questions")
    names: dict[str, str] = {}
    for question in questions if isinstance(questions, list) else []:
        if not isinstance(question, dict):
            continue
        name = _text(question.get("predefinedField")) or _text(question.get("name"))
        if (qid := _text(question.get("questionId"))) and name:
            names[qid] = name
    return names


def _linkedin_answer(details: Any) -> Any:
    if not isinstance(details, dict):
        return None
    text = details.get("textQuestionAnswer")
    if isinstance(text, dict):
        return text.get("answer")
    choice = details.get("multipleChoiceAnswer")
    if isinstance(choice, dict):
        return choice.get("options")
    return None


def _linkedin_fields(
    notice: Mapping[str, Any],
) -> tuple[tuple[tuple[str, Any], ...] | None, bool | None, str]:
    response = notice.get("formResponse")
    if response is None:
        return None, None, ""
    answers = response.get("answers") if isinstance(response, dict) else None
    if not isinstance(answers, list):
        return None, None, "formResponse.answers must be a list"
    names = _linkedin_question_names(notice)
    pairs: list[tuple[str, Any]] = []
    for position, answer in enumerate(answers):
        if not isinstance(answer, dict):
            return None, None, f"formResponse.answers[{position}] must be an object"
        qid = _text(answer.get("questionId"))
        name = (
            _text(answer.get("predefinedField"))
            or _text(answer.get("name"))
            or names.get(qid, "")
            or (f"question_{qid}" if qid else f"answer_{position}")
        )
        pairs.append((name, _linkedin_answer(answer.get("answerDetails"))))
    consents = response.get("consentResponses")
    consent: bool | None = None
    if isinstance(consents, list) and consents:
        consent = any(isinstance(c, dict) and c.get("accepted") is True for c in consents)
    return tuple(pairs), consent, ""


def linkedin_leads(body: Any) -> list[PlatformLead]:
    """The lead notifications of a LinkedIn webhook body (one object, or a list of them)."""
    notices = body if isinstance(body, list) else [body]
    if not notices or not all(isinstance(n, dict) for n in notices):
        raise PayloadError(
            "The body must be a lead notification object (or a list of them) with "
            '"leadGenFormResponse".'
        )
    if len(notices) > MAX_ITEMS_PER_REQUEST:
        raise PayloadError(
            f"The body holds {len(notices)} notifications; the limit is {MAX_ITEMS_PER_REQUEST}.",
            status=413,
        )
    return [_linkedin_lead(index, notice) for index, notice in enumerate(notices)]


def _linkedin_lead(index: int, notice: Mapping[str, Any]) -> PlatformLead:
    response_urn = _text(notice.get("leadGenFormResponse"))
    form_urn = _text(notice.get("leadGenForm")) or _text(notice.get("versionedLeadGenFormUrn"))
    owner = notice.get("owner")
    owner_urns = [_text(v) for v in owner.values()] if isinstance(owner, dict) else []
    action = _text(notice.get("leadAction")).upper() or "CREATED"
    fields, consent, problem = _linkedin_fields(notice)
    if not response_urn:
        problem = "leadGenFormResponse (the lead's id) is missing"
    match_ids = {i for urn in (form_urn, *owner_urns) for i in _urn_ids(urn)}
    properties = {
        "platform": "linkedin",
        "lead_id": response_urn,
        "form_id": form_urn,
        "owner": next((u for u in owner_urns if u), ""),
        "lead_type": _text(notice.get("leadType")),
    }
    ignored = ""
    external_id = response_urn
    if action != "CREATED" and not problem:
        ignored = f"leadAction {action[:40]}: nothing to add to Leadbase"
        external_id = f"{response_urn}#{action.lower()[:40]}"[:200]
    return PlatformLead(
        index=index,
        external_id=external_id,
        match_ids=frozenset(match_ids),
        fields=fields,
        occurred_at=parse_time(notice.get("occurredAt")),
        properties={k: v for k, v in properties.items() if v},
        payload=dict(notice),
        problem=problem,
        ignored=ignored,
        consent=consent,
    )
