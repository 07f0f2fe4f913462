"""The operator's correction: remove a friendship both ways (friendship_remove)."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from apps.common.errors import Code, DomainError
from apps.relations import selectors, services
from apps.relations.models import Friend

pytestmark = pytest.mark.django_db


def test_removes_both_directions_tells_each_side_and_writes_one_audit_row(alice, bob, admin_user, notes):
    services.friends_import(owner_id="alice", friend_ids=["bob"], actor=admin_user)
    assert selectors.are_friends(user_id="bob", friend_id="alice")  # cached now
    notes.clear()
    before = AuditLog.objects.count()
    services.friendship_remove(user_id="alice", friend_id="bob", actor=admin_user, reason="spam", ip="10.0.0.1")
    assert not Friend.objects.exists()
    assert not selectors.are_friends(user_id="bob", friend_id="alice")  # the cache was invalidated
    assert sorted((c["send_id"], c["recv_id"]) for c in notes.of(1205)) == [("alice", "bob"), ("bob", "alice")]
    rows = list(AuditLog.objects.filter(pk__gt=0).values_list("action", "target_id", "details", "ip"))
    assert AuditLog.objects.count() == before + 1
    assert rows[0] == ("friend.remove", "alice", {"friend_user_id": "bob", "reason": "spam"}, "10.0.0.1")


def test_one_sided_friendship_is_removed_and_only_its_owner_tells(alice, bob, admin_user, notes):
    Friend.objects.create(owner_id="bob", friend_id="alice", created_at="2026-01-01T00:00:00Z")
    services.friendship_remove(user_id="alice", friend_id="bob", actor=admin_user)
    assert not Friend.objects.exists()
    assert [(c["send_id"], c["recv_id"]) for c in notes.of(1205)] == [("bob", "alice")]


def test_users_who_are_not_friends_get_1303_and_no_audit_row(alice, bob, admin_user, notes):
    with pytest.raises(DomainError) as err:
        services.friendship_remove(user_id="alice", friend_id="bob", actor=admin_user)
    assert err.value.code == Code.NOT_FRIENDS
    assert not AuditLog.objects.filter(action="friend.remove").exists()
