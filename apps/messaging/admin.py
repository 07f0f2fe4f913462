"""Message moderation in the operator console: search, a chat-like conversation view, revoke, delete.

Revoking calls apps.messaging.services.message_revoke (the same path as the API); the
operator's reason is recorded in the audit log and passed to the service when it takes one.
Deleting calls apps.messaging.services.message_delete, which writes its own audit row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from apps.accounts.authentication import request_user
from apps.audit.models import AuditLog
from apps.audit.services import OperatorAction
from apps.console.actions import CappedCountPaginator, ReadOnlyAdmin, operator_ip, run_with_reason
from apps.console.exporting import parse_time_ms
from apps.console.filters import InputFilter, input_filter
from apps.console.messages_view import conversation_context, message_text, ms_to_datetime
from apps.messaging import services
from apps.messaging.models import ContentType, Conversation, Message, MsgStatus


class ContentTypeFilter(admin.SimpleListFilter):
    title = "content type"
    parameter_name = "content_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(c.value), f"{c.value} {c.label}") for c in ContentType]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> QuerySet[Message]:
        value = self.value()
        if value:
            if not value.isdigit():
                raise IncorrectLookupParameters(f"content_type {value!r}")
            return queryset.filter(content_type=int(value))
        return queryset


class _TimeFilter(InputFilter):
    lookup = "send_time__gte"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> QuerySet[Message]:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        try:
            return queryset.filter(**{self.lookup: parse_time_ms(value)})
        except ValueError as exc:
            raise IncorrectLookupParameters(str(exc)) from exc


class SentFromFilter(_TimeFilter):
    title = "sent from (YYYY-MM-DD or ISO time, UTC)"
    parameter_name = "sent_from"
    lookup = "send_time__gte"


class SentBeforeFilter(_TimeFilter):
    title = "sent before (YYYY-MM-DD or ISO time, UTC)"
    parameter_name = "sent_before"
    lookup = "send_time__lt"


def _revoke_annotations() -> dict[str, Subquery]:
    """Who revoked or deleted and why, for operator actions: one indexed audit lookup per listed row."""
    audit = AuditLog.objects.filter(
        target_type="message", target_id=OuterRef("server_msg_id"), action__in=["message.revoke", "message.delete"]
    ).order_by("-id")
    return {
        "_revoke_operator": Subquery(audit.values("actor")[:1]),
        "_revoke_reason": Subquery(audit.values("details__reason")[:1]),
    }


# the message page: the wire fields (apps.messaging.wire) shown for operators, links and revoke info added
_DETAIL_FIELDS: tuple[str, ...] = (
    "server_msg_id", "client_msg_id", "conversation_link", "seq", "send_id", "recv_id", "group_id",
    "session_type", "content_type", "content", "sent", "sender_platform_id", "status", "revoked",
)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "sent", "conversation_link", "seq", "send_id", "session_type", "content_type", "text", "status", "revoked",
    ]
    list_display_links = ["sent"]
    list_filter = [
        input_filter("conversation", "conversation_id"),
        input_filter("sender", "send_id"),
        input_filter("group", "group_id"),
        SentFromFilter,
        SentBeforeFilter,
        ContentTypeFilter,
        "session_type",
        "status",
    ]
    search_fields = ["content__content__icontains", "content__text__icontains"]
    search_help_text = "Words in a message's text (scans: narrow by conversation, sender or time first)."
    ordering = ["-id"]
    list_per_page = 50
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["revoke_messages", "delete_messages"]
    fields = _DETAIL_FIELDS
    readonly_fields = _DETAIL_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        qs: QuerySet[Message] = super().get_queryset(request).annotate(**_revoke_annotations())
        return qs

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.conversation_view)
        return [
            path("conversation/<path:conversation_id>/", view, name="messaging_message_conversation"),
            *super().get_urls(),
        ]

    # --------------------------------------------------------------- columns
    @admin.display(description="sent (UTC)", ordering="send_time")
    def sent(self, obj: Message) -> str:
        when = ms_to_datetime(obj.send_time)
        return format_html("<span style='white-space:nowrap'>{}</span>", f"{when:%Y-%m-%d %H:%M:%S}") if when else "-"

    @admin.display(description="conversation", ordering="conversation_id")
    def conversation_link(self, obj: Message) -> str:
        url = reverse("admin:messaging_message_conversation", args=[obj.conversation_id])
        return format_html('<a href="{}?around={}#seq-{}">{}</a>', url, obj.seq, obj.seq, obj.conversation_id)

    @admin.display(description="text")
    def text(self, obj: Message) -> str:
        return message_text(obj.content, obj.content_type, 80)

    @admin.display(description="revoked/deleted by / reason")
    def revoked(self, obj: Message) -> str:
        if obj.status not in (MsgStatus.REVOKED, MsgStatus.DELETED):
            return ""
        who = getattr(obj, "_revoke_operator", None)
        if not who:
            return "a conversation member (see the conversation)"
        reason = getattr(obj, "_revoke_reason", None)
        return f"{who}: {reason}" if reason else str(who)

    # ------------------------------------------------------------- permissions
    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("console.revoke_message")

    def has_remove_permission(self, request: HttpRequest) -> bool:
        """``console.delete_message`` (the model's own delete permission stays off: rows are never removed)."""
        return request.user.has_perm("console.delete_message")

    # ----------------------------------------------------------------- actions
    @admin.action(description="Revoke selected messages", permissions=["revoke"])
    def revoke_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> TemplateResponse | None:
        ip = operator_ip(request)
        operator = request_user(request)

        def revoke(msg: Message, reason: str) -> None:
            services.message_revoke(
                user_id=operator.user_id, server_msg_id=msg.server_msg_id, as_app_admin=True, reason=reason,
                operator=OperatorAction(actor=operator.user_id, reason=reason, ip=ip),
            )

        return run_with_reason(
            self, request, queryset.filter(status=MsgStatus.SENT),
            title="Revoke messages",
            note="Everyone in the conversation sees that the message was revoked.",
            run=lambda msg, data: revoke(msg, data["reason"]),
            done="Revoked {count} message(s).",
        )

    @admin.action(description="Delete selected messages for everyone", permissions=["remove"])
    def delete_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> TemplateResponse | None:
        ip = operator_ip(request)
        operator = request.user
        return run_with_reason(
            self, request, queryset.exclude(status=MsgStatus.DELETED),
            title="Delete messages",
            note=(
                "Clients replace the message with a deleted placeholder and online devices drop it; "
                "operators still see it here."
            ),
            run=lambda msg, data: services.message_delete(
                server_msg_id=msg.server_msg_id, actor=operator, reason=data["reason"], ip=ip
            ),
            done="Deleted {count} message(s).",
        )

    # ------------------------------------------------------- conversation view
    def conversation_view(self, request: HttpRequest, conversation_id: str) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            ctx = conversation_context(
                conversation_id,
                before=request.GET.get("before"),
                around=request.GET.get("around"),
                annotate=_revoke_annotations(),
            )
        except ValueError as exc:
            raise Http404(str(exc)) from exc
        context = {
            **self.admin_site.each_context(request),
            **ctx,
            "opts": self.model._meta,
            "title": f"Conversation {conversation_id}",
            "can_revoke": self.has_revoke_permission(request),
            "changelist_url": reverse("admin:messaging_message_changelist"),
        }
        return TemplateResponse(request, "admin/messaging/conversation.html", context)


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["conversation_id", "session_type", "group_id", "max_seq", "min_seq", "last_message", "chat"]
    list_filter = ["session_type", input_filter("group", "group_id")]
    search_fields = ["=conversation_id", "conversation_id__startswith"]
    ordering = ["-last_msg_time"]
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="last message (UTC)", ordering="last_msg_time")
    def last_message(self, obj: Conversation) -> str:
        when = ms_to_datetime(obj.last_msg_time)
        return f"{when:%Y-%m-%d %H:%M}" if when else "-"

    @admin.display(description="")
    def chat(self, obj: Conversation) -> str:
        url = reverse("admin:messaging_message_conversation", args=[obj.conversation_id])
        return format_html('<a href="{}">read as chat →</a>', url)
