"""The audit log in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.audit.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id", "ip"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["actor", "target_id", "action"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "actor", "action", "target_type", "target_id", "details", "ip"]
    list_per_page = 100
    show_full_result_count = False
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False
