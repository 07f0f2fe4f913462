"""Translation only: imserver records to OpenIM shapes and back, envelopes and error mapping."""

from __future__ import annotations

import json

from apps.common.errors import Code, DomainError
from apps.openim import envelope, wire
from apps.openim.proto import pb


def _message(**extra):
    base = {
        "server_msg_id": "s1", "client_msg_id": "c1", "conversation_id": "si_alice_bob", "seq": 7,
        "send_id": "alice", "recv_id": "bob", "group_id": "", "session_type": 1, "content_type": 101,
        "content": {"content": "hi"}, "send_time": 1700000000123, "status": 2, "sender_platform_id": 5,
        "sender_nickname": "Alice", "sender_face_url": "http://f",
    }
    return {**base, **extra}


def test_a_text_message_becomes_msg_data_with_every_field_the_sdk_reads():
    m = wire.msg_data(_message())
    assert (m.sendID, m.recvID, m.groupID, m.clientMsgID, m.serverMsgID) == ("alice", "bob", "", "c1", "s1")
    assert (m.seq, m.sendTime, m.createTime, m.status, m.msgFrom) == (7, 1700000000123, 1700000000123, 2, 100)
    assert (m.sessionType, m.contentType, m.senderPlatformID) == (1, 101, 5)
    assert (m.senderNickname, m.senderFaceURL) == ("Alice", "http://f")
    assert json.loads(m.content) == {"content": "hi"}
    assert m.attachedInfo == "" and dict(m.options) == {}


def test_deleted_and_revoked_messages_become_status_4_without_content():
    for status in (4, 5):
        m = wire.msg_data(_message(status=status, content={}))
        assert m.status == 4 and m.content == b""


def test_notifications_are_wrapped_as_detail_with_openim_tip_keys():
    group_tip = {"group": {"group_id": "g1", "name": "team", "owner_user_id": "alice", "status": 0,
                           "need_verification": 0, "face_url": ""}, "op_user_id": "alice"}
    m = wire.msg_data(_message(content_type=1501, session_type=3, group_id="g1", content=group_tip))
    assert m.msgFrom == 200
    detail = json.loads(json.loads(m.content)["detail"])
    assert detail["group"]["groupID"] == "g1" and detail["group"]["groupName"] == "team"
    assert detail["opUser"] == {"userID": "alice", "groupID": "g1"}
    invited = json.loads(json.loads(wire.content_out(1509, {**group_tip, "invited_user_ids": ["bob"]}))["detail"])
    assert invited["invitedUserList"] == [{"userID": "bob", "groupID": "g1"}]
    entered = json.loads(json.loads(wire.content_out(1510, {**group_tip, "entrant_user_id": "bob"}))["detail"])
    assert entered["entrantUser"] == {"userID": "bob", "groupID": "g1"}
    friend_tip = {"from_user_id": "alice", "to_user_id": "bob", "message": "hi"}
    detail = json.loads(json.loads(wire.content_out(1203, friend_tip))["detail"])
    assert detail["fromToUserID"] == {"fromUserID": "alice", "toUserID": "bob"} and detail["message"] == "hi"


def test_push_puts_chat_conversations_in_msgs_and_n_conversations_in_notification_msgs():
    push = wire.push_messages([_message(), _message(conversation_id="n_alice_bob", seq=1, content_type=2101)])
    assert list(push.msgs) == ["si_alice_bob"] and list(push.notificationMsgs) == ["n_alice_bob"]
    created = wire.push_messages([_message(conversation_id="sg_g1", session_type=3, group_id="g1",
                                           content_type=1501, content={"group": {"group_id": "g1"}})])
    assert created.msgs["sg_g1"].Msgs[0].contentType == created.notificationMsgs["n_g1"].Msgs[0].contentType
    friend = wire.push_messages([_message(content_type=1201, content={"from_user_id": "a", "to_user_id": "b"})])
    assert friend.msgs["si_alice_bob"].Msgs[0].contentType == 1201
    assert friend.notificationMsgs["n_alice_bob"].Msgs[0].contentType == 1201


def test_empty_pulls_keep_their_conversation_key():
    resp = wire.fill_maps(pb.GetSeqMessageResp(), {"si_a_b": [], "n_a_b": []})
    assert b"\n\x06si_a_b\x12" in resp.SerializeToString()  # key, then a value field (SDK needs both)
    assert "si_a_b" in resp.msgs and list(resp.msgs["si_a_b"].Msgs) == []
    assert "n_a_b" in resp.notificationMsgs
    # an empty PullMsgs still goes on the wire as a map entry with a value (the SDK drops entries without one)
    again = pb.GetSeqMessageResp.FromString(resp.SerializeToString())
    assert "si_a_b" in again.msgs


def test_read_receipt_is_a_2200_notification_in_the_n_twin():
    push = wire.read_receipt({"conversation_id": "si_alice_bob", "user_id": "bob", "read_seq": 3})
    (note,) = push.notificationMsgs["n_alice_bob"].Msgs
    assert note.contentType == 2200
    assert json.loads(json.loads(note.content)["detail"]) == {
        "conversationID": "si_alice_bob", "markAsReadUserID": "bob", "seqs": [], "hasReadSeq": 3}


def test_ex_is_a_string_outside_and_an_object_inside():
    assert wire.ex_out({}) == "" and wire.ex_out({"a": 1}) == '{"a":1}'
    assert wire.ex_in("") == {} and wire.ex_in('{"a": 1}') == {"a": 1}
    assert wire.ex_in("plain") == {"ex": "plain"} and wire.ex_in("[1]") == {"ex": "[1]"}


def test_content_in_accepts_only_json():
    assert wire.content_in(b'{"content": "x"}') == {"content": "x"}
    assert wire.content_in(b"not json") is None and wire.content_in(b"") is None


def test_envelopes_keep_imserver_codes_which_are_openims():
    assert envelope.ok({"x": 1}) == {"errCode": 0, "errMsg": "", "errDlt": "", "data": {"x": 1}}
    assert envelope.ok(None)["data"] == {}
    err = envelope.error(DomainError(Code.ALREADY_REGISTERED, "already registered: a", data={"user_ids": ["a"]}))
    assert err == {"errCode": 1102, "errMsg": "already registered: a", "errDlt": "user_ids=['a']"}
    for code in (Code.TOKEN_EXPIRED, Code.TOKEN_INVALID, Code.TOKEN_KICKED, Code.TOKEN_UNKNOWN, Code.NOT_IN_GROUP):
        assert envelope.error(DomainError(code))["errCode"] == int(code)
    assert envelope.internal()["errCode"] == 500
