from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from leadbase.core.models import TimeStampedModel


class Channel(models.TextChoices):
    ORGANIC_SEARCH = "organic_search", "Organic search"
    PAID_SEARCH = "paid_search", "Paid search"
    ORGANIC_SOCIAL = "organic_social", "Organic social"
    PAID_SOCIAL = "paid_social", "Paid social"
    EMAIL = "email", "Email"
    REFERRAL = "referral", "Referral"
    DIRECT = "direct", "Direct"
    EVENT = "event", "Event"
    PARTNER = "partner", "Partner"
    IMPORT = "import", "Import"
    API = "api", "API"
    OTHER = "other", "Other"


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber", "Subscriber"
    LEAD = "lead", "Lead"
    MQL = "mql", "MQL"
    SQL = "sql", "SQL"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    ADVOCATE = "advocate", "Advocate"
    DISQUALIFIED = "disqualified", "Disqualified"
    RECYCLED = "recycled", "Recycled"


# The field on Lead that records when a lead first reached each stage.
STAGE_TIMESTAMP_FIELD: dict[str, str] = {
    stage: f"became_{stage}_at" for stage in LifecycleStage.values if stage != "recycled"
}


class SalesStatus(models.TextChoices):
    NEW = "new", "New"
    ATTEMPTING = "attempting", "Attempting contact"
    CONNECTED = "connected", "Connected"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    UNQUALIFIED = "unqualified", "Unqualified"


class Temperature(models.TextChoices):
    COLD = "cold", "Cold"
    WARM = "warm", "Warm"
    HOT = "hot", "Hot"


class Qualification(models.TextChoices):
    NONE = "", "Not qualified"
    IQL = "iql", "IQL"
    MQL = "mql", "MQL"
    SQL = "sql", "SQL"


class Seniority(models.TextChoices):
    UNKNOWN = "", "Unknown"
    ENTRY = "entry", "Entry"
    SENIOR = "senior", "Senior"
    MANAGER = "manager", "Manager"
    DIRECTOR = "director", "Director"
    VP = "vp", "VP"
    C_LEVEL = "c_level", "C-level"
    OWNER = "owner", "Owner"


class Company(TimeStampedModel):
    name = models.CharField(max_length=200, blank=True)
    domain = models.CharField(
        max_length=253, blank=True, help_text="Normalised: lower case, no www."
    )
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=~Q(domain=""), name="company_domain_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.domain or f"Company {self.pk}"


class Campaign(TimeStampedModel):
    name = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=32, choices=Channel.choices, default=Channel.OTHER)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True, db_index=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "name"]

    def __str__(self) -> str:
        return self.name


class LeadQuerySet(models.QuerySet["Lead"]):
    def active(self) -> LeadQuerySet:
        return self.filter(archived=False)


