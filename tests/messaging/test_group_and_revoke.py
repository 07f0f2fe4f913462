"""Group sends and fan-out, revoke rules, and that nobody reaches another user's conversation."""

from __future__ import annotations

import pytest
import time_machine
from channels.db import database_sync_to_async

from apps.accounts.models import User
from apps.messaging.models import Message, MsgStatus
from tests.messaging.conftest import connect, text

pytestmark = pytest.mark.django_db(transaction=True)


async def _tok(tokens, user_id: str, platform_id: int = 5) -> str:
    return await database_sync_to_async(tokens)(user_id, platform_id)


def _group(owner: str, members: list[str], admins: list[str] | None = None, group_id: str = "g1") -> str:
    from apps.groups.services import group_create

    users = {
        u: User.objects.filter(user_id=u).first() or User.objects.create_user(u) for u in [owner, *members, *(admins or [])]
    }
    group = group_create(
        owner=users[owner], name="team", member_ids=members, admin_ids=admins or [], group_id=group_id
    )
    return group.group_id


def gtext(client_msg_id: str, group_id: str = "g1", body: str = "hi all") -> dict:
    return {"client_msg_id": client_msg_id, "session_type": 3, "group_id": group_id, "content_type": 101,
            "content": {"content": body}}


async def test_group_message_reaches_every_online_member_with_the_acked_seq(tokens):
    await database_sync_to_async(_group)("alice", ["bob", "carol"])
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    c = await connect(await _tok(tokens, "carol"))
    reply = await a.send(gtext("g-1"))
    assert reply["code"] == 0, reply
    seq = reply["data"]["seq"]
    assert reply["data"]["conversation_id"] == "sg_g1" and seq >= 2  # seq 1 is the "group created" tip
    for client in (b, c):
        push = await client.push()
        assert push["data"]["seq"] == seq and push["data"]["group_id"] == "g1"
    newest = await b.call("seq.newest")
    assert newest["data"]["conversations"]["sg_g1"]["max_seq"] == seq
    pulled = await b.call("msg.pull", {"conversation_id": "sg_g1", "from_seq": 1, "to_seq": seq})
    assert [m["seq"] for m in pulled["data"]["messages"]] == list(range(1, seq + 1))
    assert pulled["data"]["messages"][0]["content_type"] == 1501
    for client in (a, b, c):
        await client.close()


async def test_group_send_rules_not_member_dismissed_muted(tokens):
    from apps.groups import services as group_services

    await database_sync_to_async(_group)("alice", ["bob"])
    mallory = await connect(await _tok(tokens, "mallory"))
    assert (await mallory.send(gtext("x")))["code"] == 1203
    assert (await mallory.send(gtext("x", group_id="nope")))["code"] == 1201
    b = await connect(await _tok(tokens, "bob"))
    alice = await database_sync_to_async(User.objects.get)(user_id="alice")
    await database_sync_to_async(group_services.group_member_mute)(
        group_id="g1", actor=alice, user_id="bob", seconds=600
    )
    assert (await b.send(gtext("m0")))["code"] == 1402
    await database_sync_to_async(group_services.group_member_unmute)(group_id="g1", actor=alice, user_id="bob")
    await database_sync_to_async(group_services.group_mute)(group_id="g1", actor=alice, muted=True)
    assert (await b.send(gtext("m1")))["code"] == 1403
    a = await connect(await _tok(tokens, "alice"))
    assert (await a.send(gtext("m2")))["code"] == 0  # the owner may still speak
    await database_sync_to_async(group_services.group_dismiss)(group_id="g1", actor=alice)
    assert (await a.send(gtext("m3")))["code"] == 1204
    await a.close()
    await mallory.close()
    await b.close()


