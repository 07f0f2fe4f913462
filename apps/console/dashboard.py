"""The operator dashboard: live figures, one admin page, also printed by ``manage.py im_stats``."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.accounts.models import User
from apps.audit.models import AuditLog
from apps.common import pushhealth
from apps.common.redisconn import redis_client
from apps.console import insights
from apps.groups.models import Group, GroupStatus
from apps.messaging.models import Message, OfflineMessage
from apps.messaging.retention import AUDIT_ACTION as PURGE_ACTION

log = logging.getLogger(__name__)

CHART_DAYS = 14
ACTIVE_GROUP_DAYS = 7


@dataclass
class Figures:
    generated_at: str
    users_total: int
    users_banned: int
    users_new_today: int
    users_new_7d: int
    users_online: int | None
    messages_total: int | None
    messages_per_day: list[dict[str, Any]] = field(default_factory=list)
    groups_total: int | None = None
    groups_active_7d: int | None = None
    offline_store_rows: int | None = None
    offline_last_purge: str | None = None
    celery_broker: str | None = None
    celery_queue_depth: int | None = None
    # this server process's push counters (apps.common.pushhealth): per node, since its start
    push_health: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _sent_between(start: datetime, end: datetime) -> dict[str, int]:
    """A range filter on ``Message.send_time`` (ms, indexed)."""
    return {"send_time__gte": int(start.timestamp() * 1000), "send_time__lt": int(end.timestamp() * 1000)}


def messages_per_day(days: int = CHART_DAYS, *, today: date | None = None) -> list[dict[str, Any]]:
    """Messages stored per UTC day, oldest first (one indexed count per day)."""
    today = today or datetime.now(UTC).date()
    out = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        flt = _sent_between(_day_start(day), _day_start(day + timedelta(days=1)))
        out.append({"day": day.isoformat(), "count": Message.objects.filter(**flt).count()})
    return out


def _groups_figures(now: datetime) -> tuple[int, int]:
    total = Group.objects.exclude(status=GroupStatus.DISMISSED).count()
    flt = _sent_between(now - timedelta(days=ACTIVE_GROUP_DAYS), now + timedelta(seconds=1))
    active = Message.objects.filter(**flt).exclude(group_id="").values("group_id").distinct().count()
    return total, active


def _offline_figures() -> tuple[int, str | None]:
    last = AuditLog.objects.filter(action=PURGE_ACTION).order_by("-id").only("created_at").first()
    return OfflineMessage.objects.count(), (last.created_at.isoformat(timespec="seconds") if last else None)


def celery_queue_depth() -> tuple[str | None, int | None]:
    """(broker scheme, messages waiting in the default queue) — (None, None) without a broker."""
    url = settings.CELERY_BROKER_URL
    if not url:
        return None, None
    scheme = urlsplit(url).scheme
    if scheme not in {"redis", "rediss"}:
        return scheme, None
    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
    try:
        return scheme, int(redis_client(url, timeout=1).llen(queue))
    except Exception:  # the dashboard renders without the broker
        log.warning("celery queue depth unavailable", exc_info=True)
        return scheme, None


def figures_collect(*, today: date | None = None) -> Figures:
    now = datetime.now(UTC)
    today = today or now.date()
    users = User.objects.all()
    groups_total, groups_active = _groups_figures(now)
    offline_rows, last_purge = _offline_figures()
    broker, depth = celery_queue_depth()
    return Figures(
        generated_at=now.isoformat(timespec="seconds"),
        users_total=users.count(),
        users_banned=users.filter(is_banned=True).count(),
        users_new_today=users.filter(created_at__gte=_day_start(today)).count(),
        users_new_7d=users.filter(created_at__gte=_day_start(today - timedelta(days=6))).count(),
        users_online=insights.online_user_count(),
        messages_total=Message.objects.count(),
        messages_per_day=messages_per_day(today=today),
        groups_total=groups_total,
        groups_active_7d=groups_active,
        offline_store_rows=offline_rows,
        offline_last_purge=last_purge,
        celery_broker=broker,
        celery_queue_depth=depth,
        push_health=pushhealth.counters(),
    )


# ----------------------------------------------------------------------- chart
CHART_W, CHART_H, CHART_PAD = 700, 220, 28


def chart_bars(per_day: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bar geometry for the inline SVG chart (no scripts, no external assets)."""
    if not per_day:
        return []
    peak = max(d["count"] for d in per_day) or 1
    slot = (CHART_W - 2 * CHART_PAD) / len(per_day)
    usable = CHART_H - 2 * CHART_PAD
    bars = []
    for i, d in enumerate(per_day):
        h = round(usable * d["count"] / peak, 1)
        x = round(CHART_PAD + i * slot + slot * 0.15, 1)
        bars.append({
            "x": x, "w": round(slot * 0.7, 1), "y": round(CHART_H - CHART_PAD - h, 1), "h": h,
            "label": d["day"][5:], "count": d["count"], "cx": round(x + slot * 0.35, 1),
            "ty": round(CHART_H - CHART_PAD - h - 4, 1),
        })
    return bars


SETTINGS_SHOWN = (
    "IM_OFFLINE_RETENTION_DAYS", "IM_MULTI_LOGIN_POLICY", "IM_TOKEN_TTL_SECONDS", "IM_GROUP_MAX_MEMBERS",
    "IM_REVOKE_WINDOW_SECONDS", "IM_FRIENDS_ONLY_CHAT", "IM_WS_MAX_CONNECTIONS", "IM_SEND_BATCH_WINDOW_MS",
)


def dashboard_view(request: HttpRequest) -> TemplateResponse:
    if not request.user.has_perm("console.view_dashboard"):
        raise PermissionDenied
    figures = figures_collect()
    show_settings = request.user.has_perm("console.view_settings")
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "f": figures,
        "bars": chart_bars(figures.messages_per_day),
        "chart_w": CHART_W,
        "chart_h": CHART_H,
        "chart_base": CHART_H - CHART_PAD,
        "chart_days": CHART_DAYS,
        "settings_rows": [(k, getattr(settings, k, None)) for k in SETTINGS_SHOWN] if show_settings else None,
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
