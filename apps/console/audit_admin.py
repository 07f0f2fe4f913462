"""The audit log in the admin: read-only for everyone, superusers included (registered by
:mod:`apps.console.admin`)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from apps.audit.models import AuditLog
from apps.console.actions import CappedCountPaginator
from apps.console.filters import input_filter


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id", "reason", "ip"]
    list_filter = [
        input_filter("actor", "actor"),
        input_filter("target id", "target_id"),
        "action",
        "target_type",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["=actor", "=target_id", "action__startswith"]
    search_help_text = "Exact actor or target id, or the start of an action name."
    fields = ["created_at", "actor", "action", "target_type", "target_id", "reason", "details_pretty", "ip"]
    readonly_fields = tuple(str(f) for f in fields)
    list_per_page = 100
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = None

    @admin.display(description="reason")
    def reason(self, obj: AuditLog) -> str:
        value: Any = (obj.details or {}).get("reason", "")
        return str(value)[:120]

    @admin.display(description="details")
    def details_pretty(self, obj: AuditLog) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.details, indent=2, ensure_ascii=False, sort_keys=True))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False