async def test_sender_revokes_within_the_window_and_a_notice_is_left(tokens):
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    sent = (await a.send(text("c1", "bob", "oops")))["data"]
    await b.push()
    reply = await a.call("msg.revoke", {"conversation_id": "si_alice_bob", "seq": sent["seq"]})
    assert reply["code"] == 0, reply
    notice = reply["data"]["notice"]
    assert notice["content_type"] == 2101 and notice["seq"] == sent["seq"] + 1
    assert notice["content"]["seq"] == sent["seq"] and notice["content"]["revoker_id"] == "alice"
    pushed = await b.push()
    assert pushed["data"]["content_type"] == 2101
    pulled = await b.call("msg.pull", {"conversation_id": "si_alice_bob", "from_seq": 1, "to_seq": 2})
    first = pulled["data"]["messages"][0]
    assert first["status"] == MsgStatus.REVOKED and first["content"] == {}
    again = await a.call("msg.revoke", {"server_msg_id": sent["server_msg_id"]})
    assert again["code"] == 1404
    await a.close()
    await b.close()


async def test_revoke_rules_window_recipient_and_unknown(tokens, settings):
    settings.IM_REVOKE_WINDOW_SECONDS = 60
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    sent = (await a.send(text("c1", "bob")))["data"]
    by_peer = await b.call("msg.revoke", {"server_msg_id": sent["server_msg_id"]})
    assert by_peer["code"] == 1002
    unknown = await a.call("msg.revoke", {"server_msg_id": "f" * 32})
    assert unknown["code"] == 1401
    with time_machine.travel(sent["send_time"] / 1000 + 120, tick=False):
        late = await a.call("msg.revoke", {"server_msg_id": sent["server_msg_id"]})
    assert late["code"] == 1405
    await a.close()
    await b.close()


async def test_group_admin_revokes_a_members_message_any_time(tokens, settings):
    settings.IM_REVOKE_WINDOW_SECONDS = 1
    await database_sync_to_async(_group)("alice", ["carol"], admins=["bob"])
    c = await connect(await _tok(tokens, "carol"))
    b = await connect(await _tok(tokens, "bob"))
    sent = (await c.send(gtext("c1")))["data"]
    with time_machine.travel(sent["send_time"] / 1000 + 3600, tick=False):
        member_late = await c.call("msg.revoke", {"server_msg_id": sent["server_msg_id"]})
        by_admin = await b.call("msg.revoke", {"conversation_id": "sg_g1", "seq": sent["seq"]})
    assert member_late["code"] == 1405
    assert by_admin["code"] == 0 and by_admin["data"]["notice"]["content"]["revoker_role"] == 60
    status = await database_sync_to_async(lambda: Message.objects.get(server_msg_id=sent["server_msg_id"]).status)()
    assert status == MsgStatus.REVOKED
    await c.close()
    await b.close()


async def test_another_users_conversation_cannot_be_read_or_written_through_any_op(tokens):
    a = await connect(await _tok(tokens, "alice"))
    await database_sync_to_async(tokens)("bob")
    sent = (await a.send(text("c1", "bob", "secret")))["data"]
    await database_sync_to_async(_group)("alice", ["bob"], group_id="g2")
    m = await connect(await _tok(tokens, "mallory"))
    for op, data in [
        ("msg.pull", {"conversation_id": "si_alice_bob", "from_seq": 1, "to_seq": 10}),
        ("msg.pull", {"conversation_id": "si_alice_bob", "seqs": [1]}),
        ("msg.pull", {"conversation_id": "sg_g2", "from_seq": 1, "to_seq": 10}),
        ("conv.read", {"conversation_id": "si_alice_bob", "seq": 1}),
        ("conv.read", {"conversation_id": "sg_g2", "seq": 1}),
        ("typing", {"conversation_id": "si_alice_bob"}),
    ]:
        reply = await m.call(op, data)
        assert reply["code"] == 1002, (op, data, reply)
        assert "secret" not in str(reply)
    for data in ({"server_msg_id": sent["server_msg_id"]}, {"conversation_id": "si_alice_bob", "seq": 1}):
        assert (await m.call("msg.revoke", data))["code"] == 1401
    newest = await m.call("seq.newest")
    assert newest["data"]["conversations"] == {}
    # writing into someone else's conversation by its id is impossible: sends address a peer, not an id
    assert (await m.send(gtext("x", group_id="g2")))["code"] == 1203
    await a.close()
    await m.close()
