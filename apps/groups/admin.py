"""Groups in the operator console. Every action calls apps.groups.services (which audits it)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.accounts.authentication import request_user
from apps.console.actions import ReadOnlyAdmin, ReasonForm, operator_ip, run_with_reason
from apps.console.filters import input_filter
from apps.groups import services
from apps.groups.models import Group, GroupMember, GroupRequest, GroupStatus, HandleResult

MEMBERS_SHOWN = 50


class TransferForm(ReasonForm):
    new_owner_id = forms.CharField(max_length=64, label="New owner (user id, must be a member)")


class MuteMemberForm(ReasonForm):
    minutes = forms.IntegerField(min_value=1, max_value=10 * 365 * 24 * 60, initial=60, label="Mute for (minutes)")


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ["group_id", "name", "owner_user_id", "status", "member_count", "created_at"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter), input_filter("owner", "owner_user_id")]
    search_fields = ["=group_id", "name__icontains", "=owner_user_id"]
    search_help_text = "Exact group id or owner id, or part of the name."
    ordering = ["-created_at"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["mute_groups", "unmute_groups", "dismiss_groups", "transfer_ownership"]
    fields = [
        "group_id", "name", "owner_user_id", "creator_user_id", "status", "need_verification", "notification",
        "introduction", "face_url", "ex", "created_at", "updated_at", "dismissed_at", "members_table",
    ]
    readonly_fields = tuple(str(f) for f in fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return super().get_queryset(request).annotate(_members=Count("members"))

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj: Group) -> int:
        return obj._members  # type: ignore[attr-defined]

    @admin.display(description="Members (owner and admins first)")
    def members_table(self, obj: Group) -> str:
        rows = list(
            GroupMember.objects.filter(group=obj).select_related("user").order_by("-role_level", "id")[:MEMBERS_SHOWN]
        )
        url = reverse("admin:groups_groupmember_changelist") + f"?group__group_id__exact={obj.group_id}"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (m.user_id, m.user.nickname, m.get_role_level_display(),
                 f"{m.mute_end_time:%Y-%m-%d %H:%M}" if m.mute_end_time else "", f"{m.joined_at:%Y-%m-%d}")
                for m in rows
            ),
        )
        return format_html(
            '<table><thead><tr><th>user</th><th>nickname</th><th>role</th><th>muted until</th><th>joined</th>'
            '</tr></thead><tbody>{}</tbody></table><p><a href="{}">All members, with kick and mute actions →</a></p>',
            body, url,
        )

    # ------------------------------------------------------------- permissions
    def has_mute_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("console.mute_group")

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("console.manage_group")

    # ----------------------------------------------------------------- actions
    def _mute(self, request: HttpRequest, queryset: QuerySet[Group], muted: bool) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, queryset.exclude(status=GroupStatus.DISMISSED),
            title="Mute groups" if muted else "Unmute groups",
            note="While a group is muted only its owner and admins can send." if muted else "",
            run=lambda g, data: services.group_mute(
                group_id=g.group_id, actor=request_user(request), muted=muted, ip=ip, reason=data["reason"],
            ),
            done=("Muted" if muted else "Unmuted") + " {count} group(s).",
        )

    @admin.action(description="Mute selected groups", permissions=["mute"])
    def mute_groups(self, request: HttpRequest, queryset: QuerySet[Group]) -> TemplateResponse | None:
        return self._mute(request, queryset, True)

    @admin.action(description="Unmute selected groups", permissions=["mute"])
    def unmute_groups(self, request: HttpRequest, queryset: QuerySet[Group]) -> TemplateResponse | None:
        return self._mute(request, queryset, False)

    @admin.action(description="Dismiss selected groups", permissions=["manage"])
    def dismiss_groups(self, request: HttpRequest, queryset: QuerySet[Group]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, queryset.exclude(status=GroupStatus.DISMISSED),
            title="Dismiss groups",
            note="Members are told; nobody can send any more. History stays readable.",
            run=lambda g, data: services.group_dismiss(
                group_id=g.group_id, actor=request_user(request), ip=ip, reason=data["reason"],
            ),
            done="Dismissed {count} group(s).",
        )

    @admin.action(description="Transfer ownership (one group)", permissions=["manage"])
    def transfer_ownership(self, request: HttpRequest, queryset: QuerySet[Group]) -> TemplateResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one group to transfer.", level="error")
            return None
        ip = operator_ip(request)
        return run_with_reason(
            self, request, queryset,
            title="Transfer group ownership",
            form_class=TransferForm,
            run=lambda g, data: services.group_transfer(
                group_id=g.group_id, actor=request_user(request), new_owner_id=data["new_owner_id"], ip=ip,
                reason=data["reason"],
            ),
            done="Transferred the ownership.",
        )


@admin.register(GroupMember)
class GroupMemberAdmin(ReadOnlyAdmin):
    list_display = ["user_id", "nickname_display", "group", "role_level", "mute_end_time", "joined_at"]
    list_select_related = ["group", "user"]
    list_filter = ["role_level", input_filter("group id", "group__group_id", "group__group_id__exact"),
                   input_filter("user id", "user_id")]
    search_fields = ["=user__user_id", "=group__group_id"]
    search_help_text = "Exact user id or group id."
    raw_id_fields = ["group", "user"]
    ordering = ["-id"]
    list_per_page = 100
    show_full_result_count = False
    actions = ["kick_members", "mute_members", "unmute_members"]

    @admin.display(description="nickname")
    def nickname_display(self, obj: GroupMember) -> str:
        return obj.user.nickname

    def has_kick_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("console.kick_member")

    def has_mute_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("console.mute_group")

    @admin.action(description="Kick selected members", permissions=["kick"])
    def kick_members(self, request: HttpRequest, queryset: QuerySet[GroupMember]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, queryset.select_related("group"),
            title="Kick members",
            run=lambda m, data: services.group_kick(
                group_id=m.group_id, actor=request_user(request), user_ids=[m.user_id], ip=ip, reason=data["reason"],
            ),
            done="Kicked {count} member(s).",
        )

    @admin.action(description="Mute selected members", permissions=["mute"])
    def mute_members(self, request: HttpRequest, queryset: QuerySet[GroupMember]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, queryset.select_related("group"),
            title="Mute members",
            form_class=MuteMemberForm,
            run=lambda m, data: services.group_member_mute(
                group_id=m.group_id, actor=request_user(request), user_id=m.user_id, seconds=data["minutes"] * 60, ip=ip,
                reason=data["reason"],
            ),
            done="Muted {count} member(s).",
        )

    @admin.action(description="Unmute selected members", permissions=["mute"])
    def unmute_members(self, request: HttpRequest, queryset: QuerySet[GroupMember]) -> TemplateResponse | None:
        ip = operator_ip(request)
        return run_with_reason(
            self, request, queryset.select_related("group"),
            title="Unmute members",
            run=lambda m, data: services.group_member_unmute(
                group_id=m.group_id, actor=request_user(request), user_id=m.user_id, ip=ip, reason=data["reason"],
            ),
            done="Unmuted {count} member(s).",
        )


@admin.register(GroupRequest)
class GroupRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "user_id", "group", "handle_result", "message", "created_at", "handler_user_id"]
    list_select_related = ["group"]
    list_filter = ["handle_result", ("created_at", admin.DateFieldListFilter),
                   input_filter("group id", "group__group_id", "group__group_id__exact")]
    search_fields = ["=user__user_id", "=group__group_id"]
    raw_id_fields = ["group", "user"]
    ordering = ["-id"]
    list_per_page = 100
    show_full_result_count = False
    actions = ["accept_requests", "refuse_requests"]

    def has_correct_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("console.correct_relations")

    def _handle(self, request: HttpRequest, queryset: QuerySet[GroupRequest], accept: bool) -> TemplateResponse | None:
        ip = operator_ip(request)
        fn = services.group_request_accept if accept else services.group_request_refuse
        return run_with_reason(
            self, request, queryset.filter(handle_result=HandleResult.PENDING),
            title="Accept join requests" if accept else "Refuse join requests",
            note="The reason is also the answer the applicant is shown.",
            run=lambda r, data: fn(request_id=r.pk, actor=request_user(request), handle_msg=data["reason"], ip=ip),
            done=("Accepted" if accept else "Refused") + " {count} request(s).",
        )

    @admin.action(description="Accept selected pending requests", permissions=["correct"])
    def accept_requests(self, request: HttpRequest, queryset: QuerySet[GroupRequest]) -> TemplateResponse | None:
        return self._handle(request, queryset, True)

    @admin.action(description="Refuse selected pending requests", permissions=["correct"])
    def refuse_requests(self, request: HttpRequest, queryset: QuerySet[GroupRequest]) -> TemplateResponse | None:
        return self._handle(request, queryset, False)
