from __future__ import annotations

from typing import Any

from django.db import models


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    """No bulk changes either: ``update()`` and ``delete()`` refuse like the row methods."""

    def update(self, **kwargs: object) -> int:
        raise PermissionError("audit rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit rows are append-only")


class AuditLog(models.Model):
    """Append-only record of an operator or sensitive action. Written by services only."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=64, db_index=True, help_text="user_id of who acted, or 'system'")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32, db_index=True)
    target_id = models.CharField(max_length=128, db_index=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit rows are append-only")
