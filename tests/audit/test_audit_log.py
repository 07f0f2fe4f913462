"""The audit log is append-only, whoever writes to it."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from apps.audit.services import SYSTEM, audit_record, audit_record_many

pytestmark = pytest.mark.django_db


def test_a_written_row_cannot_be_changed_or_deleted():
    row = audit_record(actor="root", action="user.ban", target_type="user", target_id="alice", ip="10.0.0.1")
    row.actor = "someone-else"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).update(actor="someone-else")
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).delete()
    assert AuditLog.objects.get(pk=row.pk).actor == "root"


def test_rows_without_an_actor_are_the_system_and_ids_are_text():
    row = audit_record(actor=None, action="offline.purge", target_type="offline_store", target_id=7)  # type: ignore[arg-type]
    assert (row.actor, row.target_id, row.details, row.ip) == (SYSTEM, "7", {}, None)


def test_record_many_writes_one_row_per_target():
    audit_record_many(actor="imAdmin", action="user.register", target_type="user", target_ids=["a", "b", "c"])
    rows = list(AuditLog.objects.order_by("id").values_list("actor", "action", "target_id"))
    assert rows == [("imAdmin", "user.register", t) for t in ("a", "b", "c")]
