"""Running a domain service as an operator, with the audit row every operator action leaves.

Services that audit operator use themselves (bans, group moderation, ...) are called directly
and get the ``reason`` when they take one. ``audited`` is for the corrections whose services
belong to the end-user API and write no audit row (a user deleting their own friend does not
need one; an operator doing it for them does): the service call and the row share one
transaction, so there is never a change without its row or a row without its change. If the
service starts auditing itself, ``audited`` sees its row and adds none: still exactly one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

from apps.audit.models import AuditLog
from apps.audit.services import audit_record

T = TypeVar("T")


def accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def call_with_reason(fn: Callable[..., T], *, reason: str, **kwargs: Any) -> T:
    """Call a service, passing ``reason`` if its signature has one."""
    if accepts(fn, "reason"):
        kwargs["reason"] = reason
    return fn(**kwargs)


def audited(
    fn: Callable[[], T],
    *,
    actor: Any,
    ip: str | None,
    action: str,
    target_type: str,
    target_id: str,
    reason: str,
    details: dict[str, Any] | None = None,
) -> T:
    """Run ``fn`` (a service call) and, unless the service audited it itself, record its row."""
    with transaction.atomic():
        mark = AuditLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
        result = fn()
        already = AuditLog.objects.filter(
            id__gt=mark, actor=actor.user_id, target_type=target_type, target_id=str(target_id)
        ).exists()
        if not already:
            audit_record(
                actor=actor.user_id, action=action, target_type=target_type, target_id=str(target_id),
                details={**(details or {}), "reason": reason}, ip=ip,
            )
    return result
