from __future__ import annotations

import pytest
from django.urls import reverse

from apps.audit.models import AuditLog
from apps.relations import services as rel
from apps.relations.models import Black, Friend, FriendRequest, HandleResult
from tests.admin.conftest import OPERATOR_IP, action_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def friends(alice, bob, admin_user):
    rel.friends_import(owner_id="alice", friend_ids=["bob"], actor=admin_user)
    return Friend.objects.get(owner_id="alice", friend_id="bob")


def test_superuser_removes_a_friendship_both_ways_with_one_audit_row(su_client, friends):
    url = reverse("admin:relations_friend_changelist")
    assert action_post(su_client, url, "remove_friendships", [friends.pk], reason="fraud ring").status_code == 302
    assert not Friend.objects.filter(owner_id__in=["alice", "bob"]).exists()
    rows = list(AuditLog.objects.filter(action="friend.remove").values_list("actor", "target_id", "ip", "details"))
    assert rows == [("root", "alice", OPERATOR_IP, {"friend_user_id": "bob", "reason": "fraud ring"})]


def test_superuser_removes_a_blacklist_entry(su_client, alice, bob):
    rel.black_add(owner=alice, user_id="bob")
    row = Black.objects.get()
    assert action_post(su_client, reverse("admin:relations_black_changelist"), "unblock", [row.pk]).status_code == 302
    assert not Black.objects.exists()
    assert AuditLog.objects.filter(action="black.remove", actor="root", target_id="alice").count() == 1


def test_superuser_refuses_a_pending_friend_request(su_client, alice, bob):
    req = rel.friend_request_send(from_user=alice, to_user_id="bob", message="hi")
    url = reverse("admin:relations_friendrequest_changelist")
    assert action_post(su_client, url, "refuse_requests", [req.pk]).status_code == 302
    req.refresh_from_db()
    assert req.handle_result == HandleResult.REFUSED
    assert AuditLog.objects.filter(action="friend_request.refuse", actor="root").count() == 1


def test_moderator_reads_relations_but_cannot_correct(mod_client, friends):
    url = reverse("admin:relations_friend_changelist")
    page = mod_client.get(url)
    assert page.status_code == 200 and b"remove_friendships" not in page.content
    action_post(mod_client, url, "remove_friendships", [friends.pk])
    assert Friend.objects.filter(pk=friends.pk).exists()
    assert mod_client.get(reverse("admin:relations_black_changelist")).status_code == 200
    assert mod_client.get(reverse("admin:relations_friendrequest_changelist")).status_code == 200


def test_staff_without_permissions_sees_no_relations(staff_client, friends):
    for name in ("friend", "black", "friendrequest"):
        assert staff_client.get(reverse(f"admin:relations_{name}_changelist")).status_code == 403


def test_relation_changelists_query_budget(su_client, make_user, admin_user, django_assert_num_queries):
    users = [make_user(f"r{i}") for i in range(12)]
    for u in users[1:]:
        rel.friends_import(owner_id=users[0].user_id, friend_ids=[u.user_id], actor=admin_user)
        rel.friend_request_send(from_user=u, to_user_id=admin_user.user_id)
    for name in ("friend", "friendrequest", "black"):
        url = reverse(f"admin:relations_{name}_changelist")
        su_client.get(url)
        with django_assert_num_queries(4):  # session, user, count, page
            assert su_client.get(url).status_code == 200
    assert FriendRequest.objects.count() == 11
