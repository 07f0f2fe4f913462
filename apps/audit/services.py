"""Writing the audit log: the only way rows get in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.audit.models import AuditLog

SYSTEM = "system"


def audit_record(
    *,
    actor: str | None,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor or SYSTEM,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        details=details or {},
        ip=ip or None,
    )


def audit_record_many(
    *,
    actor: str | None,
    action: str,
    target_type: str,
    target_ids: Iterable[str],
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    AuditLog.objects.bulk_create(
        [
            AuditLog(
                actor=actor or SYSTEM,
                action=action,
                target_type=target_type,
                target_id=str(target_id),
                details=details or {},
                ip=ip or None,
            )
            for target_id in target_ids
        ]
    )
