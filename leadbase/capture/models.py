"""Capture: forms and their submissions, webhook sources and their deliveries, imports.

Every way in ends in `leads.services.lead_upsert` (or its batch twin); the rows here record
what arrived, from where, and what became of it, so nothing is dropped silently.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from leadbase.core.models import TimeStampedModel
from leadbase.leads.models import Campaign, Channel, ConsentPurpose, Lead


class FormPurpose(models.TextChoices):
    NEWSLETTER = "newsletter", "Newsletter sign-up"
    CONTENT_DOWNLOAD = "content_download", "Content download"
    WEBINAR = "webinar", "Webinar registration"
    DEMO_REQUEST = "demo_request", "Demo request"
    QUOTE_REQUEST = "quote_request", "Quote request"
    TRIAL_SIGNUP = "trial_signup", "Free-trial sign-up"
    CONTACT = "contact", "Contact"
    CONTEST = "contest", "Contest or quiz"


class Form(TimeStampedModel):
    """A lead form, shown at /f/<slug>, embedded with one script tag, or posted to as plain
    HTML. `allowed_domains` (one host per line) limits the embed's CORS origins and the
    thank-you redirect."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    purpose = models.CharField(max_length=32, choices=FormPurpose.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(
        max_length=32,
        choices=Channel.choices,
        blank=True,
        help_text="Source channel of the leads; empty: taken from the UTM values and referrer.",
    )
    is_active = models.BooleanField(default=True)
    submit_label = models.CharField(max_length=60, default="Submit")
    consent_text = models.TextField(blank=True, help_text="Empty: the form asks no consent.")
    consent_purpose = models.CharField(
        max_length=32, choices=ConsentPurpose.choices, default=ConsentPurpose.MARKETING_EMAIL
    )
    consent_required = models.BooleanField(default=True)
    double_opt_in = models.BooleanField(default=False)
    thank_you_message = models.TextField(blank=True)
    redirect_url = models.URLField(max_length=500, blank=True)
    allowed_domains = models.TextField(blank=True, help_text="One host name per line.")
    content_file = models.FileField(upload_to="capture/content/", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_forms",
        help_text="New leads are assigned to this user.",
    )
    notify_owner = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class FieldKind(models.TextChoices):
    EMAIL = "email", "Email"
    TEXT = "text", "Short text"
    TEXTAREA = "textarea", "Long text"
    PHONE = "phone", "Phone"
    COUNTRY = "country", "Country"
    CHOICE = "choice", "Choice"
    CHECKBOX = "checkbox", "Checkbox"
    HIDDEN = "hidden", "Hidden"


