"""How the console shows a message: one-line summaries and the chat-like conversation view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.html import format_html

from apps.accounts.models import User
from apps.messaging.models import Conversation, Message, MsgStatus

TEXT_TYPES = {101, 106, 114}
TYPE_NAMES = {
    101: "text", 102: "picture", 103: "voice", 104: "video", 105: "file", 106: "@-text", 107: "merged",
    108: "card", 109: "location", 110: "custom", 114: "quote", 115: "face", 2101: "revoke notice",
    2200: "read receipt",
}


def ms_to_datetime(ms: int | None) -> datetime | None:
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def type_name(content_type: int) -> str:
    if content_type in TYPE_NAMES:
        return TYPE_NAMES[content_type]
    if 1200 <= content_type < 1300:
        return f"friend notice {content_type}"
    if 1500 <= content_type < 1600:
        return f"group notice {content_type}"
    return str(content_type)


def message_text(content: Any, content_type: int, limit: int = 200) -> str:
    """The readable part of a message's content (its text, or a [type] placeholder)."""
    if content_type >= 1000 and isinstance(content, dict):
        actor = content.get("op_user_id") or content.get("revoker_id") or content.get("from_user_id")
        return f"[{type_name(content_type)}]" + (f" by {actor}" if actor else "")
    if isinstance(content, dict):
        for key in ("content", "text", "file_name", "url", "name", "description"):
            value = content.get(key)
            if isinstance(value, str) and value:
                plain = content_type in TEXT_TYPES or key in ("content", "text")
                text = value if plain else f"[{type_name(content_type)}] {value}"
                return text if len(text) <= limit else text[: limit - 1] + "…"
    return f"[{type_name(content_type)}]"


def message_summary(msg: Any) -> str:
    when = ms_to_datetime(msg.send_time)
    return format_html(
        "{} <code>{}</code> #{}: {}",
        f"{when:%Y-%m-%d %H:%M}" if when else "",
        msg.conversation_id,
        msg.seq,
        message_text(msg.content, msg.content_type, 80),
    )


PAGE = 100
REVOKE_NOTICE = 2101


def _int_or_none(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a seq number") from exc


def conversation_context(
    conversation_id: str, *, before: str | None = None, around: str | None = None, annotate: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One page (``PAGE`` messages, by seq) of a conversation, shaped for the chat template."""
    conv = Conversation.objects.filter(conversation_id=conversation_id).first()
    qs = Message.objects.filter(conversation_id=conversation_id).annotate(**(annotate or {}))
    before_seq, around_seq = _int_or_none(before, "before"), _int_or_none(around, "around")
    if around_seq is not None:
        rows = list(qs.filter(seq__gte=around_seq - PAGE // 2).order_by("seq")[:PAGE])
    else:
        if before_seq is not None:
            qs = qs.filter(seq__lt=before_seq)
        rows = list(qs.order_by("-seq")[:PAGE])[::-1]
    if conv is None and not rows:
        raise ValueError(f"no conversation {conversation_id}")
    senders = {r.send_id for r in rows}
    names = dict(User.objects.filter(user_id__in=senders).values_list("user_id", "nickname"))
    # who revoked what, from the revoke notices on this page (no extra query)
    notices = {
        r.content.get("server_msg_id"): (r.content.get("revoker_id"), r.content.get("reason"))
        for r in rows if r.content_type == REVOKE_NOTICE and isinstance(r.content, dict)
    }
    first_side = conv.user_a if conv is not None and conv.user_a else (rows[0].send_id if rows else "")
    items = []
    for r in rows:
        when = ms_to_datetime(r.send_time)
        revoked = r.status == MsgStatus.REVOKED
        items.append({
            "pk": r.pk,
            "seq": r.seq,
            "server_msg_id": r.server_msg_id,
            "send_id": r.send_id,
            "nickname": names.get(r.send_id, ""),
            "time": f"{when:%Y-%m-%d %H:%M:%S}" if when else "",
            "text": message_text(r.content, r.content_type, 2000),
            "type_name": type_name(r.content_type),
            "is_notice": r.content_type >= 1000,
            "mine": r.send_id == first_side,
            "revoked": revoked,
            "deleted": r.status == MsgStatus.DELETED,
            "revoked_by": (getattr(r, "_revoke_operator", None) or notices.get(r.server_msg_id, (None, None))[0])
            if revoked else None,
            "revoke_reason": (getattr(r, "_revoke_reason", None) or notices.get(r.server_msg_id, (None, None))[1])
            if revoked else None,
            "can_select": r.status == MsgStatus.SENT and r.content_type < 1000,
        })
    lowest = rows[0].seq if rows else None
    highest = rows[-1].seq if rows else None
    return {
        "conversation": conv,
        "conversation_id": conversation_id,
        "items": items,
        "older_before": lowest if lowest and lowest > 1 and (conv is None or lowest > conv.min_seq + 1) else None,
        "newer_around": highest + PAGE // 2 + 1 if highest and conv is not None and highest < conv.max_seq else None,
        "min_seq": conv.min_seq if conv else None,
        "max_seq": conv.max_seq if conv else None,
    }
