"""Rule sets (versioned data) and each lead's incremental scoring state.

The scores themselves live on the lead (`fit_score`, `engagement_score`, `total_score`,
`fit_grade`, `temperature`, `qualification`, `is_prospect`), where lists filter and sort them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from leadbase.core.models import TimeStampedModel
from leadbase.leads.models import Lead


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"  # the one in force
    RETIRED = "retired", "Retired"  # was published; can be published again (roll back)


class RuleSet(TimeStampedModel):
    """One version of the scoring rules: fit rules, engagement rules and thresholds as data
    (the shape leadbase.scoring_engine.rule_set_from_dict reads). Only drafts are edited; at
    most one version is published."""

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=RuleSetStatus.choices, default=RuleSetStatus.DRAFT
    )
    definition = models.JSONField()
    note = models.TextField(blank=True, help_text="What changed and why.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="published"),
                name="ruleset_one_published",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name} ({self.status})"


class LeadScoreState(models.Model):
    """A lead's engagement state under one rule set (scoring_engine.EngagementState as JSON)
    and the last event folded into it: the next events are applied in O(1) each."""

    lead = models.OneToOneField(
        Lead, primary_key=True, on_delete=models.CASCADE, related_name="score_state"
    )
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="+")
    state = models.JSONField()
    last_event_id = models.BigIntegerField(default=0)
    scored_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"score state of lead {self.lead_id}"


class JobKind(models.TextChoices):
    PREVIEW = "preview", "Preview"
    PUBLISH = "publish", "Publish"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ScoringJob(TimeStampedModel):
    """A preview or a publish (full recompute) of a rule set, run in the background with its
    progress; a preview's result (who would move where) is kept in `result`."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} of {self.rule_set} ({self.status})"


class ModelStatus(models.TextChoices):
    TRAINING = "training", "Training"
    READY = "ready", "Ready"  # trained, not in use (did not beat the active one, or --no-activate)
    ACTIVE = "active", "Active"  # the one predicting: at most one
    RETIRED = "retired", "Retired"  # was active; can be activated again (roll back)
    FAILED = "failed", "Failed"  # training failed (too little data, an error): see `error`


class PredictiveModel(TimeStampedModel):
    """One trained version of the conversion-probability model (leadbase.scoring.predictive):
    the artefact (skops bytes, never pickle), its metrics on the validation rows, the charts of
    its page, and what it was trained on. At most one version is active."""

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.TRAINING
    )
    kind = models.CharField(max_length=32, blank=True, help_text="gbm, logistic, naive_bayes...")
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    artefact = models.BinaryField(null=True, blank=True, editable=False)
    artefact_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    metrics = models.JSONField(default=dict, blank=True)
    charts = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    validation = models.TextField(blank=True, help_text="How the metrics were measured.")
    seed = models.IntegerField(default=0)
    error = models.TextField(blank=True)
    activation_note = models.TextField(blank=True, help_text="Why it was (not) activated.")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_step = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active"),
                name="predictivemodel_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"model v{self.version} ({self.status})"
