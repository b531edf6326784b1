"""Scoring: rule sets (versioned), each lead's scores, classification and explanation
(docs/scoring.md). The maths is in leadbase.scoring_engine."""
