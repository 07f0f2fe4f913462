"""The hot reads used on every group send: answers, error codes, caching and invalidation."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache

from apps.common.errors import Code, DomainError
from apps.groups import selectors, services
from apps.groups.models import Role


@pytest.fixture
def group(make_user, alice, bob, notes):
    carol = make_user("carol")
    return services.group_create(owner=alice, name="g", member_ids=[carol.user_id], admin_ids=[bob.user_id])


def _code(fn, **kw) -> int:
    with pytest.raises(DomainError) as err:
        fn(**kw)
    return err.value.code


def test_send_check_returns_role_of_each_member(group):
    assert selectors.group_send_check(group_id=group.group_id, user_id="alice") == Role.OWNER
    assert selectors.group_send_check(group_id=group.group_id, user_id="bob") == Role.ADMIN
    assert selectors.group_send_check(group_id=group.group_id, user_id="carol") == Role.MEMBER


def test_send_check_unknown_group_is_1201(db):
    assert _code(selectors.group_send_check, group_id="nope", user_id="x") == Code.GROUP_NOT_FOUND


def test_send_check_non_member_is_1203(group, make_user):
    make_user("dave")
    assert _code(selectors.group_send_check, group_id=group.group_id, user_id="dave") == Code.NOT_IN_GROUP


def test_send_check_dismissed_is_1204(group, alice):
    selectors.group_send_check(group_id=group.group_id, user_id="carol")  # warm the cache
    services.group_dismiss(group_id=group.group_id, actor=alice)
    assert _code(selectors.group_send_check, group_id=group.group_id, user_id="carol") == Code.GROUP_DISMISSED
    # the role is still readable after dismissal
    assert selectors.group_member_role(group_id=group.group_id, user_id="carol") == Role.MEMBER


def test_send_check_muted_member_is_1402_until_the_mute_ends(group, alice):
    with time_machine.travel("2030-01-01 00:00:00", tick=False) as clock:
        selectors.group_send_check(group_id=group.group_id, user_id="carol")
        services.group_member_mute(group_id=group.group_id, actor=alice, user_id="carol", seconds=60)
        assert _code(selectors.group_send_check, group_id=group.group_id, user_id="carol") == Code.MUTED
        clock.shift(61)
        assert selectors.group_send_check(group_id=group.group_id, user_id="carol") == Role.MEMBER


def test_send_check_group_muted_is_1403_except_owner_and_admins(group, alice):
    selectors.group_send_check(group_id=group.group_id, user_id="carol")
    services.group_mute(group_id=group.group_id, actor=alice, muted=True)
    assert _code(selectors.group_send_check, group_id=group.group_id, user_id="carol") == Code.GROUP_MUTED
    assert selectors.group_send_check(group_id=group.group_id, user_id="bob") == Role.ADMIN
    assert selectors.group_send_check(group_id=group.group_id, user_id="alice") == Role.OWNER
    services.group_mute(group_id=group.group_id, actor=alice, muted=False)
    assert selectors.group_send_check(group_id=group.group_id, user_id="carol") == Role.MEMBER


def test_send_check_is_cached_after_the_first_call(group, django_assert_num_queries):
    cache.clear()
    with django_assert_num_queries(2):
        selectors.group_send_check(group_id=group.group_id, user_id="carol")
    with django_assert_num_queries(0):
        selectors.group_send_check(group_id=group.group_id, user_id="carol")
        selectors.group_member_role(group_id=group.group_id, user_id="carol")


def test_member_and_user_group_ids_follow_membership_changes(group, alice, make_user):
    gid = group.group_id
    assert selectors.group_member_ids(group_id=gid) == ["alice", "bob", "carol"]
    assert selectors.user_group_ids(user_id="carol") == [gid]
    services.group_kick(group_id=gid, actor=alice, user_ids=["carol"])
    assert selectors.group_member_ids(group_id=gid) == ["alice", "bob"]
    assert selectors.user_group_ids(user_id="carol") == []
    assert selectors.group_member_role(group_id=gid, user_id="carol") is None
    assert _code(selectors.group_send_check, group_id=gid, user_id="carol") == Code.NOT_IN_GROUP
    make_user("dave")
    services.group_invite(group_id=gid, actor=alice, user_ids=["dave"])
    assert selectors.group_member_ids(group_id=gid) == ["alice", "bob", "dave"]
    assert selectors.user_group_ids(user_id="dave") == [gid]
    assert selectors.group_member_role(group_id=gid, user_id="dave") == Role.MEMBER


def test_role_cache_follows_set_role_and_transfer(group, alice):
    gid = group.group_id
    assert selectors.group_member_role(group_id=gid, user_id="carol") == Role.MEMBER
    services.group_member_set_role(group_id=gid, actor=alice, user_id="carol", role_level=Role.ADMIN)
    assert selectors.group_member_role(group_id=gid, user_id="carol") == Role.ADMIN
    services.group_transfer(group_id=gid, actor=alice, new_owner_id="carol")
    assert selectors.group_member_role(group_id=gid, user_id="carol") == Role.OWNER
    assert selectors.group_member_role(group_id=gid, user_id="alice") == Role.MEMBER


def test_odd_user_ids_make_safe_cache_keys(make_user, alice, notes):
    odd = make_user("odd user/é")
    g = services.group_create(owner=alice, name="g", member_ids=[odd.user_id], admin_ids=[])
    assert selectors.group_send_check(group_id=g.group_id, user_id=odd.user_id) == Role.MEMBER
