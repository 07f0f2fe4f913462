"""Cross-domain reads for the operator console (user page, dashboard, im_stats).

Each reader degrades to ``None`` ("unknown") when the piece it reads does not exist in this
deployment (no presence module, no broker, ...), so the console never breaks on a missing part.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from django.apps import apps as django_apps
from django.db.models import Model

from apps.console.actions import model_link

log = logging.getLogger(__name__)


def model_or_none(app_label: str, model_name: str) -> type[Model] | None:
    try:
        return django_apps.get_model(app_label, model_name)
    except LookupError:
        return None


def _presence() -> Any | None:
    try:
        return importlib.import_module("apps.accounts.presence")
    except ImportError:
        return None


def online_user_count() -> int | None:
    """Users with at least one live connection now, or None when presence is not available."""
    module = _presence()
    fn = getattr(module, "presence_online_count", None)
    if fn is None:
        return None
    try:
        value = fn()
    except Exception:  # presence lives in Redis: a dashboard must render without it
        log.warning("presence count failed", exc_info=True)
        return None
    return None if value is None else int(value)


def user_online_platforms(user_id: str) -> list[int] | None:
    """Platform ids the user is connected on now, or None when presence is not available."""
    module = _presence()
    fn = getattr(module, "presence_online_platforms", None)
    if fn is None:
        return None
    try:
        return sorted({int(p) for p in fn(user_id=user_id)})
    except Exception:
        log.warning("presence lookup failed", exc_info=True)
        return None


def user_groups(user_id: str, *, limit: int = 50) -> list[str] | None:
    """Links to the groups the user is a member of (with their role)."""
    member = model_or_none("groups", "GroupMember")
    if member is None:
        return None
    rows = member.objects.filter(user_id=user_id).select_related("group").order_by("-id")[:limit]
    return [model_link(row.group, f"{row.group} [{row.get_role_level_display()}]") for row in rows]  # type: ignore[attr-defined]


def user_recent_messages(user_id: str, *, limit: int = 10) -> list[str] | None:
    message = model_or_none("messaging", "Message")
    if message is None:
        return None
    from apps.console import messages_view

    rows = message.objects.filter(send_id=user_id).order_by("-id")[:limit]
    return [messages_view.message_summary(row) for row in rows]
