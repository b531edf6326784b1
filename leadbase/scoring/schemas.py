"""Request and response shapes of the scoring API (leadbase.scoring.api).

A rule set's `definition` is checked by the scoring engine, not here: the schemas only say it
is a JSON object, so that every problem of the rules is reported at once, by rule path
(`errors` of the 422), instead of pydantic stopping at the first wrong type.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

MAX_NOTE = 5_000

EXAMPLE_DEFINITION: dict[str, Any] = {
    "format": 1,
    "name": "Mid-market focus",
    "fit_rules": [
        {
            "id": "decision_maker",
            "label": "decision maker (C-level, owner, VP)",
            "when": {"field": "seniority", "op": "in", "value": ["c_level", "owner", "vp"]},
            "points": 25,
        },
        {
            "id": "personal_email",
            "label": "personal email address",
            "when": {"field": "email_domain", "op": "in", "value": ["gmail.com", "yahoo.com"]},
            "points": -15,
        },
    ],
    "engagement": {"half_life_days": 30, "max": 100, "late_window_days": 3},
    "engagement_rules": [
        {
            "id": "demo_request",
            "label": "demo request",
            "event": "demo_request",
            "points": 25,
            "cap": 50,
        },
        {
            "id": "pricing_page_view",
            "label": "pricing page view",
            "event": "pricing_page_view",
            "points": 10,
            "half_life_days": 14,
            "daily_cap": 10,
            "cap": 30,
        },
    ],
    "weights": {"fit": 0.5, "engagement": 0.5},
    "thresholds": {
        "grade": {"A": 75, "B": 50, "C": 25},
        "prospect_fit": 60,
        "temperature": {"warm": {"engagement": 20}, "hot": {"engagement": 50}},
        "qualification": {
            "iql": {"engagement": 5},
            "mql": {"fit": 50, "engagement": 30},
            "sql": {"fit": 60, "engagement": 60, "probability": 0.5},
        },
        "margin": {"fit": 5, "engagement": 5, "probability": 0.05},
    },
}
_DEFINITION_HELP = (
    "The rules as data (docs/scoring-engine.md): fit rules, engagement rules, weights and "
    "thresholds. The version number is the server's: a `version` sent here is ignored."
)


# --- Rule sets -----------------------------------------------------------------------------


class UserRef(Schema):
    id: int
    username: str


class RuleSetSummaryOut(Schema):
    id: int
    version: int = Field(description="Numbered 1, 2, 3, ... in order of creation.")
    name: str = Field(description="From the definition's `name`.")
    status: Literal["draft", "published", "retired"] = Field(
        description="draft (editable), published (the one in force; exactly one), retired "
        "(was in force; publish it again to roll back)."
    )
    note: str = Field(description="What changed and why.")
    created_by: UserRef | None
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None = Field(description="When it was last put in force.")
    published_by: UserRef | None
    url: str


class RuleSetOut(RuleSetSummaryOut):
    definition: dict[str, Any] = Field(description=_DEFINITION_HELP, examples=[EXAMPLE_DEFINITION])


class RuleSetList(Schema):
    items: list[RuleSetSummaryOut] = Field(description="Newest version first.")


class RuleSetCreate(Schema):
    """A new draft: the definition given, or (without one) a copy of the rules in force."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"note": "Start from the rules in force"},
                {"definition": EXAMPLE_DEFINITION, "note": "Demo requests count more"},
            ]
        },
    )

    definition: dict[str, Any] | None = Field(
        None, description=f"{_DEFINITION_HELP} Leave out to copy the rules in force."
    )
    note: str = Field("", max_length=MAX_NOTE, description="What changes and why.")


class RuleSetReplace(Schema):
    """PUT: the draft's whole definition (and its note, when given)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"definition": EXAMPLE_DEFINITION, "note": "Hot from 60 engagement"}]
        },
    )

    definition: dict[str, Any] = Field(description=_DEFINITION_HELP)
    note: str | None = Field(None, max_length=MAX_NOTE, description="Left unchanged if absent.")


class RuleSetPatch(Schema):
    """PATCH: the fields given replace the draft's (the definition as a whole)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "Reviewed with sales on Monday"}]},
    )

    definition: dict[str, Any] | None = Field(None, description=_DEFINITION_HELP)
    note: str | None = Field(None, max_length=MAX_NOTE)


