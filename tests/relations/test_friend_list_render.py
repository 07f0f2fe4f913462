"""The friend list's plain-row rendering and paging agree with the DRF serializer and paginator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.renderers import JSONRenderer

from apps.common import versionlog
from apps.relations import selectors
from apps.relations.api.serializers import FriendOutput, friends_render
from apps.relations.models import Friend
from apps.relations.services import friends_import


@pytest.fixture
def friends(alice, make_user, notes) -> list[str]:
    ids = ["bob", "carol", "dave"]
    for uid in ids:
        make_user(uid)
    friends_import(owner_id="alice", friend_ids=ids, actor=alice)
    Friend.objects.filter(owner_id="alice", friend_id="carol").update(
        remark="Caz", is_pinned=True, ex={"k": [1, "x"], "n": None},
        created_at=datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    )
    Friend.objects.filter(owner_id="alice", friend_id="dave").update(
        created_at=datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC),  # no microseconds
    )
    return ids


def _json(data: object) -> bytes:
    return JSONRenderer().render(data)


@pytest.mark.parametrize("params", [{}, {"keyword": "caz"}, {"pinned": True}, {"pinned": False}])
def test_fast_render_matches_the_serializer(alice, friends, params):
    fast = friends_render(list(selectors.friend_list_rows(owner_id="alice", **params)))
    slow = FriendOutput(selectors.friend_list(owner_id="alice", **params), many=True).data
    assert fast and _json(fast) == _json(slow)
    if params.get("pinned"):
        assert fast[0]["remark"] == "Caz" and fast[0]["ex"] == {"k": [1, "x"], "n": None}
        assert fast[0]["created_at"] == "2025-01-02T03:04:05.678901Z"


def test_the_api_renders_what_the_serializer_renders(alice, alice_api, friends):
    body = alice_api.get("/api/v1/friends").json()
    assert body["results"] == FriendOutput(selectors.friend_list(owner_id="alice"), many=True).data
    assert [f["friend_user_id"] for f in body["results"]] == ["carol", "bob", "dave"]  # pinned first


@pytest.mark.parametrize(
    ("query", "count", "ids", "next_", "previous"),
    [
        ("limit=2", 3, ["carol", "bob"], "limit=2&offset=2", None),
        ("limit=2&offset=2", 3, ["dave"], None, "limit=2"),
        ("limit=3", 3, ["carol", "bob", "dave"], None, None),
        ("limit=5&offset=1", 3, ["bob", "dave"], None, "limit=5"),
        ("offset=3", 3, [], None, "limit=50"),
        ("offset=9", 3, [], None, "limit=50"),
        ("keyword=nobody", 0, [], None, None),
    ],
)
def test_paging_links_and_count(alice_api, friends, query, count, ids, next_, previous):
    body = alice_api.get(f"/api/v1/friends?{query}").json()
    assert body["count"] == count
    assert [f["friend_user_id"] for f in body["results"]] == ids
    link = "http://testserver/api/v1/friends?"
    assert body["next"] == (link + next_ if next_ else None)
    assert body["previous"] == (link + previous if previous else None)


def test_a_partial_first_page_needs_no_count_query(alice_api, friends, django_assert_num_queries):
    alice_api.get("/api/v1/users/me")  # warm the token and user cache
    versionlog.current_version("friends", "alice")  # and the list's version (the page itself is not cached yet)
    with django_assert_num_queries(1):  # one joined page query
        assert alice_api.get("/api/v1/friends").json()["count"] == 3


def test_fast_render_matches_the_serializer_in_another_time_zone(alice, friends, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # +05:30: the raw UTC values are converted as DRF converts them
    fast = friends_render(list(selectors.friend_list_rows(owner_id="alice")))
    slow = FriendOutput(selectors.friend_list(owner_id="alice"), many=True).data
    assert _json(fast) == _json(slow)
    assert fast[0]["created_at"] == "2025-01-02T08:34:05.678901+05:30"


def test_a_keyword_search_counts_past_a_full_page(alice_api, friends):
    body = alice_api.get("/api/v1/friends", {"keyword": "a", "limit": 1}).json()
    assert body["count"] == 2 and [f["friend_user_id"] for f in body["results"]] == ["carol"]  # carol ("Caz"), dave
