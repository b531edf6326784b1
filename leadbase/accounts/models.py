from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from leadbase.core.models import TimeStampedModel


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MARKETER = "marketer", "Marketer"
    SALES_REP = "sales_rep", "Sales rep"
    VIEWER = "viewer", "Viewer"


class User(AbstractUser):
    """A person who signs in. What they may see and change follows from `role`."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def sees_all_leads(self) -> bool:
        """Sales reps see only the leads they own; everyone else sees every lead."""
        return self.role != Role.SALES_REP

    @property
    def can_edit_leads(self) -> bool:
        return self.is_active and self.role in {Role.ADMIN, Role.MARKETER, Role.SALES_REP}

    @property
    def is_leadbase_admin(self) -> bool:
        return self.is_active and (self.role == Role.ADMIN or self.is_superuser)


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    INGEST = "ingest", "Ingest"


class ApiKey(TimeStampedModel):
    """A key acts with the rights of its user, narrowed to its scopes.

    Only a SHA-256 digest of the secret is stored: keys are 256-bit random strings, so a slow
    password hash adds nothing but latency on every request. The plain key is shown once.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