# --- Jobs ----------------------------------------------------------------------------------


class RuleSetRef(Schema):
    id: int
    version: int
    name: str


class ScoringJobOut(Schema):
    id: int
    kind: Literal["preview", "publish"]
    status: Literal["queued", "running", "done", "failed"]
    rule_set: RuleSetRef
    done: int = Field(description="Leads processed so far (progress: done / total).")
    total: int = Field(description="Leads to process; 0 until the job has started.")
    result: dict[str, Any] = Field(
        description="When done. A preview: `leads` (how many were scored), `at`, `moves` "
        "(per kind - temperature, qualification, prospect - a list of {from, to, leads, "
        "examples: [lead ids]}), `grades` ({grade: leads}) and `mean_total_change`. A "
        'publish: {"leads": N}.',
        examples=[
            {
                "leads": 1200,
                "at": "2026-11-26T15:00:00+00:00",
                "moves": {
                    "temperature": [{"from": "cold", "to": "warm", "leads": 42, "examples": [7]}]
                },
                "grades": {"A": 80, "B": 300, "C": 500, "D": 320},
                "mean_total_change": 1.75,
            }
        ],
    )
    error: str = Field(description="Why a failed job failed.")
    created_at: dt.datetime
    finished_at: dt.datetime | None
    url: str


# --- A lead's score explained ----------------------------------------------------------------


class FitLineOut(Schema):
    rule_id: str
    label: str
    points: float
    text: str = Field(examples=["+25 decision maker (C-level, owner, VP)"])


class RuleLineOut(Schema):
    rule_id: str
    label: str
    events: int = Field(description="Events that matched the rule.")
    now: float = Field(description="The rule's points now (decayed, capped).")
    capped: bool = Field(description="The rule's cap was reached.")
    day_capped: bool = Field(description="A daily cap cut some events' points.")
    text: str = Field(examples=["+19 demo request: 1 event"])


class EventLineOut(Schema):
    rule_id: str
    label: str
    event_type: str
    ref: int | str | None = Field(description="The event's id.")
    at: dt.datetime = Field(description="When the event happened.")
    age_seconds: float
    points: float = Field(description="The rule's points for it.")
    counted: float = Field(description="The points after the daily cap.")
    now: float = Field(description="What it adds now, after decay and the rule's cap.")
    text: str = Field(examples=["+25 demo request, 3 days ago, decayed to 23.3"])


class FactorOut(Schema):
    feature: str
    label: str = Field(examples=["Visits to the pricing page in the last 7 days"])
    value: str = Field(examples=["3"])
    delta: float = Field(description="Change of probability this value causes (0.12: +12 points).")
    text: str = Field(
        examples=["Visits to the pricing page in the last 7 days = 3: +12 points of probability"]
    )


class PredictionOut(Schema):
    probability: float = Field(description="Predicted chance of converting, 0-1, computed now.")
    model_version: int
    factors: list[FactorOut] = Field(description="The top factors, largest effect first.")


class ScoreExplanationOut(Schema):
    lead_id: int
    fit: float = Field(description="Fit score now (0-100).")
    engagement: float = Field(description="Engagement score now (decayed to `at`).")
    total: float = Field(description="The weighted total of fit and engagement.")
    grade: str = Field(description="Fit grade, A (best) to D.")
    fit_raw: float = Field(description="The fit points before clamping to 0-100.")
    engagement_raw: float = Field(description="The engagement points before clamping.")
    fit_lines: list[FitLineOut] = Field(description="Each fit rule that matched.")
    rule_lines: list[RuleLineOut] = Field(description="Each engagement rule with events.")
    event_lines: list[EventLineOut] = Field(description="Each counted event, newest first.")
    rule_set: RuleSetRef = Field(description="The rule set in force, which computed this.")
    temperature: str = Field(description="As stored on the lead (cold, warm, hot).")
    qualification: str = Field(description='As stored on the lead (iql, mql, sql or "").')
    is_prospect: bool
    at: dt.datetime = Field(description="When this explanation was computed.")
    prediction: PredictionOut | None = Field(
        None,
        description="The active predictive model's probability and its top factors; "
        "null when no model is active.",
    )
