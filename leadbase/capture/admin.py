from __future__ import annotations

from django.contrib import admin

from .models import (
    Form,
    FormField,
    ImportJob,
    ImportRejection,
    Submission,
    WebhookDelivery,
    WebhookSource,
)


class FormFieldInline(admin.TabularInline[FormField, Form]):
    model = FormField
    extra = 0


@admin.register(Form)
class FormAdmin(admin.ModelAdmin[Form]):
    list_display = ("name", "slug", "purpose", "is_active", "double_opt_in", "campaign")
    list_filter = ("purpose", "is_active", "double_opt_in")
    search_fields = ("name", "slug")
    inlines = [FormFieldInline]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin[Submission]):
    list_display = ("id", "form", "status", "email", "spam_reason", "created_at")
    list_filter = ("status", "form")
    search_fields = ("=email",)
    raw_id_fields = ("lead", "duplicate_of", "released_by")
    readonly_fields = ("created_at",)


@admin.register(WebhookSource)
class WebhookSourceAdmin(admin.ModelAdmin[WebhookSource]):
    list_display = ("name", "kind", "external_id", "is_active", "public_id")
    list_filter = ("kind", "is_active")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = ("id", "kind", "source", "status", "http_status", "received_at")
    list_filter = ("kind", "status")
    raw_id_fields = ("lead",)


class ImportRejectionInline(admin.TabularInline[ImportRejection, ImportJob]):
    model = ImportRejection
    extra = 0
    can_delete = False
    readonly_fields = ("row_number", "reason", "values")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin[ImportJob]):
    list_display = ("id", "original_name", "status", "total_rows", "created", "rejected")
    list_filter = ("status", "format")
    readonly_fields = ("sha256", "created_at", "started_at", "finished_at")