class Lead(TimeStampedModel):
    # Contact
    email = models.CharField(max_length=254, blank=True, help_text="Normalised: lower case.")
    phone = models.CharField(max_length=20, blank=True, db_index=True, help_text="E.164")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    seniority = models.CharField(max_length=16, choices=Seniority.choices, blank=True)
    department = models.CharField(max_length=100, blank=True)
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,  # lead_company_name_idx (company, name_key) serves lookups by company
    )
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)

    # Attribution (first touch)
    source_channel = models.CharField(max_length=32, choices=Channel.choices, blank=True)
    source_detail = models.CharField(max_length=200, blank=True, help_text="Form, hook, file, ...")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    landing_page = models.URLField(max_length=2000, blank=True)
    referrer_url = models.URLField(max_length=2000, blank=True)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )

    # Sales
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.LEAD
    )
    sales_status = models.CharField(
        max_length=16, choices=SalesStatus.choices, default=SalesStatus.NEW
    )
    temperature = models.CharField(
        max_length=8, choices=Temperature.choices, default=Temperature.COLD
    )
    qualification = models.CharField(
        max_length=8, choices=Qualification.choices, blank=True, default=Qualification.NONE
    )

    # Scores (derived data: recomputable from rules + events + fields)
    fit_score = models.FloatField(default=0)
    fit_grade = models.CharField(
        max_length=1, blank=True, default="", help_text="A-D; blank: not scored"
    )
    engagement_score = models.FloatField(default=0)
    total_score = models.FloatField(default=0)
    # Fit reaches the ideal-customer threshold of the rule set in force.
    is_prospect = models.BooleanField(default=False)
    predicted_probability = models.FloatField(null=True, blank=True)

    # When the lead first reached each stage
    became_subscriber_at = models.DateTimeField(null=True, blank=True)
    became_lead_at = models.DateTimeField(null=True, blank=True)
    became_mql_at = models.DateTimeField(null=True, blank=True)
    became_sql_at = models.DateTimeField(null=True, blank=True)
    became_opportunity_at = models.DateTimeField(null=True, blank=True)
    became_customer_at = models.DateTimeField(null=True, blank=True)
    became_advocate_at = models.DateTimeField(null=True, blank=True)
    became_disqualified_at = models.DateTimeField(null=True, blank=True)

    last_activity_at = models.DateTimeField(default=timezone.now, help_text="Creation at least")
    archived = models.BooleanField(default=False)
    attributes = models.JSONField(default=dict, blank=True, help_text="Custom attributes")
    # Lower-cased "name email company" kept by lead_upsert, so search is one indexed column.
    search_text = models.CharField(max_length=700, blank=True, editable=False)
    # merge_rules.name_key_for(first_name, last_name), kept wherever search_text is: what
    # same-name duplicate suggestions compare, indexed per company. 601 = two names of 100
    # characters case-folded (at most 3 characters each) and the tab between them.
    name_key = models.CharField(max_length=601, blank=True, editable=False)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="lead_email_unique"
            )
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="lead_owner_idx"),
            models.Index(fields=["lifecycle_stage", "-id"], name="lead_stage_idx"),
            models.Index(fields=["temperature", "-id"], name="lead_temperature_idx"),
            models.Index(fields=["source_channel", "-id"], name="lead_source_idx"),
            models.Index(fields=["-total_score", "-id"], name="lead_score_idx"),
            # The list's sorts by fit and by engagement, and its grade filter.
            models.Index(fields=["-fit_score", "-id"], name="lead_fit_idx"),
            models.Index(fields=["-engagement_score", "-id"], name="lead_engagement_idx"),
            models.Index(fields=["fit_grade", "-id"], name="lead_grade_idx"),
            models.Index(fields=["-last_activity_at", "-id"], name="lead_activity_idx"),
            # Same-name duplicate suggestions; also every lookup by company alone.
            models.Index(fields=["company", "name_key"], name="lead_company_name_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or f"Lead {self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("leads:detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Visitor(models.Model):
    """A browser known by the first-party id the tracking snippet keeps in its cookie. Events
    of a visitor who has not identified yet are stored with the visitor id and no lead; when the
    visitor identifies (a form, the API), the visitor is linked to the lead and those events
    are attached to it (`leads.events.visitor_identify`)."""

    visitor_id = models.CharField(max_length=64, unique=True)
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="visitors"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    identified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["lead"], name="visitor_lead_idx")]

    def __str__(self) -> str:
        return f"visitor {self.visitor_id}"


class Event(models.Model):
    """One timestamped thing a lead (or a visitor not identified yet) did. Append-only: rows
    are never edited after insert, except that merging two leads re-points events to the
    surviving lead and a visitor identifying attaches its events to the lead."""

    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    # The tracking visitor id the event came with (kept after the visitor identifies), and the
    # sender's own id of the event (a second event with the same id is a resend, not stored).
    # NULL, not "", when absent: batch writers that do not name these columns leave them NULL,
    # and the unique constraint and the partial index only hold the rows that have one.
    visitor_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    client_event_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="event_lead_time_idx"),
            models.Index(
                fields=["visitor_id"],
                condition=Q(lead__isnull=True),
                name="event_anonymous_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client_event_id"],
                condition=Q(client_event_id__isnull=False),
                name="event_client_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(lead__isnull=False) | Q(visitor_id__isnull=False),
                name="event_lead_or_visitor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Events are append-only; create a new event instead of editing one.")
        super().save(*args, **kwargs)


class TransitionKind(models.TextChoices):
    STAGE = "stage", "Lifecycle stage"
    QUALIFICATION = "qualification", "Qualification"
    TEMPERATURE = "temperature", "Temperature"
    SALES_STATUS = "sales_status", "Sales status"
    PROSPECT = "prospect", "Prospect (fits the ideal customer profile)"


class LifecycleTransition(models.Model):
    """A change of stage, qualification or temperature: funnels are read from these rows."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transitions")
    kind = models.CharField(max_length=16, choices=TransitionKind.choices)
    from_value = models.CharField(max_length=16, blank=True)
    to_value = models.CharField(max_length=16)
    at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=64, blank=True, help_text="system, import, api, ...")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "at"], name="transition_lead_time_idx"),
            models.Index(fields=["kind", "to_value", "at"], name="transition_funnel_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.from_value or '∅'} → {self.to_value}"


class ConsentPurpose(models.TextChoices):
    MARKETING_EMAIL = "marketing_email", "Marketing email"
    NEWSLETTER = "newsletter", "Newsletter"
    SALES_CONTACT = "sales_contact", "Sales contact"
    PHONE = "phone", "Phone calls"
    PROFILING = "profiling", "Profiling and scoring"
    THIRD_PARTY = "third_party", "Sharing with partners"


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Consent(models.Model):
    """A consent given or withdrawn, with exactly what the person was shown. Never edited:
    a withdrawal is a new row; the latest row per purpose is the current state."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices)
    text_shown = models.TextField(blank=True)
    source = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="Double opt-in")

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["lead", "purpose", "recorded_at"], name="consent_idx")]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.status}"


class ChangeKind(models.TextChoices):
    UPDATED = "updated", "Updated"
    CONFLICT_KEPT = "conflict_kept", "Conflicting value not applied"
    MERGED = "merged", "Merged from another lead"


class LeadChange(models.Model):
    """The lead's field history: every value that was replaced or not applied is kept here."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=64)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    source = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["lead", "at"], name="leadchange_lead_time_idx")]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value!r} / {self.new_value!r} ({self.kind})"


class DuplicateSuggestion(TimeStampedModel):
    """Two leads that may be one person (e.g. same name at the same company domain).
    A person decides: merge or dismiss. Never merged automatically."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "candidate"], name="duplicate_pair_unique")
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} ~ {self.candidate_id}: {self.reason}"
