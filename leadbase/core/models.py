from django.db import models


class TimeStampedModel(models.Model):
    """Every table has created_at/updated_at, set from timezone.now()."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
