"""Writing the audit log: the only way rows get in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from apps.audit.models import AuditLog

SYSTEM = "system"


@dataclass(frozen=True)
class OperatorAction:
    """An operator acting through a service that end users call too.

    The service takes it as ``operator=`` and, when given, writes the action's one audit
    row (actor, IP, reason) in its own transaction; end users' calls pass nothing and
    leave no row. Services only operators call take ``actor``/``reason``/``ip`` directly.
    """

    actor: str  # the operator's user_id
    reason: str
    ip: str | None = None

    def record(self, *, action: str, target_type: str, target_id: str, details: dict[str, Any]) -> AuditLog:
        return audit_record(
            actor=self.actor, action=action, target_type=target_type, target_id=target_id,
            details={**details, "reason": self.reason}, ip=self.ip,
        )


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
