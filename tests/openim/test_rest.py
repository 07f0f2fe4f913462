"""OpenIM REST under /openim/: envelope, headers, bootstrap calls, error mapping, bad input."""

from __future__ import annotations

import base64

import pytest

from apps.accounts.models import User
from apps.openim.proto import pb
from tests.openim.conftest import call, data_of

pytestmark = pytest.mark.django_db


def test_admin_token_needs_the_secret_and_an_admin_user_id():
    wrong = call("/auth/get_admin_token", {"secret": "nope", "userID": "imAdmin"})
    assert wrong["errCode"] == 1002 and wrong["errMsg"]
    not_admin = call("/auth/get_admin_token", {"secret": "test-secret-0123456789", "userID": "bob"})
    assert not_admin["errCode"] == 1002
    ok = call("/auth/get_admin_token", {"secret": "test-secret-0123456789", "userID": "imAdmin"})
    assert ok["errCode"] == 0 and ok["errMsg"] == "" and ok["errDlt"] == ""
    assert ok["data"]["token"] and ok["data"]["expireTimeSeconds"] > 0


def test_register_and_user_token_then_get_users_info_in_openim_field_names(register):
    tokens = register("alice", "bob")
    info = data_of(call("/user/get_users_info", {"userIDs": ["alice", "ghost", "bob"]}, tokens["alice"]))
    users = info["usersInfo"]
    assert [u["userID"] for u in users] == ["alice", "bob"]
    assert users[0]["nickname"] == "Alice" and users[0]["faceURL"] == "" and users[0]["createTime"] > 0
    assert User.objects.filter(user_id__in=["alice", "bob"]).count() == 2


def test_registering_twice_is_1102(register, admin_token):
    register("alice")
    again = call("/user/user_register", {"users": [{"userID": "alice", "nickname": "A"}]}, admin_token)
    assert again["errCode"] == 1102


def test_user_token_and_register_need_an_admin_token(register):
    tokens = register("alice")
    assert call("/auth/get_user_token", {"platformID": 5, "userID": "alice"}, tokens["alice"])["errCode"] == 1002
    reg = call("/user/user_register", {"users": [{"userID": "eve"}]}, tokens["alice"])
    assert reg["errCode"] == 1002


def test_missing_operation_id_and_token_are_openim_errors(register):
    tokens = register("alice")
    no_op = call("/user/get_users_info", {"userIDs": ["alice"]}, tokens["alice"], operation_id="")
    assert no_op["errCode"] == 1001 and "operationID" in no_op["errMsg"]
    no_token = call("/user/get_users_info", {"userIDs": ["alice"]})
    assert no_token["errCode"] == 1502
    forged = call("/user/get_users_info", {"userIDs": ["alice"]}, "not-a-token")
    assert forged["errCode"] == 1502


def test_bad_bodies_get_1001_never_a_500(register):
    token = register("alice")["alice"]
    assert call("/user/get_users_info", raw=b"{not json", token=token)["errCode"] == 1001
    assert call("/user/get_users_info", raw=b"[1, 2]", token=token)["errCode"] == 1001
    assert call("/user/get_users_info", {"userIDs": "alice"}, token)["errCode"] == 1001
    assert call("/user/get_users_info", {"userIDs": [1]}, token)["errCode"] == 1001
    assert call("/msg/mark_conversation_as_read", {"conversationID": "si_a_b", "hasReadSeq": "x"}, token)["errCode"] == 1001


def test_unsupported_paths_answer_an_openim_error_not_a_hang(register):
    token = register("alice")["alice"]
    resp = call("/object/part_size", {"size": 10}, token)
    assert resp["errCode"] == 1001 and "not supported" in resp["errMsg"]


def test_force_logout_kicks_the_token(register, admin_token):
    token = register("alice")["alice"]
    assert data_of(call("/auth/force_logout", {"platformID": 5, "userID": "alice"}, admin_token)) == {}
    assert call("/user/get_users_info", {"userIDs": ["alice"]}, token)["errCode"] == 1506


def test_self_info_sync_calls_answer_with_objects(register):
    token = register("alice")["alice"]
    body = {"userID": "alice", "version": 0, "versionID": ""}
    for path in ("/friend/get_incremental_friends", "/group/get_incremental_join_groups",
                 "/conversation/get_incremental_conversations"):
        data = data_of(call(path, body, token))
        assert data["versionID"] and "version" in data
    assert data_of(call("/friend/get_full_friend_user_ids", {"idHash": 0, "userID": "alice"}, token))["userIDs"] == []
    assert data_of(call("/group/get_full_join_group_ids", {"idHash": 0, "userID": "alice"}, token))["groupIDs"] == []
    assert data_of(call("/conversation/get_not_notify_conversation_ids", {"userID": "alice"}, token)) == {
        "conversationIDs": []
    }


def test_acting_for_another_user_is_1002(register):
    tokens = register("alice", "bob")
    resp = call("/friend/get_incremental_friends", {"userID": "bob", "version": 0, "versionID": ""}, tokens["alice"])
    assert resp["errCode"] == 1002


def test_jssdk_calls_take_protobuf_and_answer_base64_protobuf(register):
    token = register("alice")["alice"]
    req = pb.GetActiveConversationsReq(ownerUserID="alice", count=20)
    data = data_of(call("/jssdk/get_active_conversations", raw=req.SerializeToString(), token=token,
                        content_type="application/x-protobuf"))
    resp = pb.GetConversationsResp.FromString(base64.b64decode(data))
    assert resp.unreadCount == 0 and list(resp.conversations) == []
    bad = call("/jssdk/get_conversations", raw=b"\xff\xff\xff", token=token, content_type="application/x-protobuf")
    assert bad["errCode"] == 1001


