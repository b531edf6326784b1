"""Users (with their Leadbase role) and API keys in the Django admin.

An API key's secret is shown once, when `leadbase apikey create` makes it; here a key is
known by its prefix, and its digest is never displayed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import ApiKey, User
from .services import apikey_revoke

if TYPE_CHECKING:  # the admin classes are generic only to the type checker
    UserAdminBase = DjangoUserAdmin[User]
    ApiKeyAdminBase = admin.ModelAdmin[ApiKey]
else:
    UserAdminBase = DjangoUserAdmin
    ApiKeyAdminBase = admin.ModelAdmin

admin.site.site_header = "Leadbase administration"
admin.site.site_title = "Leadbase admin"
admin.site.index_title = "Settings and records"


@admin.register(User)
class UserAdmin(UserAdminBase):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            "Leadbase",
            {
                "fields": ("role",),
                "description": "Sales reps see only the leads they own; admins, marketers "
                "and viewers see all. Admin-site access needs “staff status” as well.",
            },
        ),
    )
    add_fieldsets = (
        *(DjangoUserAdmin.add_fieldsets or ()),
        ("Leadbase", {"fields": ("role", "email")}),
    )


@admin.register(ApiKey)
class ApiKeyAdmin(ApiKeyAdminBase):
    list_display = ("key_prefix", "name", "user", "scope_list", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user",)
    fields = (
        "key_prefix",
        "name",
        "user",
        "scope_list",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = (
        "key_prefix",
        "user",
        "scope_list",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke",)

    @admin.display(description="Key", ordering="prefix")
    def key_prefix(self, obj: ApiKey) -> str:
        return f"{obj.prefix}…"

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(str(scope) for scope in obj.scopes) or "—"

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            apikey_revoke(api_key=key)
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are made with `leadbase apikey create`, which shows the secret once
