"""Operators' user admin. Actions go through the same services as the API (and write their audit rows)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.accounts import services
from apps.accounts.authentication import request_user
from apps.accounts.constants import PLATFORM_CHOICES, TokenStatus
from apps.accounts.models import Token, User
from apps.audit.models import AuditLog
from apps.audit.services import audit_record_many
from apps.console import insights
from apps.console.actions import operator_ip, run_with_reason

PLATFORM_NAMES = dict(PLATFORM_CHOICES)
OPERATOR_FIELDS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions", "app_manager_level")


class TokenInline(admin.TabularInline):
    model = Token
    extra = 0
    can_delete = False
    fields = ["jti", "platform_id", "status", "created_at", "expires_at"]
    readonly_fields = tuple(str(f) for f in fields)
    ordering = ["-created_at"]
    max_num = 0
    verbose_name_plural = "Tokens (newest 20)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Token]:
        return super().get_queryset(request).order_by("-created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["user_id", "nickname", "is_banned", "app_manager_level", "is_staff", "created_at"]
    list_filter = ["is_banned", "is_staff", "app_manager_level", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=user_id", "user_id__startswith", "nickname__icontains"]
    search_help_text = "Exact or leading user id, or part of the nickname."
    ordering = ["-id"]
    date_hierarchy = None
    list_per_page = 50
    show_full_result_count = False
    inlines = [TokenInline]
    actions = ["ban_users", "unban_users", "force_logout"]
    fieldsets = (
        (None, {"fields": ("user_id", "password")}),
        ("Profile", {"fields": ("nickname", "face_url", "ex", "global_recv_msg_opt", "app_manager_level")}),
        ("Moderation", {"fields": ("is_banned", "banned_reason")}),
        ("Activity", {"fields": ("devices_online", "user_groups", "recent_messages", "recent_activity", "web_chat")}),
        ("Operator access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("user_id", "password1", "password2")}),)

    # ---------------------------------------------------------------- permissions
    def has_ban_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("console.ban_user")

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = [
            "created_at", "updated_at", "last_login", "is_banned", "banned_reason",
            "devices_online", "user_groups", "recent_messages", "recent_activity", "web_chat",
        ]
        if not request.user.is_superuser:
            # only superusers change who is an operator or an app admin
            fields += list(OPERATOR_FIELDS)
        return fields

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and (obj.is_superuser or obj.is_staff) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and (obj.is_superuser or obj.is_staff) and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_inline_instances(self, request: HttpRequest, obj: User | None = None) -> list[Any]:
        return super().get_inline_instances(request, obj) if obj is not None else []

    # ------------------------------------------------- form edits are audited too
    # Django's change form, password form and delete page write the admin's own LogEntry;
    # an operator's edit of a user also leaves its row in the audit log.
    def _audit_form(self, request: HttpRequest, action: str, users: Any, message: Any = None) -> None:
        details = {"change": json.loads(json.dumps(message, default=str))} if message else None
        audit_record_many(
            actor=request_user(request).user_id, action=action, target_type="user",
            target_ids=[u.user_id for u in users], details=details, ip=operator_ip(request),
        )

    def log_addition(self, request: HttpRequest, obj: User, message: Any) -> Any:
        self._audit_form(request, "user.admin_add", [obj])
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: User, message: Any) -> Any:
        self._audit_form(request, "user.admin_change", [obj], message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        self._audit_form(request, "user.delete", list(queryset))
        return super().log_deletions(request, queryset)

    # ----------------------------------------------------------------- user page
    @admin.display(description="Devices online")
    def devices_online(self, obj: User) -> str:
        platforms = insights.user_online_platforms(obj.user_id)
        live = (
            Token.objects.filter(user=obj, status=TokenStatus.NORMAL, expires_at__gt=timezone.now())
            .order_by("platform_id")
            .values_list("platform_id", flat=True)
            .distinct()
        )
        sessions = ", ".join(PLATFORM_NAMES.get(p, str(p)) for p in live) or "none"
        if platforms is None:
            online = "presence unknown"
        else:
            online = ", ".join(PLATFORM_NAMES.get(p, str(p)) for p in platforms) or "offline"
        return format_html("<b>Connected:</b> {}<br><b>Logged-in platforms (live tokens):</b> {}", online, sessions)

    @admin.display(description="Web chat")
    def web_chat(self, obj: User) -> str:
        url = f"{reverse('chat')}#paste&user={quote(obj.user_id)}"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">Open the chat page with a token I paste</a>'
            "<br><small>Paste a token issued for {} by the app backend "
            "(<code>POST /api/v1/auth/user-token</code>, platform 5).</small>",
            url, obj.user_id,
        )

    @admin.display(description="Groups")
    def user_groups(self, obj: User) -> str:
        rows = insights.user_groups(obj.user_id, limit=50)
        if not rows:
            return "none"
        return format_html_join(", ", "{}", ((link,) for link in rows))

    @admin.display(description="Recent messages")
    def recent_messages(self, obj: User) -> str:
        rows = insights.user_recent_messages(obj.user_id, limit=10)
        if not rows:
            return "none"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r,) for r in rows)))

    @admin.display(description="Recent operator activity")
    def recent_activity(self, obj: User) -> str:
        rows = self._activity(obj)
        if not rows:
            return "none"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} — {} {} {}:{}</li>",
                ((f"{r.created_at:%Y-%m-%d %H:%M}", r.actor, r.action, r.target_type, r.target_id) for r in rows),
            ),
        )

    @staticmethod
    def _activity(obj: User) -> list[Any]:
        about = list(AuditLog.objects.filter(target_type="user", target_id=obj.user_id).order_by("-id")[:10])
        by = list(AuditLog.objects.filter(actor=obj.user_id).order_by("-id")[:10])
        merged = {r.pk: r for r in about + by}
        return sorted(merged.values(), key=lambda r: r.pk, reverse=True)[:10]

    # ------------------------------------------------------------------- actions
    @staticmethod
    def _moderatable(request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        """Superusers are never banned from here; operators are moderated by superusers only."""
        queryset = queryset.exclude(is_superuser=True)
        if not request.user.is_superuser:
            queryset = queryset.exclude(is_staff=True)
        return queryset

    @admin.action(description="Ban selected users (kick all sessions)", permissions=["ban"])
    def ban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, self._moderatable(request, queryset),
            title="Ban users",
            note="Banned users cannot log in; every session is closed now. Superusers (and, unless you are "
            "a superuser, other operators) are skipped.",
            run=lambda user, data: services.user_ban(user=user, actor=request_user(request), reason=data["reason"], ip=ip),
            done="Banned {count} user(s).",
        )

    @admin.action(description="Unban selected users", permissions=["ban"])
    def unban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, self._moderatable(request, queryset).filter(is_banned=True),
            title="Unban users",
            run=lambda user, data: services.user_unban(user=user, actor=request_user(request), reason=data["reason"], ip=ip),
            done="Unbanned {count} user(s).",
        )

    @admin.action(description="Force logout on all platforms", permissions=["ban"])
    def force_logout(self, request: HttpRequest, queryset: QuerySet[User]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, self._moderatable(request, queryset),
            title="Force logout on all platforms",
            note="Every token of the selected users is revoked and their connections are closed.",
            run=lambda user, data: services.tokens_revoke(
                user=user, platform_id=None, actor=request_user(request), reason=data["reason"], ip=ip
            ),
            done="Logged out {count} user(s) on all platforms.",
        )