def test_friends_apply_accept_and_list(register):
    tokens = register("alice", "bob")
    data_of(call("/friend/add_friend", {"fromUserID": "alice", "toUserID": "bob", "reqMsg": "hi"}, tokens["alice"]))
    applies = data_of(call("/friend/get_friend_apply_list", {"userID": "bob"}, tokens["bob"]))["FriendRequests"]
    assert [(r["fromUserID"], r["reqMsg"], r["handleResult"]) for r in applies] == [("alice", "hi", 0)]
    data_of(call("/friend/add_friend_response", {"fromUserID": "alice", "toUserID": "bob", "handleResult": 1},
                 tokens["bob"]))
    friends = data_of(call("/friend/get_friend_list", {"userID": "alice"}, tokens["alice"]))
    assert friends["total"] == 1 and friends["friendsInfo"][0]["friendUser"]["userID"] == "bob"
    designated = data_of(call("/friend/get_designated_friends", {"ownerUserID": "bob", "friendUserIDs": ["alice"]},
                              tokens["bob"]))
    assert designated["friendsInfo"][0]["friendUser"]["nickname"] == "Alice"
    again = call("/friend/add_friend_response", {"fromUserID": "alice", "toUserID": "bob", "handleResult": 1},
                 tokens["bob"])
    assert again["errCode"] == 1004


def test_create_group_then_info_and_members(register):
    tokens = register("alice", "bob")
    created = data_of(call("/group/create_group", {
        "ownerUserID": "alice", "memberUserIDs": ["bob"], "adminUserIDs": [],
        "groupInfo": {"groupName": "team", "groupType": 2, "creatorUserID": "alice"},
    }, tokens["alice"]))["groupInfo"]
    gid = created["groupID"]
    assert created["groupName"] == "team" and created["ownerUserID"] == "alice" and created["memberCount"] == 2
    infos = data_of(call("/group/get_groups_info", {"groupIDs": [gid]}, tokens["bob"]))["groupInfos"]
    assert infos[0]["groupID"] == gid
    members = data_of(call("/group/get_group_members_info", {"groupID": gid, "userIDs": ["bob"]}, tokens["bob"]))
    assert members["members"][0]["roleLevel"] == 20 and members["members"][0]["nickname"] == "Bob"
    assert data_of(call("/group/get_full_join_group_ids", {"idHash": 0, "userID": "bob"}, tokens["bob"]))[
        "groupIDs"] == [gid]
    wrong_type = call("/group/create_group", {"groupInfo": {"groupName": "x", "groupType": 0}}, tokens["alice"])
    assert wrong_type["errCode"] == 1001


def test_incremental_friends_and_groups_insert_what_was_added_since_the_last_sync(register):
    tokens = register("alice", "bob")
    first = data_of(call("/friend/get_incremental_friends", {"userID": "alice", "version": 0, "versionID": ""},
                         tokens["alice"]))
    groups_first = data_of(call("/group/get_incremental_join_groups", {"userID": "bob", "version": 0,
                                                                       "versionID": ""}, tokens["bob"]))
    assert first["full"] is True and first["insert"] == []
    data_of(call("/friend/add_friend", {"fromUserID": "alice", "toUserID": "bob"}, tokens["alice"]))
    data_of(call("/friend/add_friend_response", {"fromUserID": "alice", "toUserID": "bob", "handleResult": 1},
                 tokens["bob"]))
    gid = data_of(call("/group/create_group", {"memberUserIDs": ["bob"], "groupInfo": {"groupName": "g"}},
                       tokens["alice"]))["groupInfo"]["groupID"]
    later = data_of(call("/friend/get_incremental_friends", {"userID": "alice", "version": first["version"],
                                                             "versionID": first["versionID"]}, tokens["alice"]))
    assert later["full"] is False
    assert [f["friendUser"]["userID"] for f in later["insert"]] == ["bob"]
    groups = data_of(call("/group/get_incremental_join_groups", {
        "userID": "bob", "version": groups_first["version"], "versionID": groups_first["versionID"]}, tokens["bob"]))
    assert [(g["groupID"], g["memberCount"]) for g in groups["insert"]] == [(gid, 2)]
    again = data_of(call("/friend/get_incremental_friends", {"userID": "alice", "version": later["version"],
                                                             "versionID": later["versionID"]}, tokens["alice"]))
    assert again["insert"] == []


def test_pull_msg_by_seq_speaks_openim_json(register):
    tokens = register("alice", "bob")
    from apps.messaging.services import message_send

    message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101, content={"content": "hey"},
                 client_msg_id="c1")
    data = data_of(call("/msg/pull_msg_by_seq", {"userID": "bob", "seqRanges": [
        {"conversationID": "si_alice_bob", "begin": 1, "end": 5, "num": 10}]}, tokens["bob"]))
    (msg,) = data["msgs"]["si_alice_bob"]["Msgs"]
    assert msg["seq"] == 1 and isinstance(msg["sendTime"], int) and msg["clientMsgID"] == "c1"
    assert base64.b64decode(msg["content"]) == b'{"content":"hey"}'
    assert data["notificationMsgs"] == {}
