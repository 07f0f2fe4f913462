"""blocked_pairs / friend_pairs: set-wise answers from the per-pair cache, at most one query per call."""

from __future__ import annotations

import pytest

from apps.messaging.services.send import SendRequest, messages_send
from apps.relations import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(alice, bob, make_user):
    return [alice, bob, *(make_user(u) for u in ("carol", "dave", "erin"))]


def test_blocked_pairs_answers_many_pairs_with_one_query_then_none(people, notes, django_assert_num_queries):
    alice, bob = people[:2]
    services.black_add(owner=alice, user_id="bob")
    services.black_add(owner=bob, user_id="carol")
    pairs = {("alice", "bob"), ("bob", "alice"), ("bob", "carol"), ("dave", "erin"), ("erin", "alice")}
    with django_assert_num_queries(1):
        assert selectors.blocked_pairs(pairs) == {("alice", "bob"), ("bob", "carol")}
    with django_assert_num_queries(0):
        assert selectors.blocked_pairs(pairs) == {("alice", "bob"), ("bob", "carol")}
    # the single-pair selector reads the same cache entries
    with django_assert_num_queries(0):
        assert selectors.is_blocked(owner_id="alice", target_id="bob") is True
        assert selectors.is_blocked(owner_id="dave", target_id="erin") is False
    services.black_remove(owner=alice, user_id="bob")
    assert selectors.blocked_pairs(pairs) == {("bob", "carol")}
    assert selectors.blocked_pairs([]) == set()


def test_friend_pairs_follows_changes(people, notes, django_assert_num_queries):
    alice = people[0]
    services.friends_import(owner_id="alice", friend_ids=["bob", "carol"], actor=alice)
    pairs = [("alice", "bob"), ("carol", "alice"), ("alice", "dave")]
    with django_assert_num_queries(1):
        assert selectors.friend_pairs(pairs) == {("alice", "bob"), ("carol", "alice")}
    services.friend_delete(owner=alice, friend_id="bob")
    with django_assert_num_queries(1):  # only the invalidated pair is read again
        assert selectors.friend_pairs(pairs) == {("carol", "alice")}


def test_a_cold_batch_to_many_recipients_costs_one_relation_query(people, settings, django_assert_num_queries):
    settings.IM_FRIENDS_ONLY_CHAT = False
    reqs = [SendRequest(send_id="alice", session_type=1, recv_id=u, content_type=101, content={"content": "x"},
                        client_msg_id=f"c-{u}") for u in ("bob", "carol", "dave", "erin")]
    # the warm budget (9, tests/messaging/test_api.py) plus one blacklist query for all four pairs
    with django_assert_num_queries(10):
        results = messages_send(reqs)
    assert all(getattr(r, "ack", None) for r in results)
