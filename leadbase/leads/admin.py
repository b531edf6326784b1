"""Back-office views of the lead data in the Django admin.

Leads enter only through lead_upsert (import, forms, API), so the admin adds none. An edit
goes through the same services as any other explicit edit: lead_update (normalised values,
old ones kept in the lead's history, stage changes written as transitions) and lead_assign.
Events, transitions, consents and field history are records of what happened: read only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.errors import ValidationFailed

from .merge_rules import LEAD_FIELDS, name_key_for, search_text_for
from .models import (
    Campaign,
    Company,
    Consent,
    DuplicateSuggestion,
    Event,
    Lead,
    LeadChange,
    LifecycleTransition,
)
from .normalize import normalize_lead_data
from .services import lead_assign, lead_update

if TYPE_CHECKING:  # the admin classes are generic only to the type checker
    AnyAdmin = admin.ModelAdmin[Any]
    LeadAdminBase = admin.ModelAdmin[Lead]
    CompanyAdminBase = admin.ModelAdmin[Company]
    CampaignAdminBase = admin.ModelAdmin[Campaign]
    LeadModelForm = forms.ModelForm[Lead]
else:
    AnyAdmin = LeadAdminBase = CompanyAdminBase = CampaignAdminBase = admin.ModelAdmin
    LeadModelForm = forms.ModelForm

# Lead fields a person may edit here; the rest (scores, temperature, qualification, stage
# timestamps, search text) is derived and shown read only.
EDITABLE_LEAD_FIELDS: tuple[str, ...] = (*LEAD_FIELDS, "attributes", "lifecycle_stage")


class ReadOnlyAdmin(AnyAdmin):
    """A record of what happened: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LeadAdminForm(LeadModelForm):
    class Meta:
        model = Lead
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        """Run the changed values through the same normalisation as every other way in, so
        a bad email or phone is a form error here, not a crash when saving."""
        cleaned = super().clean() or {}
        changed = {
            name: cleaned[name]
            for name in self.changed_data
            if name in EDITABLE_LEAD_FIELDS and name in cleaned
        }
        if not changed:
            return cleaned
        try:  # with the stored email and phone, as lead_update has them: a lead needs one
            stored = {"email": self.instance.email, "phone": self.instance.phone}
            normalized = normalize_lead_data({**stored, **changed})
        except ValidationFailed as error:
            for field, problem in error.fields.items():
                self.add_error(field if field in self.fields else None, problem)
            if not error.fields:
                self.add_error(None, error.message)
            return cleaned
        for key in ("email", "phone"):
            value = normalized.get(key)
            if value and Lead.objects.filter(**{key: value}).exclude(pk=self.instance.pk).exists():
                self.add_error(key, f"Another lead already has this {key}: merge the two instead.")
        return cleaned


