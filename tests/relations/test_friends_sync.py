"""Incremental sync, versioned page cache and ETags of the friend list (GET /api/v1/friends)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.common import versionlog
from apps.relations import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def friends(alice, make_user, admin_user):
    """alice with friends f1..f3 (imported), at a known version."""
    for i in range(1, 4):
        make_user(f"f{i}")
    services.friends_import(owner_id="alice", friend_ids=["f1", "f2", "f3"], actor=admin_user)
    return admin_user


def _sync(api, since):
    r = api.get("/api/v1/friends", {"since_version": since})
    assert r.status_code == 200, r.content
    return r.json()


def _ids(items):
    return sorted(i["friend_user_id"] for i in items)


def test_paged_friend_list_carries_the_version_the_sync_starts_from(alice_api, friends):
    body = alice_api.get("/api/v1/friends").json()
    assert body["count"] == 3
    assert body["version"] == versionlog.db_version("friends", "alice") > 0
    assert _sync(alice_api, body["version"]) == {"version": body["version"], "full": False, "changed": [], "deleted": []}


def test_sync_returns_inserts_updates_and_deletes_collapsed_per_friend(alice, alice_api, friends, make_user):
    start = alice_api.get("/api/v1/friends").json()["version"]
    make_user("f4")
    services.friends_import(owner_id="alice", friend_ids=["f4"], actor=friends)  # insert
    services.friend_update(owner=alice, friend_id="f4", data={"remark": "four"})  # then update: one item
    services.friend_update(owner=alice, friend_id="f1", data={"is_pinned": True})  # update
    services.friend_delete(owner=alice, friend_id="f2")  # delete
    services.friend_update(owner=alice, friend_id="f3", data={"remark": "x"})
    services.friend_delete(owner=alice, friend_id="f3")  # update then delete: deleted
    body = _sync(alice_api, start)
    assert body["full"] is False
    assert body["version"] == start + 6
    assert _ids(body["changed"]) == ["f1", "f4"]
    assert sorted(body["deleted"]) == ["f2", "f3"]
    f4 = next(i for i in body["changed"] if i["friend_user_id"] == "f4")
    assert f4["remark"] == "four" and f4["friend_user"]["nickname"] == "F4"  # rendered as the list renders it
    assert _sync(alice_api, body["version"])["changed"] == []


def test_a_friend_deleted_and_added_again_comes_back_as_changed(alice, alice_api, friends):
    start = alice_api.get("/api/v1/friends").json()["version"]
    services.friend_delete(owner=alice, friend_id="f1")
    services.friends_import(owner_id="alice", friend_ids=["f1"], actor=friends)
    body = _sync(alice_api, start)
    assert (_ids(body["changed"]), body["deleted"]) == (["f1"], [])


def test_a_friends_profile_change_is_an_update_in_my_list(alice_api, friends):
    start = alice_api.get("/api/v1/friends").json()["version"]
    account_services.user_update(user=User.objects.get(user_id="f2"), data={"nickname": "Second"}, actor=None)
    body = _sync(alice_api, start)
    assert [(i["friend_user_id"], i["friend_user"]["nickname"]) for i in body["changed"]] == [("f2", "Second")]


def test_version_zero_unknown_or_future_versions_get_the_full_list(alice_api, friends):
    head = versionlog.db_version("friends", "alice")
    for since in (0, head + 5):
        body = _sync(alice_api, since)
        assert body["full"] is True and body["version"] == head
        assert _ids(body["changed"]) == ["f1", "f2", "f3"] and body["deleted"] == []


def test_a_user_without_any_change_yet_gets_an_empty_full_list(bob_api):
    assert _sync(bob_api, 0) == {"version": 0, "full": True, "changed": [], "deleted": []}


def test_a_trimmed_log_answers_the_full_list_to_clients_behind_it(alice, alice_api, friends, settings):
    settings.IM_VERSION_LOG_KEEP = 2
    old = alice_api.get("/api/v1/friends").json()["version"]
    for i in range(4):
        services.friend_update(owner=alice, friend_id="f1", data={"remark": f"r{i}"})
    assert versionlog.trim() > 0
    body = _sync(alice_api, old)
    assert body["full"] is True and _ids(body["changed"]) == ["f1", "f2", "f3"]
    recent = _sync(alice_api, body["version"] - 1)  # still in the kept log
    assert recent["full"] is False and _ids(recent["changed"]) == ["f1"]


def test_the_log_is_trimmed_on_write_as_well(alice, friends, settings):
    settings.IM_VERSION_LOG_KEEP = 3
    n = 0
    while versionlog.db_version("friends", "alice") < versionlog.TRIM_EVERY:
        n += 1
        services.friend_update(owner=alice, friend_id="f1", data={"remark": f"r{n}"})
    assert versionlog.changes_since("friends", "alice", 1).full is True
    assert versionlog.changes_since("friends", "alice", versionlog.TRIM_EVERY - 3).full is False


@pytest.mark.parametrize("bad", ["-1", "x", "1.5", "99999999999999999999999"])
def test_a_bad_since_version_is_a_bad_argument(alice_api, friends, bad):
    r = alice_api.get("/api/v1/friends", {"since_version": bad})
    assert r.status_code == 400 and r.json()["code"] == 1001


def test_a_repeat_read_with_the_etag_is_not_modified(alice_api, friends):
    first = alice_api.get("/api/v1/friends")
    etag = first["ETag"]
    again = alice_api.get("/api/v1/friends", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    other_page = alice_api.get("/api/v1/friends", {"limit": 1}, HTTP_IF_NONE_MATCH=etag)
    assert other_page.status_code == 200 and len(other_page.json()["results"]) == 1


def test_the_cached_page_is_served_until_a_change_and_then_shows_it(alice, alice_api, friends):
    first = alice_api.get("/api/v1/friends").json()
    with CaptureQueriesContext(connection) as queries:  # the version and the page come from the cache
        repeat = alice_api.get("/api/v1/friends").json()
    assert repeat == first
    touched = " ".join(q["sql"] for q in queries.captured_queries)
    assert "relations_friend" not in touched and "common_version" not in touched
    services.friend_update(owner=alice, friend_id="f3", data={"remark": "new"})
    after = alice_api.get("/api/v1/friends")
    assert after.json()["version"] == first["version"] + 1
    assert {i["friend_user_id"]: i["remark"] for i in after.json()["results"]}["f3"] == "new"
    assert alice_api.get("/api/v1/friends", HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_a_lost_version_cache_heals_from_the_database(alice, alice_api, friends):
    alice_api.get("/api/v1/friends")
    cache.delete(versionlog.version_key("friends", "alice"))
    assert alice_api.get("/api/v1/friends").json()["version"] == versionlog.db_version("friends", "alice")


def test_the_cached_version_is_never_lowered(alice, friends):
    head = versionlog.current_version("friends", "alice")
    versionlog.publish("friends", {"alice": head - 1})
    assert versionlog.current_version("friends", "alice") == head
    versionlog.publish("friends", {"alice": head + 1})
    assert versionlog.current_version("friends", "alice") == head + 1


def test_a_repeat_read_is_one_cache_read_and_no_query(alice_api, friends, monkeypatch):
    alice_api.get("/api/v1/friends")  # the page rendered, kept in the cache and in this process
    reads: list[list[str]] = []
    inside = []  # the local-memory cache answers get_many with get: count the outer call only
    get_many, get = cache.get_many, cache.get

    def counted_get_many(keys, *a, **k):
        reads.append(list(keys))
        inside.append(1)
        try:
            return get_many(keys, *a, **k)
        finally:
            inside.pop()

    monkeypatch.setattr(cache, "get_many", counted_get_many)
    def counted_get(key, *a, **k):
        if not inside:
            reads.append([key])
        return get(key, *a, **k)

    monkeypatch.setattr(cache, "get", counted_get)
    with CaptureQueriesContext(connection) as queries:
        repeat = alice_api.get("/api/v1/friends")
    assert repeat.status_code == 200 and len(repeat.json()["results"]) == 3
    assert queries.captured_queries == []
    # the token's status, its user and the list's version, together
    assert len(reads) == 1 and versionlog.version_key("friends", "alice") in reads[0], reads


def test_a_page_kept_in_the_process_gives_way_to_the_next_version(alice, alice_api, friends):
    first = alice_api.get("/api/v1/friends").json()
    cache.clear()  # only this process's copy is left (and the version is read again from the database)
    assert alice_api.get("/api/v1/friends").json() == first
    services.friend_update(owner=alice, friend_id="f1", data={"remark": "later"})
    after = alice_api.get("/api/v1/friends").json()
    assert after["version"] > first["version"]
    assert {i["friend_user_id"]: i["remark"] for i in after["results"]}["f1"] == "later"
