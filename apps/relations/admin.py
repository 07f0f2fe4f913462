"""Friend requests, friendships and blacklists in the operator console: read, and correct via services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.accounts.authentication import request_user
from apps.audit.services import OperatorAction
from apps.console.actions import ReadOnlyAdmin, operator_ip, run_with_reason
from apps.console.filters import input_filter
from apps.relations import services
from apps.relations.models import Black, Friend, FriendRequest, HandleResult


class CorrectingAdmin(ReadOnlyAdmin):
    list_per_page = 100
    show_full_result_count = False
    ordering = ["-id"]

    def has_correct_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("console.correct_relations")


@admin.register(FriendRequest)
class FriendRequestAdmin(CorrectingAdmin):
    list_display = ["id", "from_user_id", "to_user_id", "handle_result", "message", "created_at", "handled_at"]
    list_filter = ["handle_result", ("created_at", admin.DateFieldListFilter),
                   input_filter("from user", "from_user_id"), input_filter("to user", "to_user_id")]
    search_fields = ["=from_user__user_id", "=to_user__user_id"]
    search_help_text = "Exact user id (either side)."
    raw_id_fields = ["from_user", "to_user"]
    actions = ["refuse_requests"]

    @admin.action(description="Refuse selected pending requests (for the recipient)", permissions=["correct"])
    def refuse_requests(self, request: HttpRequest, queryset: QuerySet[FriendRequest]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, queryset.filter(handle_result=HandleResult.PENDING).select_related("to_user"),
            title="Refuse friend requests",
            run=lambda r, data: services.friend_request_refuse(
                request_id=r.pk, by=r.to_user, handle_msg="",
                operator=OperatorAction(actor=request_user(request).user_id, reason=data["reason"], ip=ip),
            ),
            done="Refused {count} request(s).",
        )


@admin.register(Friend)
class FriendAdmin(CorrectingAdmin):
    list_display = ["id", "owner_id", "friend_id", "remark", "add_source", "operator_user_id", "created_at"]
    list_filter = ["add_source", ("created_at", admin.DateFieldListFilter),
                   input_filter("owner", "owner_id"), input_filter("friend", "friend_id")]
    search_fields = ["=owner__user_id", "=friend__user_id"]
    search_help_text = "Exact user id (either side)."
    raw_id_fields = ["owner", "friend"]
    actions = ["remove_friendships"]

    @admin.action(description="Remove selected friendships (both directions)", permissions=["correct"])
    def remove_friendships(self, request: HttpRequest, queryset: QuerySet[Friend]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, queryset,
            title="Remove friendships",
            note="Both users lose each other from their friend lists and are told.",
            run=lambda row, data: services.friendship_remove(
                user_id=row.owner_id, friend_id=row.friend_id, actor=request_user(request), reason=data["reason"], ip=ip
            ),
            done="Removed {count} friendship(s).",
        )


@admin.register(Black)
class BlackAdmin(CorrectingAdmin):
    list_display = ["id", "owner_id", "blocked_id", "operator_user_id", "created_at"]
    list_filter = [("created_at", admin.DateFieldListFilter),
                   input_filter("owner", "owner_id"), input_filter("blocked", "blocked_id")]
    search_fields = ["=owner__user_id", "=blocked__user_id"]
    search_help_text = "Exact user id (either side)."
    raw_id_fields = ["owner", "blocked"]
    actions = ["unblock"]

    @admin.action(description="Remove selected blacklist entries", permissions=["correct"])
    def unblock(self, request: HttpRequest, queryset: QuerySet[Black]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, queryset.select_related("owner"),
            title="Remove blacklist entries",
            run=lambda row, data: services.black_remove(
                owner=row.owner, user_id=row.blocked_id,
                operator=OperatorAction(actor=request_user(request).user_id, reason=data["reason"], ip=ip),
            ),
            done="Removed {count} blacklist entr(y/ies).",
        )