@admin.register(Lead)
class LeadAdmin(LeadAdminBase):
    form = LeadAdminForm
    list_display = (
        "id",
        "__str__",
        "email",
        "company",
        "lifecycle_stage",
        "temperature",
        "qualification",
        "score",
        "owner",
        "source_channel",
        "last_activity_at",
    )
    list_display_links = ("id", "__str__")
    list_filter = (
        "lifecycle_stage",
        "temperature",
        "qualification",
        "sales_status",
        "source_channel",
        "archived",
        ("owner", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("search_text", "=phone")
    search_help_text = "Name, email, phone or company."
    raw_id_fields = ("owner", "company", "campaign", "referred_by")
    list_select_related = ("company", "owner")
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) over every lead on each filtered page
    readonly_fields = (
        "score",
        "fit",
        "engagement",
        "probability",
        "temperature",
        "qualification",
        "became_subscriber_at",
        "became_lead_at",
        "became_mql_at",
        "became_sql_at",
        "became_opportunity_at",
        "became_customer_at",
        "became_advocate_at",
        "became_disqualified_at",
        "last_activity_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            "Contact",
            {
                "fields": (
                    ("first_name", "last_name"),
                    ("email", "phone"),
                    ("job_title", "seniority", "department"),
                    "company",
                    ("country", "region", "city"),
                )
            },
        ),
        (
            "Sales",
            {"fields": ("owner", "lifecycle_stage", "sales_status", "archived")},
        ),
        (
            "Scores (computed)",
            {
                "fields": (
                    ("score", "fit", "engagement"),
                    "probability",
                    ("temperature", "qualification"),
                    "last_activity_at",
                )
            },
        ),
        (
            "Attribution",
            {
                "classes": ("collapse",),
                "fields": (
                    ("source_channel", "source_detail"),
                    "campaign",
                    ("utm_source", "utm_medium", "utm_campaign"),
                    ("utm_term", "utm_content"),
                    "landing_page",
                    "referrer_url",
                    "referred_by",
                ),
            },
        ),
        ("Custom attributes", {"classes": ("collapse",), "fields": ("attributes",)}),
        (
            "Stage history",
            {
                "classes": ("collapse",),
                "fields": (
                    "became_subscriber_at",
                    "became_lead_at",
                    "became_mql_at",
                    "became_sql_at",
                    "became_opportunity_at",
                    "became_customer_at",
                    "became_advocate_at",
                    "became_disqualified_at",
                    ("created_at", "updated_at"),
                ),
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # leads enter through lead_upsert (forms, imports, API)

    @admin.display(description="Total score", ordering="total_score")
    def score(self, obj: Lead) -> str:
        return f"{obj.total_score:.1f}"

    @admin.display(description="Fit score", ordering="fit_score")
    def fit(self, obj: Lead) -> str:
        return f"{obj.fit_score:.1f}"

    @admin.display(description="Engagement score", ordering="engagement_score")
    def engagement(self, obj: Lead) -> str:
        return f"{obj.engagement_score:.1f}"

    @admin.display(description="Predicted probability", ordering="predicted_probability")
    def probability(self, obj: Lead) -> str:
        if obj.predicted_probability is None:
            return "—"
        return f"{obj.predicted_probability:.0%}"

    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        """Apply the edit through the lead services (history and transitions are kept);
        the few fields they do not cover are saved as they are."""
        actor = request.user if isinstance(request.user, User) else None
        changed = set(form.changed_data)
        data = {name: form.cleaned_data[name] for name in changed if name in EDITABLE_LEAD_FIELDS}
        if data:
            try:
                lead_update(
                    lead=Lead.objects.get(pk=obj.pk), data=data, actor=actor, source="admin"
                )
            except ValidationFailed as error:  # e.g. another lead took the email meanwhile
                self.message_user(request, f"Not saved: {error.message}", messages.ERROR)
        stored = Lead.objects.select_related("company").get(pk=obj.pk)
        if "owner" in changed:
            lead_assign(lead=stored, owner=obj.owner, actor=actor)
        direct = [
            name
            for name in ("sales_status", "archived", "company", "campaign", "referred_by")
            if name in changed
        ]
        for name in direct:
            setattr(stored, name, getattr(obj, name))
        if "company" in direct:  # the derived columns, as the services keep them
            direct += ["search_text", "name_key"]
            stored.name_key = name_key_for(stored.first_name, stored.last_name)
            stored.search_text = search_text_for(
                first_name=stored.first_name,
                last_name=stored.last_name,
                email=stored.email,
                phone=stored.phone,
                company_name=stored.company.name if stored.company else "",
            )
        if direct:
            stored.save(update_fields=[*direct, "updated_at"])
        # The admin shows what was stored (the services normalise, e.g. the email's case).
        obj.refresh_from_db()


@admin.register(Company)
class CompanyAdmin(CompanyAdminBase):
    list_display = ("name", "domain", "industry", "employee_count", "country", "created_at")
    search_fields = ("name", "domain")
    list_filter = ("country",)
    readonly_fields = ("domain", "created_at", "updated_at")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # companies are resolved from lead data

    def has_delete_permission(self, request: HttpRequest, obj: Company | None = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(CampaignAdminBase):
    list_display = ("name", "channel", "utm_campaign", "cost", "starts_on", "ends_on")
    search_fields = ("name", "utm_campaign")
    list_filter = ("channel",)
    readonly_fields = ("created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "type", "lead", "source")
    list_filter = ("type", "source")
    search_fields = ("=lead__id", "type")
    raw_id_fields = ("lead",)
    list_select_related = ("lead",)
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(LifecycleTransition)
class LifecycleTransitionAdmin(ReadOnlyAdmin):
    list_display = ("at", "lead", "kind", "from_value", "to_value", "actor_label", "reason")
    list_filter = ("kind", "to_value")
    search_fields = ("=lead__id",)
    list_select_related = ("lead",)
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "lead", "purpose", "status", "source", "confirmed_at")
    list_filter = ("purpose", "status")
    search_fields = ("=lead__id", "lead__email")
    list_select_related = ("lead",)
    show_full_result_count = False


@admin.register(LeadChange)
class LeadChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "lead", "field", "kind", "old_value", "new_value", "source")
    list_filter = ("kind", "field")
    search_fields = ("=lead__id",)
    list_select_related = ("lead",)
    show_full_result_count = False


@admin.register(DuplicateSuggestion)
class DuplicateSuggestionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "lead", "candidate", "reason", "dismissed_at")
    list_filter = (("dismissed_at", admin.EmptyFieldListFilter),)
    list_select_related = ("lead", "candidate")
    actions = ("dismiss",)

    @admin.action(description="Dismiss the selected suggestions (not duplicates)")
    def dismiss(self, request: HttpRequest, queryset: QuerySet[DuplicateSuggestion]) -> None:
        count = queryset.filter(dismissed_at__isnull=True).update(dismissed_at=timezone.now())
        self.message_user(request, f"Dismissed {count} suggestion(s).", messages.SUCCESS)

    def has_change_permission(
        self, request: HttpRequest, obj: DuplicateSuggestion | None = None
    ) -> bool:
        # Needed for the dismiss action; the change form itself shows every field read only.
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(
        self, request: HttpRequest, obj: DuplicateSuggestion | None = None
    ) -> list[str]:
        return [field.name for field in DuplicateSuggestion._meta.fields]
