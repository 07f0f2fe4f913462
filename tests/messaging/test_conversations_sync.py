"""Incremental sync and ETags of the conversation list (GET /api/v1/conversations)."""

from __future__ import annotations

import time

import pytest

from apps.groups import services as groups
from apps.messaging import services
from apps.messaging.notifications import notify_group
from apps.messaging.wire import group_conversation_id

pytestmark = pytest.mark.django_db

G1, G2 = group_conversation_id("g1"), group_conversation_id("g2")


@pytest.fixture
def convs(alice, bob, make_user):
    make_user("carol")
    groups.group_create(owner=alice, name="one", member_ids=["bob"], admin_ids=[], group_id="g1")
    groups.group_create(owner=alice, name="two", member_ids=["carol"], admin_ids=[], group_id="g2")


def _sync(api, since):
    r = api.get("/api/v1/conversations", {"since_version": since})
    assert r.status_code == 200, r.content
    return r.json()


def test_conversation_sync_reports_settings_joins_and_leaving(alice, bob, bob_api, convs):
    start = bob_api.get("/api/v1/conversations").json()
    assert [c["conversation_id"] for c in start["results"]] == [G1] and start["version"] > 0
    services.conversation_update(user_id="bob", conversation_id=G1, is_pinned=True, draft="hi")
    groups.group_invite(group_id="g2", actor=alice, user_ids=["bob"])
    body = _sync(bob_api, start["version"])
    assert body["full"] is False and body["deleted"] == []
    changed = {c["conversation_id"]: c for c in body["changed"]}
    assert set(changed) == {G1, G2}
    assert changed[G1]["is_pinned"] is True and changed[G1]["draft"] == "hi"
    assert changed[G1]["last_message"] is not None  # items as the list renders them
    groups.group_quit(group_id="g2", user=bob)
    later = _sync(bob_api, body["version"])
    assert [(c["conversation_id"], c["is_member"]) for c in later["changed"]] == [(G2, False)]


def test_hiding_a_conversation_is_an_update_with_is_hidden(bob_api, convs):
    start = bob_api.get("/api/v1/conversations").json()["version"]
    services.conversation_update(user_id="bob", conversation_id=G1, is_hidden=True)
    body = _sync(bob_api, start)
    assert [(c["conversation_id"], c["is_hidden"]) for c in body["changed"]] == [(G1, True)]
    assert bob_api.get("/api/v1/conversations").json()["results"] == []


def test_new_messages_do_not_bump_the_version_but_change_the_etag(alice, bob_api, convs, settings):
    settings.IM_CONVERSATION_LIST_CACHE_SECONDS = 0  # every read rendered (the snapshot is tested below)
    first = bob_api.get("/api/v1/conversations")
    assert bob_api.get("/api/v1/conversations", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    notify_group(send_id="alice", group_id="g1", content_type=1509, content={"note": "news"})
    after = bob_api.get("/api/v1/conversations", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert after.json()["version"] == first.json()["version"]  # messages travel by seq sync
    assert after.json()["results"][0]["max_seq"] > first.json()["results"][0]["max_seq"]
    assert _sync(bob_api, first.json()["version"])["changed"] == []


def test_a_page_is_reused_for_the_snapshot_seconds_but_my_changes_show_at_once(alice, bob_api, convs, settings):
    settings.IM_CONVERSATION_LIST_CACHE_SECONDS = 1
    first = bob_api.get("/api/v1/conversations").json()
    notify_group(send_id="alice", group_id="g1", content_type=1509, content={"note": "news"})
    again = bob_api.get("/api/v1/conversations").json()
    assert again == first  # a new message alone: the same snapshot within the second
    max_seq = first["results"][0]["max_seq"] + 1
    services.conversation_read(user_id="bob", conversation_id=G1, seq=max_seq)  # my read mark: a new version
    mine = bob_api.get("/api/v1/conversations").json()
    assert mine["version"] > first["version"]
    assert (mine["results"][0]["max_seq"], mine["results"][0]["read_seq"], mine["results"][0]["unread_count"]) == (
        max_seq, max_seq, 0)
    notify_group(send_id="alice", group_id="g1", content_type=1509, content={"note": "more"})
    time.sleep(1.1)  # the snapshot expires: the next read renders the new message
    assert bob_api.get("/api/v1/conversations").json()["results"][0]["max_seq"] == max_seq + 1


def test_conversation_sync_full_answer_and_bad_version(bob_api, convs):
    body = _sync(bob_api, 0)
    assert body["full"] is True and [c["conversation_id"] for c in body["changed"]] == [G1]
    r = bob_api.get("/api/v1/conversations", {"since_version": "abc"})
    assert r.status_code == 400 and r.json()["code"] == 1001
