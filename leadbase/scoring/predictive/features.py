"""A lead's features AS OF a cut-off time, for many leads at once (a few queries + numpy).

Two kinds of columns:

- the lead's and its company's fields that say who the lead is and where it came from
  (seniority, department, country, source channel, UTM source/medium/campaign, the campaign's
  channel, industry, employee count, revenue, personal or business email, has a phone, has a
  company, was referred). Never what encodes the outcome or is derived from it: lifecycle
  stage, sales status, owner, scores, temperature, qualification, the `became_*` times.
- engagement from the lead's events that happened strictly before the cut-off: per event type
  the count in the last 7, 30 and 90 days and in all; all events in the last 30 and 90 days;
  days since the last event, days since first seen; and a decayed engagement (each event worth
  2^(-age / 30 days)).

The event types with columns are fixed per model version (`FeatureSpec`, stored with the
version), so that a version predicts with exactly the columns it was trained on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import Count

from leadbase.core.fastinsert import in_values
from leadbase.leads.freemail import is_personal_domain
from leadbase.leads.models import Event, Lead

Table = dict[str, list[Any]]
Floats = npt.NDArray[np.float64]

DAY = 86_400.0
WINDOWS_DAYS: tuple[int, ...] = (7, 30, 90)
HALF_LIFE_DAYS = 30.0
MAX_EVENT_TYPES = 16
CHUNK = 5_000
# Events Leadbase records itself when a lead is created: they say when it was first seen,
# nothing about interest.
SYSTEM_PREFIXES = ("lead_", "leadbase_")

LEAD_COLUMNS = (
    "pk",
    "email",
    "phone",
    "seniority",
    "department",
    "country",
    "source_channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "campaign__channel",
    "company_id",
    "company__industry",
    "company__employee_count",
    "company__annual_revenue",
    "company__country",
    "referred_by_id",
    "created_at",
)

FIELD_LABELS: dict[str, str] = {
    "seniority": "Seniority",
    "department": "Department",
    "country": "Country",
    "source_channel": "Source channel",
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "campaign_channel": "Campaign channel",
    "industry": "Industry",
    "email_kind": "Email address (personal or business)",
    "employee_count": "Company size (employees)",
    "annual_revenue": "Company annual revenue",
    "has_phone": "Gave a phone number",
    "has_company": "Company known",
    "referred": "Referred by another lead",
    "events_30d": "Events of any kind in the last 30 days",
    "events_90d": "Events of any kind in the last 90 days",
    "days_since_last_event": "Days since the last activity",
    "days_since_first_seen": "Days since first seen",
    "decayed_engagement": "Recent activity (each event fading by half every 30 days)",
}
FIELD_KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "seniority",
            "department",
            "country",
            "source_channel",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "campaign_channel",
            "industry",
            "email_kind",
        ),
        "categorical",
    ),
    **dict.fromkeys(("has_phone", "has_company", "referred"), "boolean"),
}
# Plural phrases for the event types Leadbase knows (the tracking catalogue's types).
EVENT_PHRASES: dict[str, str] = {
    "page_view": "Page views",
    "pricing_page_view": "Visits to the pricing page",
    "content_download": "Content downloads",
    "webinar_registered": "Webinar registrations",
    "webinar_attended": "Webinars attended",
    "demo_request": "Demo requests",
    "quote_request": "Quote requests",
    "trial_signup": "Free-trial sign-ups",
    "form_submitted": "Forms submitted",
    "email_opened": "Emails opened",
    "email_clicked": "Email clicks",
    "social_engagement": "Social engagements",
    "referral_made": "Referrals made",
    "unsubscribed": "Unsubscribes",
    "email_bounced": "Email bounces",
}


def event_phrase(kind: str) -> str:
    return EVENT_PHRASES.get(kind, f"“{kind}” events")


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns a model version uses (stored in its summary as `spec`)."""

    event_types: tuple[str, ...]
    windows: tuple[int, ...] = WINDOWS_DAYS
    half_life_days: float = HALF_LIFE_DAYS

    def event_columns(self) -> list[tuple[str, str, int | None]]:
        """(column, event type, window in days or None for all) per event-type column."""
        out: list[tuple[str, str, int | None]] = []
        for kind in self.event_types:
            out += [(f"{kind}_{w}d", kind, w) for w in self.windows]
            out.append((f"{kind}_all", kind, None))
        return out

    def columns(self) -> list[str]:
        return [
            *FIELD_LABELS.keys(),
            *(name for name, _, _ in self.event_columns()),
        ]

    def kinds(self) -> dict[str, str]:
        return {name: FIELD_KINDS.get(name, "numeric") for name in self.columns()}

    def labels(self) -> dict[str, str]:
        labels = dict(FIELD_LABELS)
        for name, kind, window in self.event_columns():
            when = f" in the last {window} days" if window else ", ever"
            labels[name] = f"{event_phrase(kind)}{when}"
        return labels

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_types": list(self.event_types),
            "windows": list(self.windows),
            "half_life_days": self.half_life_days,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(
            event_types=tuple(str(t) for t in data.get("event_types", ())),
            windows=tuple(int(w) for w in data.get("windows", WINDOWS_DAYS)),
            half_life_days=float(data.get("half_life_days", HALF_LIFE_DAYS)),
        )


