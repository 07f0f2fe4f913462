"""The OpenIM websocket at /openim/ws: connection result, heartbeat, send/push/pull, seqs, kick, errors."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from channels.db import database_sync_to_async

from apps.openim.proto import pb
from tests.openim.conftest import call, connect, data_of, decode, open_ws, text_msg

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def users(register):
    return register("alice", "bob")


async def _users(register, *ids):
    return await database_sync_to_async(register)(*ids)


async def test_connection_result_heartbeat_and_send_push_pull(register):
    tokens = await _users(register, "alice", "bob")
    a = await connect("alice", tokens["alice"])
    b = await connect("bob", tokens["bob"])
    await a.comm.send_to(text_data='{"type":"ping"}')
    pong = await a.frame()
    assert pong == {"binary": False, "type": "pong"}

    reply = await a.request(1003, text_msg("alice", "bob", "hi bob", "c1"))
    assert reply["binary"] and reply["errCode"] == 0 and reply["reqIdentifier"] == 1003
    ack = decode(pb.SendMsgResp, reply)
    assert ack.clientMsgID == "c1" and ack.serverMsgID and ack.sendTime > 0

    push = await b.push()
    assert push["binary"] and push["msgIncr"] == "" and push["operationID"]
    msgs = decode(pb.PushMessages, push).msgs
    (msg,) = msgs["si_alice_bob"].Msgs
    assert (msg.sendID, msg.recvID, msg.seq, msg.sessionType, msg.contentType, msg.status) == (
        "alice", "bob", 1, 1, 101, 2)
    assert json.loads(msg.content) == {"content": "hi bob"}
    assert (msg.clientMsgID, msg.serverMsgID, msg.senderNickname, msg.msgFrom) == ("c1", ack.serverMsgID, "Alice", 100)

    seqs = decode(pb.GetConversationsHasReadAndMaxSeqResp,
                  await b.request(1006, pb.GetConversationsHasReadAndMaxSeqReq(userID="bob")))
    assert (seqs.seqs["si_alice_bob"].maxSeq, seqs.seqs["si_alice_bob"].hasReadSeq) == (1, 0)

    by_range = decode(pb.PullMessageBySeqsResp, await b.request(1002, pb.PullMessageBySeqsReq(
        userID="bob", seqRanges=[pb.SeqRange(conversationID="si_alice_bob", begin=0, end=1, num=10)])))
    assert [m.clientMsgID for m in by_range.msgs["si_alice_bob"].Msgs] == ["c1"]

    # seq 0 is asked for when nothing was read: the key must still be there
    by_list = decode(pb.GetSeqMessageResp, await b.request(1005, pb.GetSeqMessageReq(
        userID="bob", conversations=[pb.ConversationSeqs(conversationID="si_alice_bob", seqs=[0, 1]),
                                     pb.ConversationSeqs(conversationID="si_bob_nobody", seqs=[1])])))
    assert [m.seq for m in by_list.msgs["si_alice_bob"].Msgs] == [1]
    assert "si_bob_nobody" in by_list.msgs and list(by_list.msgs["si_bob_nobody"].Msgs) == []
    await a.close()
    await b.close()


async def test_read_mark_over_rest_shows_in_has_read_seq_and_unread(register):
    tokens = await _users(register, "alice", "bob")
    a = await connect("alice", tokens["alice"])
    for i in range(3):
        assert (await a.request(1003, text_msg("alice", "bob", f"m{i}", f"c{i}")))["errCode"] == 0
    await database_sync_to_async(call)(
        "/msg/mark_conversation_as_read",
        {"conversationID": "si_alice_bob", "seqs": [1, 2], "hasReadSeq": 2, "userID": "bob"}, tokens["bob"])
    b = await connect("bob", tokens["bob"])
    seqs = decode(pb.GetConversationsHasReadAndMaxSeqResp,
                  await b.request(1006, pb.GetConversationsHasReadAndMaxSeqReq(userID="bob")))
    assert (seqs.seqs["si_alice_bob"].maxSeq, seqs.seqs["si_alice_bob"].hasReadSeq) == (3, 2)
    data = await database_sync_to_async(call)(
        "/jssdk/get_active_conversations", raw=pb.GetActiveConversationsReq(ownerUserID="bob", count=20)
        .SerializeToString(), token=tokens["bob"], content_type="application/x-protobuf")
    resp = pb.GetConversationsResp.FromString(base64.b64decode(data_of(data)))
    assert resp.unreadCount == 1
    (conv,) = resp.conversations
    assert conv.conversation.conversationID == "si_alice_bob" and conv.conversation.userID == "alice"
    assert (conv.maxSeq, conv.readSeq, conv.user.nickname) == (3, 2, "Alice")
    assert json.loads(conv.lastMsg.content) == {"content": "m2"}
    await a.close()
    await b.close()


async def test_bad_connection_arguments_get_an_error_result_frame(register):
    tokens = await _users(register, "alice")
    comm, result = await open_ws(f"sendID=bob&token={tokens['alice']}&platformID=5&operationID=x&isMsgResp=true")
    assert result["errCode"] == 1502
    await comm.disconnect()
    comm, result = await open_ws("sendID=alice&token=garbage&platformID=5&operationID=x")
    assert result["errCode"] == 1502
    await comm.disconnect()
    comm, result = await open_ws(f"sendID=alice&token={tokens['alice']}&platformID=99&operationID=x")
    assert result["errCode"] == 1602
    await comm.disconnect()
    comm, result = await open_ws(f"sendID=alice&token={tokens['alice']}&platformID=5&operationID=x&sdkType=go")
    assert result["errCode"] == 1602
    await comm.disconnect()


async def test_bad_frames_get_error_replies_with_the_msg_incr(register):
    tokens = await _users(register, "alice", "bob")
    a = await connect("alice", tokens["alice"])
    forged = await a.request(1003, text_msg("bob", "alice", "x", "c1"), send_id="bob")
    assert forged["errCode"] == 1002
    unknown = await a.request(1999, None)
    assert unknown["errCode"] == 1001 and "not supported" in unknown["errMsg"]
    env = {"reqIdentifier": 1003, "msgIncr": "bad1", "sendID": "alice", "operationID": "o", "data": "%%%"}
    await a.comm.send_to(bytes_data=json.dumps(env).encode())
    assert (await a.frame())["errCode"] == 1001
    env = {**env, "msgIncr": "bad2", "data": base64.b64encode(b"\xff\xff").decode()}
    await a.comm.send_to(bytes_data=json.dumps(env).encode())
    assert (await a.frame())["errCode"] == 1001
    not_json = pb.MsgData(sendID="alice", recvID="bob", clientMsgID="c2", sessionType=1, contentType=101,
                          content=b"plain")
    assert (await a.request(1003, not_json))["errCode"] == 1001
    await a.comm.send_to(bytes_data=b"not json")
    frame = await a.frame()
    assert frame["errCode"] == 1001 and frame["msgIncr"] == ""
    await a.close()


async def test_force_logout_sends_kick_2002_then_closes(register, admin_token):
    tokens = await _users(register, "alice")
    a = await connect("alice", tokens["alice"])
    await database_sync_to_async(call)("/auth/force_logout", {"platformID": 5, "userID": "alice"}, admin_token)
    kick = await a.push(2002)
    assert kick["binary"] and kick["reqIdentifier"] == 2002
    out = await a.comm.receive_output(3)
    assert out["type"] == "websocket.close"


async def test_group_message_is_pushed_to_members(register):
    tokens = await _users(register, "alice", "bob")
    created = await database_sync_to_async(call)("/group/create_group", {
        "ownerUserID": "alice", "memberUserIDs": ["bob"], "groupInfo": {"groupName": "g", "groupType": 2}},
        tokens["alice"])
    gid = data_of(created)["groupInfo"]["groupID"]
    a = await connect("alice", tokens["alice"])
    b = await connect("bob", tokens["bob"])
    reply = await a.request(1003, text_msg("alice", "", "hello group", "g1", group_id=gid))
    assert reply["errCode"] == 0, reply
    while True:
        push = decode(pb.PushMessages, await b.push())
        msgs = push.msgs[f"sg_{gid}"].Msgs
        if msgs and msgs[0].contentType == 101:
            break
    assert (msgs[0].groupID, msgs[0].sessionType, json.loads(msgs[0].content)) == (gid, 3, {"content": "hello group"})
    await a.close()
    await b.close()


async def test_subscribe_online_status_answers_and_pushes_changes(register):
    watcher, watched = f"w{uuid.uuid4().hex[:8]}", f"x{uuid.uuid4().hex[:8]}"  # no presence left by other tests
    tokens = await _users(register, watcher, watched)
    a = await connect(watcher, tokens[watcher])
    tips = decode(pb.SubUserOnlineStatusTips,
                  await a.request(2005, pb.SubUserOnlineStatus(subscribeUserID=[watched])))
    assert [(s.userID, list(s.onlinePlatformIDs)) for s in tips.subscribers] == [(watched, [])]
    b = await connect(watched, tokens[watched])
    change = decode(pb.SubUserOnlineStatusTips, await a.push(2005))
    assert [(s.userID, list(s.onlinePlatformIDs)) for s in change.subscribers] == [(watched, [5])]
    await a.close()
    await b.close()


async def test_friend_request_is_pushed_as_a_chat_tip_and_as_a_friend_notification(register):
    tokens = await _users(register, "alice", "bob")
    b = await connect("bob", tokens["bob"])
    await database_sync_to_async(call)("/friend/add_friend", {"fromUserID": "alice", "toUserID": "bob",
                                                              "reqMsg": "hi"}, tokens["alice"])
    push = decode(pb.PushMessages, await b.push())
    (tip,) = push.msgs["si_alice_bob"].Msgs
    (note,) = push.notificationMsgs["n_alice_bob"].Msgs
    assert tip.contentType == note.contentType == 1203 and tip.msgFrom == 200
    detail = json.loads(json.loads(note.content)["detail"])
    assert detail["fromToUserID"] == {"fromUserID": "alice", "toUserID": "bob"}
    apply = await database_sync_to_async(call)("/friend/get_designated_friend_apply",
                                               {"fromUserID": "alice", "toUserID": "bob"}, tokens["bob"])
    assert [r["reqMsg"] for r in data_of(apply)["friendRequests"]] == ["hi"]
    await b.close()


async def test_read_mark_reaches_the_peer_as_a_2200_receipt(register):
    tokens = await _users(register, "alice", "bob")
    a = await connect("alice", tokens["alice"])
    assert (await a.request(1003, text_msg("alice", "bob", "x", "c1")))["errCode"] == 0
    await database_sync_to_async(call)("/msg/mark_conversation_as_read",
                                       {"conversationID": "si_alice_bob", "hasReadSeq": 1, "userID": "bob"},
                                       tokens["bob"])
    push = decode(pb.PushMessages, await a.push())
    (receipt,) = push.notificationMsgs["n_alice_bob"].Msgs
    detail = json.loads(json.loads(receipt.content)["detail"])
    assert receipt.contentType == 2200
    assert detail == {"conversationID": "si_alice_bob", "markAsReadUserID": "bob", "seqs": [], "hasReadSeq": 1}
    await a.close()


async def test_range_pull_answers_the_newest_num_and_placeholders_for_missing_seqs(register):
    tokens = await _users(register, "alice", "bob")
    a = await connect("alice", tokens["alice"])
    for i in range(5):
        assert (await a.request(1003, text_msg("alice", "bob", f"m{i}", f"c{i}")))["errCode"] == 0
    resp = decode(pb.PullMessageBySeqsResp, await a.request(1002, pb.PullMessageBySeqsReq(
        userID="alice", seqRanges=[pb.SeqRange(conversationID="si_alice_bob", begin=1, end=5, num=2),
                                   pb.SeqRange(conversationID="si_nobody_else", begin=1, end=5, num=2)])))
    assert [(m.seq, json.loads(m.content)["content"]) for m in resp.msgs["si_alice_bob"].Msgs] == [(4, "m3"),
                                                                                                   (5, "m4")]
    assert list(resp.msgs["si_nobody_else"].Msgs) == []
    await a.close()


async def test_a_resend_with_the_same_client_msg_id_is_answered_from_the_first_send(register):
    tokens = await _users(register, "alice", "bob")
    a = await connect("alice", tokens["alice"])
    first = decode(pb.SendMsgResp, await a.request(1003, text_msg("alice", "bob", "once", "same")))
    again = decode(pb.SendMsgResp, await a.request(1003, text_msg("alice", "bob", "once", "same")))
    assert (again.serverMsgID, again.sendTime) == (first.serverMsgID, first.sendTime)
    seqs = decode(pb.GetMaxSeqResp, await a.request(1001, pb.GetMaxSeqReq(userID="alice")))
    assert dict(seqs.maxSeqs) == {"si_alice_bob": 1}
    await a.close()


async def test_rules_of_the_native_api_apply_blocked_sender_gets_1302(register):
    tokens = await _users(register, "alice", "bob")
    await database_sync_to_async(call)("/friend/add_black", {"ownerUserID": "bob", "blackUserID": "alice"},
                                       tokens["bob"])
    a = await connect("alice", tokens["alice"])
    reply = await a.request(1003, text_msg("alice", "bob", "hi", "c1"))
    assert reply["errCode"] == 1302 and reply["errMsg"]
    not_member = await a.request(1003, text_msg("alice", "", "hi", "c2", group_id="nogroup"))
    assert not_member["errCode"] in (1201, 1203)
    await a.close()


async def test_a_text_frame_that_is_not_a_heartbeat_closes_the_connection(register):
    tokens = await _users(register, "alice")
    a = await connect("alice", tokens["alice"])
    await a.comm.send_to(text_data='{"reqIdentifier": 1003}')
    out = await a.comm.receive_output(3)
    assert out == {"type": "websocket.close", "code": 4004}