class FormField(models.Model):
    """One field of a form. `maps_to` names a lead field (`first_name`, `company_name`, ...)
    or a custom attribute (`attributes.<key>`); empty keeps the value in the submission only."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.SlugField(max_length=64)
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=FieldKind.choices, default=FieldKind.TEXT)
    required = models.BooleanField(default=False)
    maps_to = models.CharField(max_length=100, blank=True)
    choices = models.JSONField(default=list, blank=True)
    default = models.CharField(max_length=500, blank=True)
    placeholder = models.CharField(max_length=200, blank=True)
    help_text = models.CharField(max_length=300, blank=True)
    max_length = models.PositiveIntegerField(default=200)

    class Meta:
        ordering = ["form", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "name"], name="formfield_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.form}: {self.label}"


class SubmissionStatus(models.TextChoices):
    RECEIVED = "received", "Received, waiting to be processed"
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Double submission"
    SPAM = "spam", "Held as spam"
    FAILED = "failed", "Failed"


class Submission(models.Model):
    """What a form received. Kept whatever happens: spam is held with its reason until a
    person releases it; a double submission points at the submission it repeats."""

    # No index of its own: the form is the first column of two indexes below.
    form = models.ForeignKey(
        Form, on_delete=models.PROTECT, related_name="submissions", db_index=False
    )
    status = models.CharField(
        max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.RECEIVED
    )
    spam_reason = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="Field values by field name.")
    context = models.JSONField(
        default=dict, blank=True, help_text="UTM values, referrer, landing page, visitor id."
    )
    email = models.CharField(max_length=254, blank=True, help_text="Normalised.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    # These three are empty when a submission arrives (duplicate_of: unless it is one), so
    # their indexes are partial (see Meta): the request's insert writes no entry in them.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    lead = models.ForeignKey(
        Lead,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
        db_index=False,
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="submission_unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "id"], name="submission_status_idx"),
            models.Index(fields=["form", "email", "created_at"], name="submission_recent_idx"),
            # the builder's per-form counts (all, held as spam) and the inbox's form + status
            # filter, newest first
            models.Index(fields=["form", "status", "id"], name="submission_form_status_idx"),
            # a sales rep's inbox, and deleting a lead, a submission or a user (SET NULL)
            models.Index(
                fields=["lead"], name="submission_lead_idx", condition=Q(lead__isnull=False)
            ),
            models.Index(
                fields=["duplicate_of"],
                name="submission_duplicate_idx",
                condition=Q(duplicate_of__isnull=False),
            ),
            models.Index(
                fields=["released_by"],
                name="submission_released_by_idx",
                condition=Q(released_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form} #{self.pk} ({self.status})"


class WebhookKind(models.TextChoices):
    FACEBOOK = "facebook", "Facebook / Instagram Lead Ads"
    LINKEDIN = "linkedin", "LinkedIn Lead Gen Forms"
    GENERIC = "generic", "Generic JSON webhook"


class WebhookSource(TimeStampedModel):
    """An integration that posts leads to /hooks/<kind>. `secret` verifies signatures (the
    Facebook app secret, the LinkedIn client secret, or the generic HMAC secret);
    `external_id` (a page, form or organisation id) picks the source of a delivery whose
    platform serves several; `field_mapping` maps the platform's field names to lead fields
    or `attributes.<key>`."""

    kind = models.CharField(max_length=16, choices=WebhookKind.choices)
    name = models.CharField(max_length=200)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    secret = models.CharField(max_length=200)
    verify_token = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    field_mapping = models.JSONField(default=dict, blank=True)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=32, choices=Channel.choices, default=Channel.PAID_SOCIAL)
    consent_text = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class DeliveryStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    DUPLICATE = "duplicate", "Already received"
    REJECTED = "rejected", "Rejected (signature or token)"
    INVALID = "invalid", "Invalid payload"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One request to a webhook URL, kept with its outcome (also the rejected ones)."""

    source = models.ForeignKey(
        WebhookSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    kind = models.CharField(max_length=16, choices=WebhookKind.choices)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices)
    http_status = models.PositiveSmallIntegerField()
    detail = models.TextField(blank=True)
    external_id = models.CharField(max_length=200, blank=True, help_text="e.g. the leadgen id")
    payload = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One accepted delivery per platform lead id (or generic idempotency key) and
            # source: a retry racing the first delivery becomes a duplicate, not a second lead.
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(status="accepted") & ~Q(external_id=""),
                name="delivery_unique_accepted",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "external_id"], name="delivery_external_idx"),
            # platform lead ids are global: a redelivery is found whichever source took it
            models.Index(fields=["kind", "external_id"], name="delivery_kind_external_idx"),
            models.Index(fields=["-received_at"], name="delivery_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} delivery #{self.pk} ({self.status})"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    ANALYSED = "analysed", "Dry run done"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(TimeStampedModel):
    """A CSV or XLSX file being imported: its detected format, the column mapping, the
    dry-run summary, progress, and the counts of the real run."""

    file = models.FileField(upload_to="capture/imports/")
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    format = models.CharField(max_length=8)  # csv | xlsx
    encoding = models.CharField(max_length=40, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    sheet = models.CharField(max_length=200, blank=True, help_text="the spreadsheet's sheet read")
    analysis = models.JSONField(
        default=dict, blank=True, help_text="columns, header row, first rows, sheets"
    )
    mapping = models.JSONField(default=dict, blank=True, help_text="column -> lead field")
    source = models.CharField(max_length=200, blank=True)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL)
    campaign_name = models.CharField(
        max_length=200, blank=True, help_text="campaign chosen; resolved when the run starts"
    )
    # Consent recorded for the rows the consent column marks (or every row, consent_all).
    consent_text = models.TextField(blank=True, help_text="what the people consented to")
    consent_purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices, blank=True)
    consent_all = models.BooleanField(default=False, help_text="every row consented")
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    dry_run = models.JSONField(default=dict, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.original_name} ({self.status})"


class ImportRejection(models.Model):
    """A row of an import that was not applied, with the reason and the row as read."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    row_number = models.PositiveIntegerField(help_text="1-based, counting the header line")
    reason = models.TextField()
    values = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["job", "row_number"]
        indexes = [models.Index(fields=["job", "row_number"], name="importrejection_row_idx")]

    def __str__(self) -> str:
        return f"{self.job} row {self.row_number}: {self.reason}"