def spec_from_data(lead_ids: Sequence[int] | None = None) -> FeatureSpec:
    """The most frequent event types of leads (all, or these), at most MAX_EVENT_TYPES."""
    events = Event.objects.filter(lead__isnull=False)
    if lead_ids is not None:
        events = events.filter(lead_id__in=in_values(Event, "lead_id", list(lead_ids)))
    for prefix in SYSTEM_PREFIXES:
        events = events.exclude(type__startswith=prefix)
    top = events.values("type").annotate(n=Count("id")).order_by("-n", "type")[:MAX_EVENT_TYPES]
    return FeatureSpec(event_types=tuple(sorted(row["type"] for row in top)))


def _text(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return text or None


def _email_kind(email: str) -> str | None:
    domain = (email or "").rpartition("@")[2]
    if not domain:
        return None
    return "personal" if is_personal_domain(domain) else "business"


def _field_columns(rows: Sequence[dict[str, Any]]) -> Table:
    def num(value: Any) -> float | None:
        return None if value is None else float(value)

    return {
        "seniority": [_text(r["seniority"]) for r in rows],
        "department": [_text(r["department"]) for r in rows],
        "country": [_text(r["country"] or r["company__country"]) for r in rows],
        "source_channel": [_text(r["source_channel"]) for r in rows],
        "utm_source": [_text(r["utm_source"]) for r in rows],
        "utm_medium": [_text(r["utm_medium"]) for r in rows],
        "utm_campaign": [_text(r["utm_campaign"]) for r in rows],
        "campaign_channel": [_text(r["campaign__channel"]) for r in rows],
        "industry": [_text(r["company__industry"]) for r in rows],
        "email_kind": [_email_kind(r["email"]) for r in rows],
        "employee_count": [num(r["company__employee_count"]) for r in rows],
        "annual_revenue": [num(r["company__annual_revenue"]) for r in rows],
        "has_phone": [bool(r["phone"]) for r in rows],
        "has_company": [r["company_id"] is not None for r in rows],
        "referred": [r["referred_by_id"] is not None for r in rows],
    }


def _event_arrays(
    ids: Sequence[int], index: dict[int, int], until: float, kinds: dict[str, int]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Floats, npt.NDArray[np.bool_]]:
    """(lead position, type index or -1, time, system event?) of these leads' events before
    `until` (the latest cut-off of the chunk; each lead's own cut-off is applied later)."""
    events = Event.objects.filter(
        lead_id__in=in_values(Event, "lead_id", list(ids)),
        occurred_at__lt=dt.datetime.fromtimestamp(until, tz=dt.UTC),
    ).values_list("lead_id", "type", "occurred_at")
    lead: list[int] = []
    kind: list[int] = []
    system: list[bool] = []
    times: list[float] = []
    for lead_id, name, at in events.iterator(chunk_size=10_000):
        lead.append(index[lead_id])
        kind.append(kinds.get(name, -1))
        system.append(name.startswith(SYSTEM_PREFIXES))
        times.append(at.timestamp())
    return (
        np.asarray(lead, dtype=np.int64),
        np.asarray(kind, dtype=np.int64),
        np.asarray(times, dtype=np.float64),
        np.asarray(system, dtype=np.bool_),
    )


def _engagement_columns(
    spec: FeatureSpec,
    cutoffs: Floats,
    created: Floats,
    lead: npt.NDArray[np.int64],
    kind: npt.NDArray[np.int64],
    times: Floats,
    system: npt.NDArray[np.bool_],
) -> dict[str, Floats]:
    n = len(cutoffs)
    before = times < cutoffs[lead]  # strictly before each lead's own cut-off
    lead, kind, times, system = lead[before], kind[before], times[before], system[before]
    age_days = (cutoffs[lead] - times) / DAY
    k = len(spec.event_types)
    out: dict[str, Floats] = {}
    counted = kind >= 0
    cell = lead[counted] * max(k, 1) + kind[counted]
    ages = age_days[counted]
    for window in (*spec.windows, None):
        inside = ages < window if window is not None else np.ones(len(ages), dtype=np.bool_)
        counts = np.bincount(cell[inside], minlength=n * max(k, 1)).reshape(n, max(k, 1))
        for j, name in enumerate(spec.event_types):
            column = f"{name}_{window}d" if window is not None else f"{name}_all"
            out[column] = counts[:, j].astype(np.float64)
    activity = ~system
    act_lead, act_age = lead[activity], age_days[activity]
    out["events_30d"] = np.bincount(act_lead[act_age < 30], minlength=n).astype(np.float64)
    out["events_90d"] = np.bincount(act_lead[act_age < 90], minlength=n).astype(np.float64)
    last_age = np.full(n, np.inf)
    np.minimum.at(last_age, act_lead, act_age)
    out["days_since_last_event"] = np.where(np.isfinite(last_age), last_age, np.nan)
    first = np.minimum(created, cutoffs)
    np.minimum.at(first, lead, times)
    out["days_since_first_seen"] = (cutoffs - first) / DAY
    decay = np.exp2(-act_age / spec.half_life_days)
    out["decayed_engagement"] = np.bincount(act_lead, weights=decay, minlength=n)
    return out


def feature_table(
    *, lead_ids: Sequence[int], cutoffs: Floats, spec: FeatureSpec
) -> tuple[Table, list[int]]:
    """The features of these leads, each as of its cut-off (POSIX seconds): only events that
    happened strictly before it count. Returns (table, the lead ids found, in table order);
    deleted leads are left out."""
    columns = spec.columns()
    table: Table = {name: [] for name in columns}
    found: list[int] = []
    kinds = {name: j for j, name in enumerate(spec.event_types)}
    cutoff_of = dict(zip((int(i) for i in lead_ids), cutoffs.tolist(), strict=True))
    ordered = sorted(cutoff_of)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        rows = list(
            Lead.objects.filter(pk__in=in_values(Lead, "id", chunk))
            .order_by("pk")
            .values(*LEAD_COLUMNS)
        )
        ids = [int(r["pk"]) for r in rows]
        if not ids:
            continue
        index = {pk: i for i, pk in enumerate(ids)}
        chunk_cutoffs = np.asarray([cutoff_of[pk] for pk in ids], dtype=np.float64)
        created = np.asarray([r["created_at"].timestamp() for r in rows], dtype=np.float64)
        lead, kind, times, system = _event_arrays(ids, index, float(chunk_cutoffs.max()), kinds)
        for name, values in _field_columns(rows).items():
            table[name] += values
        engagement = _engagement_columns(spec, chunk_cutoffs, created, lead, kind, times, system)
        for name, array in engagement.items():
            table[name] += [None if np.isnan(v) else float(v) for v in array.tolist()]
        found += ids
    return table, found


def as_of(at: dt.datetime, count: int) -> Floats:
    """The same cut-off for `count` leads (predicting now)."""
    return np.full(count, at.timestamp(), dtype=np.float64)
