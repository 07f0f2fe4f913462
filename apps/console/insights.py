"""Cross-domain reads for the operator console (user page, dashboard, im_stats).

Presence lives in Redis in production: its readers answer ``None`` ("unknown") when it
cannot be read, so the console still renders while Redis is down.
"""

from __future__ import annotations

import logging

from apps.accounts import presence
from apps.console import messages_view
from apps.console.actions import model_link
from apps.groups.models import GroupMember
from apps.messaging.models import Message

log = logging.getLogger(__name__)


def online_user_count() -> int | None:
    """Users with at least one live connection now, or None when presence cannot be read."""
    try:
        value = presence.presence_online_count()
    except Exception:  # presence lives in Redis: a dashboard must render without it
        log.warning("presence count failed", exc_info=True)
        return None
    return None if value is None else int(value)


def user_online_platforms(user_id: str) -> list[int] | None:
    """Platform ids the user is connected on now, or None when presence cannot be read."""
    try:
        return presence.presence_online_platforms(user_id=user_id)
    except Exception:
        log.warning("presence lookup failed", exc_info=True)
        return None


def user_groups(user_id: str, *, limit: int = 50) -> list[str]:
    """Links to the groups the user is a member of (with their role)."""
    rows = GroupMember.objects.filter(user_id=user_id).select_related("group").order_by("-id")[:limit]
    return [model_link(row.group, f"{row.group} [{row.get_role_level_display()}]") for row in rows]


def user_recent_messages(user_id: str, *, limit: int = 10) -> list[str]:
    rows = Message.objects.filter(send_id=user_id).order_by("-id")[:limit]
    return [messages_view.message_summary(row) for row in rows]
