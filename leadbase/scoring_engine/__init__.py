"""The scoring maths (rules, decay, classification, explanation).

Pure Python + numpy: this package never imports Django (an import-linter contract in
pyproject.toml checks it). The Django side (`scoring` app) loads rule sets and leads, calls
into here through `ScoringEngine`, and writes the results back. See docs/scoring-engine.md.
"""

from leadbase.scoring_engine.classify import (
    Change,
    Classification,
    ClassificationResult,
    Scores,
    classify,
)
from leadbase.scoring_engine.engagement import EventIn, PropertyTable
from leadbase.scoring_engine.engine import ScoringEngine
from leadbase.scoring_engine.explain import EventLine, FitLine, LeadScore, RuleLine
from leadbase.scoring_engine.fit import FitResult
from leadbase.scoring_engine.recompute import EngagementArrays
from leadbase.scoring_engine.rules import (
    QUALIFICATIONS,
    TEMPERATURES,
    EngagementRule,
    FitRule,
    RuleSet,
    RuleSetError,
    default_rule_set,
    rule_set_from_dict,
)
from leadbase.scoring_engine.state import EngagementState, StateRebuildNeeded

__all__ = [
    "QUALIFICATIONS",
    "TEMPERATURES",
    "Change",
    "Classification",
    "ClassificationResult",
    "EngagementArrays",
    "EngagementRule",
    "EngagementState",
    "EventIn",
    "EventLine",
    "FitLine",
    "FitResult",
    "FitRule",
    "LeadScore",
    "PropertyTable",
    "RuleLine",
    "RuleSet",
    "RuleSetError",
    "Scores",
    "ScoringEngine",
    "StateRebuildNeeded",
    "classify",
    "default_rule_set",
    "rule_set_from_dict",
]
