"""Operators' user admin. Actions go through the same services as the API."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts import services
from apps.accounts.models import Token, User
from apps.common.api import client_ip


class TokenInline(admin.TabularInline):
    model = Token
    extra = 0
    can_delete = False
    fields = ["jti", "platform_id", "status", "created_at", "expires_at"]
    readonly_fields = fields
    ordering = ["-created_at"]
    max_num = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Token]:
        return super().get_queryset(request).order_by("-created_at")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["user_id", "nickname", "is_banned", "app_manager_level", "is_staff", "created_at"]
    list_filter = ["is_banned", "is_staff", "app_manager_level", "created_at"]
    search_fields = ["user_id", "nickname"]
    ordering = ["-id"]
    readonly_fields = ["created_at", "updated_at", "last_login", "is_banned", "banned_reason"]
    list_per_page = 50
    show_full_result_count = False
    inlines = [TokenInline]
    actions = ["ban_users", "unban_users", "force_logout"]
    fieldsets = (
        (None, {"fields": ("user_id", "password")}),
        ("Profile", {"fields": ("nickname", "face_url", "ex", "global_recv_msg_opt", "app_manager_level")}),
        ("Moderation", {"fields": ("is_banned", "banned_reason")}),
        ("Operator access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("user_id", "password1", "password2")}),)

    @admin.action(description="Ban selected users (kick all sessions)", permissions=["change"])
    def ban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = services.users_ban_many(
            users=queryset, actor=request.user, reason="banned by operator", ip=client_ip(request)  # type: ignore[arg-type]
        )
        self.message_user(request, f"Banned {count} user(s).", messages.SUCCESS)

    @admin.action(description="Unban selected users", permissions=["change"])
    def unban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.user_unban(user=user, actor=request.user, ip=client_ip(request))  # type: ignore[arg-type]
        self.message_user(request, f"Unbanned {queryset.count()} user(s).", messages.SUCCESS)

    @admin.action(description="Force logout on all platforms", permissions=["change"])
    def force_logout(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        total = 0
        for user in queryset:
            total += len(services.tokens_revoke(user=user, platform_id=None, actor=request.user, ip=client_ip(request)))  # type: ignore[arg-type]
        self.message_user(request, f"Revoked {total} token(s).", messages.SUCCESS)
