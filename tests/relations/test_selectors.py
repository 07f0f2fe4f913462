"""is_blocked / are_friends: answers, caching and invalidation on change."""

from __future__ import annotations

from apps.relations import selectors, services


def test_is_blocked_follows_blacklist_changes(alice, bob, notes, django_assert_num_queries):
    assert selectors.is_blocked(owner_id="alice", target_id="bob") is False
    services.black_add(owner=alice, user_id="bob")
    assert selectors.is_blocked(owner_id="alice", target_id="bob") is True
    assert selectors.is_blocked(owner_id="bob", target_id="alice") is False  # one way
    with django_assert_num_queries(0):
        assert selectors.is_blocked(owner_id="alice", target_id="bob") is True
    services.black_remove(owner=alice, user_id="bob")
    assert selectors.is_blocked(owner_id="alice", target_id="bob") is False


def test_are_friends_follows_accept_and_delete(alice, bob, notes, django_assert_num_queries):
    assert selectors.are_friends(user_id="alice", friend_id="bob") is False
    req = services.friend_request_send(from_user=alice, to_user_id="bob", message="hi")
    services.friend_request_accept(request_id=req.pk, by=bob)
    assert selectors.are_friends(user_id="alice", friend_id="bob") is True
    assert selectors.are_friends(user_id="bob", friend_id="alice") is True
    with django_assert_num_queries(0):
        assert selectors.are_friends(user_id="alice", friend_id="bob") is True
    services.friend_delete(owner=alice, friend_id="bob")
    assert selectors.are_friends(user_id="alice", friend_id="bob") is False
    assert selectors.are_friends(user_id="bob", friend_id="alice") is True  # deletion is one-directional
