"""Friend requests, friends and the blacklist over REST: every rule, code and notification."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from apps.messaging.notifications import FriendNote
from apps.relations import selectors
from apps.relations.models import Friend


def _request(api, to: str, message: str = "hi"):
    return api.post("/api/v1/friend-requests", {"to_user_id": to, "message": message}, format="json")


@pytest.fixture
def carol(make_user):
    return make_user("carol")


def test_send_request_notifies_the_receiver_with_1203(alice_api, bob, notes):
    res = _request(alice_api, "bob", "hello bob")
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["from_user_id"] == "alice" and body["to_user_id"] == "bob"
    assert body["message"] == "hello bob" and body["handle_result"] == 0
    [note] = notes.calls
    assert note["content_type"] == FriendNote.REQUEST
    assert (note["session_type"], note["send_id"], note["recv_id"]) == (1, "alice", "bob")
    assert note["content"]["request_id"] == body["request_id"]


def test_cannot_add_yourself_1301(alice_api, notes):
    res = _request(alice_api, "alice")
    assert res.status_code == 400 and res.json()["code"] == 1301


def test_unknown_user_1101(alice_api, notes):
    res = _request(alice_api, "ghost")
    assert res.status_code == 404 and res.json()["code"] == 1101


def test_bad_input_is_1001(alice_api, notes):
    res = alice_api.post("/api/v1/friend-requests", {"to_user_id": 5, "message": ["x"]}, format="json")
    assert res.status_code == 400 and res.json()["code"] == 1001
    res = alice_api.post("/api/v1/friend-requests", "nope", content_type="application/json")
    assert res.status_code == 400 and res.json()["code"] == 1001


def test_accept_makes_both_friends_and_notifies_1201(alice_api, bob_api, notes):
    rid = _request(alice_api, "bob").json()["request_id"]
    notes.clear()
    res = bob_api.post(f"/api/v1/friend-requests/{rid}/accept", {"handle_msg": "sure"}, format="json")
    assert res.status_code == 200, res.content
    assert res.json()["handle_result"] == 1 and res.json()["handle_msg"] == "sure"
    assert Friend.objects.filter(owner_id="alice", friend_id="bob").exists()
    assert Friend.objects.filter(owner_id="bob", friend_id="alice").exists()
    [note] = notes.calls
    assert note["content_type"] == FriendNote.REQUEST_ACCEPTED
    assert (note["send_id"], note["recv_id"]) == ("bob", "alice")


def test_accepting_twice_is_1305_and_refusing_after_is_1305(alice_api, bob_api, notes):
    rid = _request(alice_api, "bob").json()["request_id"]
    assert bob_api.post(f"/api/v1/friend-requests/{rid}/accept").status_code == 200
    again = bob_api.post(f"/api/v1/friend-requests/{rid}/accept")
    assert again.status_code == 409 and again.json()["code"] == 1305
    refuse = bob_api.post(f"/api/v1/friend-requests/{rid}/refuse")
    assert refuse.status_code == 409 and refuse.json()["code"] == 1305


def test_only_the_receiver_can_handle_a_request(alice_api, bob, carol, api_client_for, notes):
    rid = _request(alice_api, "bob").json()["request_id"]
    assert alice_api.post(f"/api/v1/friend-requests/{rid}/accept").json()["code"] == 1004
    assert api_client_for(carol).post(f"/api/v1/friend-requests/{rid}/accept").status_code == 404
    assert alice_api.post("/api/v1/friend-requests/999999/accept").status_code == 404


def test_crossing_request_is_accepted_too(alice_api, bob_api, notes):
    rid = _request(alice_api, "bob").json()["request_id"]
    crossing = _request(bob_api, "alice").json()["request_id"]
    bob_api.post(f"/api/v1/friend-requests/{rid}/accept")
    sent = bob_api.get("/api/v1/friend-requests", {"direction": "sent"}).json()["results"]
    assert [(r["request_id"], r["handle_result"]) for r in sent] == [(crossing, 1)]
    res = alice_api.post(f"/api/v1/friend-requests/{crossing}/accept")
    assert res.json()["code"] == 1305


def test_refuse_notifies_1202_and_asking_again_reopens(alice_api, bob_api, notes):
    rid = _request(alice_api, "bob").json()["request_id"]
    notes.clear()
    res = bob_api.post(f"/api/v1/friend-requests/{rid}/refuse", {"handle_msg": "no"}, format="json")
    assert res.json()["handle_result"] == -1
    assert notes.types() == [FriendNote.REQUEST_REFUSED] and notes.calls[0]["recv_id"] == "alice"
    again = _request(alice_api, "bob", "please")
    assert again.json()["request_id"] == rid and again.json()["handle_result"] == 0
    assert bob_api.post(f"/api/v1/friend-requests/{rid}/accept").status_code == 200


def test_already_friends_is_1304(alice_api, bob_api, notes):
    rid = _request(alice_api, "bob").json()["request_id"]
    bob_api.post(f"/api/v1/friend-requests/{rid}/accept")
    res = _request(alice_api, "bob")
    assert res.status_code == 409 and res.json()["code"] == 1304
    assert _request(bob_api, "alice").json()["code"] == 1304


def test_request_lists_received_and_sent_with_status_filter(alice_api, bob_api, carol, api_client_for, notes):
    carol_api = api_client_for(carol)
    r1 = _request(alice_api, "bob").json()["request_id"]
    _request(carol_api, "bob")
    bob_api.post(f"/api/v1/friend-requests/{r1}/refuse")
    received = bob_api.get("/api/v1/friend-requests").json()
    assert received["count"] == 2
    assert {r["from_user_id"] for r in received["results"]} == {"alice", "carol"}
    pending = bob_api.get("/api/v1/friend-requests", {"handle_result": 0}).json()
    assert [r["from_user_id"] for r in pending["results"]] == ["carol"]
    sent = alice_api.get("/api/v1/friend-requests", {"direction": "sent"}).json()
    assert [(r["to_user_id"], r["handle_result"]) for r in sent["results"]] == [("bob", -1)]
    assert sent["results"][0]["to_user"]["nickname"] == "Bob"
    assert bob_api.get("/api/v1/friend-requests", {"direction": "sideways"}).json()["code"] == 1001


def _befriend(a_api, b_api, b_id):
    rid = _request(a_api, b_id).json()["request_id"]
    assert b_api.post(f"/api/v1/friend-requests/{rid}/accept").status_code == 200


def test_friend_list_paging_search_remark_pin(alice_api, bob_api, carol, make_user, api_client_for, notes):
    _befriend(alice_api, bob_api, "bob")
    _befriend(alice_api, api_client_for(carol), "carol")
    dave = make_user("dave", nickname="Dave D")
    _befriend(alice_api, api_client_for(dave), "dave")
    notes.clear()
    res = alice_api.patch("/api/v1/friends/carol", {"remark": "Caz", "is_pinned": True, "ex": {"k": 1}}, format="json")
    assert res.status_code == 200 and res.json()["remark"] == "Caz" and res.json()["is_pinned"] is True
    assert notes.types() == [FriendNote.FRIENDS_INFO_UPDATE]
    notes.clear()
    alice_api.patch("/api/v1/friends/bob", {"remark": "B"}, format="json")
    assert notes.types() == [FriendNote.REMARK_SET]
    assert (notes.calls[0]["send_id"], notes.calls[0]["recv_id"]) == ("alice", "alice")
    page = alice_api.get("/api/v1/friends", {"limit": 2}).json()
    assert page["count"] == 3
    assert [f["friend_user_id"] for f in page["results"]] == ["carol", "bob"]  # pinned first
    assert page["results"][0]["friend_user"]["nickname"] == "Carol"
    assert alice_api.get("/api/v1/friends", {"limit": 2, "offset": 2}).json()["results"][0]["friend_user_id"] == "dave"
    by_nick = alice_api.get("/api/v1/friends", {"keyword": "dave d"}).json()["results"]
    assert [f["friend_user_id"] for f in by_nick] == ["dave"]
    by_remark = alice_api.get("/api/v1/friends", {"keyword": "caz"}).json()["results"]
    assert [f["friend_user_id"] for f in by_remark] == ["carol"]
    pinned = alice_api.get("/api/v1/friends", {"pinned": "true"}).json()["results"]
    assert [f["friend_user_id"] for f in pinned] == ["carol"]
    assert alice_api.get("/api/v1/friends/carol").json()["ex"] == {"k": 1}
    assert alice_api.patch("/api/v1/friends/nobody", {"remark": "x"}, format="json").json()["code"] == 1303
    assert alice_api.get("/api/v1/friends/nobody").json()["code"] == 1303


def test_friend_list_query_budget(alice, alice_api, make_user, django_assert_num_queries, notes):
    from apps.relations.services import friends_import

    for i in range(15):
        make_user(f"f{i}")
    friends_import(owner_id="alice", friend_ids=[f"f{i}" for i in range(15)], actor=alice)
    alice_api.get("/api/v1/friends")  # warm the token status and the caller's user row
    # count + one joined page query, whatever the page size
    with django_assert_num_queries(2):
        res = alice_api.get("/api/v1/friends", {"limit": 15})
    assert len(res.json()["results"]) == 15


def test_delete_friend_is_one_directional_and_notifies_1205(alice_api, bob_api, notes):
    _befriend(alice_api, bob_api, "bob")
    notes.clear()
    res = alice_api.delete("/api/v1/friends/bob")
    assert res.status_code == 200 and res.json()["code"] == 0
    assert notes.types() == [FriendNote.FRIEND_DELETED] and notes.calls[0]["recv_id"] == "bob"
    assert alice_api.get("/api/v1/friends").json()["count"] == 0
    assert bob_api.get("/api/v1/friends").json()["count"] == 1
    assert alice_api.delete("/api/v1/friends/bob").json()["code"] == 1303
    status = bob_api.get("/api/v1/friends/alice/status").json()
    assert status == {"user_id": "alice", "is_friend": False, "in_my_list": True, "in_their_list": False,
                      "blocked_by_me": False}
    # the deleter may ask again; the other side still has them, so it is not "already friends"
    assert _request(alice_api, "bob").status_code == 201


def test_is_friend_check(alice_api, bob_api, notes):
    assert alice_api.get("/api/v1/friends/bob/status").json()["is_friend"] is False
    _befriend(alice_api, bob_api, "bob")
    assert alice_api.get("/api/v1/friends/bob/status").json()["is_friend"] is True


def test_admin_import_needs_no_approval_and_is_audited(admin_api, alice, bob, carol, alice_api, notes):
    res = admin_api.post("/api/v1/friend-imports", {"owner_user_id": "alice", "friend_user_ids": ["bob", "carol"]},
                         format="json")
    assert res.status_code == 200 and res.json()["added"] == ["bob", "carol"]
    assert selectors.are_friends(user_id="bob", friend_id="alice")
    assert Friend.objects.get(owner_id="alice", friend_id="bob").add_source == 1
    assert notes.types() == [FriendNote.FRIEND_ADDED, FriendNote.FRIEND_ADDED]
    log = AuditLog.objects.get(action="friend.import")
    assert log.actor == "imAdmin" and log.target_id == "alice"
    again = admin_api.post("/api/v1/friend-imports", {"owner_user_id": "alice", "friend_user_ids": ["bob"]},
                           format="json")
    assert again.json()["added"] == []
    assert admin_api.post("/api/v1/friend-imports", {"owner_user_id": "alice", "friend_user_ids": ["alice"]},
                          format="json").json()["code"] == 1301
    assert admin_api.post("/api/v1/friend-imports", {"owner_user_id": "alice", "friend_user_ids": ["ghost"]},
                          format="json").json()["code"] == 1101
    forbidden = alice_api.post("/api/v1/friend-imports", {"owner_user_id": "alice", "friend_user_ids": ["bob"]},
                               format="json")
    assert forbidden.status_code == 403 and forbidden.json()["code"] == 1002


def test_blacklist_add_list_remove(alice_api, bob, carol, notes):
    res = alice_api.post("/api/v1/blacklist", {"user_id": "bob"}, format="json")
    assert res.status_code == 201 and res.json()["block_user_id"] == "bob"
    assert res.json()["block_user"]["nickname"] == "Bob"
    assert notes.types() == [FriendNote.BLACK_ADDED]
    assert notes.calls[0]["recv_id"] == "alice"  # the blocked user is not told
    assert alice_api.post("/api/v1/blacklist", {"user_id": "bob"}, format="json").json()["code"] == 1003
    assert alice_api.post("/api/v1/blacklist", {"user_id": "alice"}, format="json").json()["code"] == 1301
    assert alice_api.post("/api/v1/blacklist", {"user_id": "ghost"}, format="json").json()["code"] == 1101
    alice_api.post("/api/v1/blacklist", {"user_id": "carol"}, format="json")
    listed = alice_api.get("/api/v1/blacklist").json()
    assert listed["count"] == 2 and {b["block_user_id"] for b in listed["results"]} == {"bob", "carol"}
    notes.clear()
    assert alice_api.delete("/api/v1/blacklist/bob").status_code == 200
    assert notes.types() == [FriendNote.BLACK_REMOVED]
    assert alice_api.delete("/api/v1/blacklist/bob").json()["code"] == 1004
    assert alice_api.get("/api/v1/blacklist").json()["count"] == 1


def test_blocked_users_friend_requests_fail_1302(alice_api, bob_api, notes):
    alice_api.post("/api/v1/blacklist", {"user_id": "bob"}, format="json")
    res = _request(bob_api, "alice")
    assert res.status_code == 403 and res.json()["code"] == 1302
    # the blocker may still ask the blocked user
    assert _request(alice_api, "bob").status_code == 201
    assert alice_api.get("/api/v1/friends/bob/status").json()["blocked_by_me"] is True


def test_endpoints_need_a_token(client, db):
    assert client.get("/api/v1/friends").status_code == 401
    assert client.post("/api/v1/blacklist", {"user_id": "x"}).status_code == 401
