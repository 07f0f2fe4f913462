"""The websocket gateway over WebsocketCommunicator: send, push, catch-up, read, revoke, typing."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from apps.messaging.models import Message, OfflineMessage
from tests.messaging.conftest import connect, text

pytestmark = pytest.mark.django_db(transaction=True)


async def _tok(tokens, user_id: str, platform_id: int = 5) -> str:
    return await database_sync_to_async(tokens)(user_id, platform_id)


async def test_a_sends_to_online_b_and_b_gets_the_push_with_the_acked_seq(tokens):
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    reply = await a.send(text("c1", "bob", "hi bob"))
    assert reply["code"] == 0, reply
    ack = reply["data"]
    assert ack["seq"] == 1 and ack["conversation_id"] == "si_alice_bob" and ack["client_msg_id"] == "c1"
    push = await b.push()
    msg = push["data"]
    assert (msg["seq"], msg["server_msg_id"], msg["send_id"]) == (1, ack["server_msg_id"], "alice")
    assert msg["content"] == {"content": "hi bob"}
    assert (msg["sender_nickname"], msg["sender_platform_id"], msg["status"]) == ("Alice", 5, 2)
    assert await a.nothing()  # the sending connection has its ack and gets no echo
    await a.close()
    await b.close()


async def test_senders_other_device_gets_the_push(tokens):
    web = await connect(await _tok(tokens, "alice", 5), 5)
    phone = await connect(await _tok(tokens, "alice", 1), 1)
    await database_sync_to_async(tokens)("bob")
    reply = await web.send(text("c1", "bob"))
    push = await phone.push()
    assert push["data"]["seq"] == reply["data"]["seq"]
    await web.close()
    await phone.close()


async def test_offline_b_catches_up_with_seq_newest_and_pull_exactly_the_missed_messages(tokens):
    a = await connect(await _tok(tokens, "alice"))
    b_token = await _tok(tokens, "bob")
    for i in range(5):
        assert (await a.send(text(f"m{i}", "bob", f"msg {i}")))["code"] == 0
    b = await connect(b_token)
    newest = await b.call("seq.newest")
    conv = newest["data"]["conversations"]["si_alice_bob"]
    assert conv == {"max_seq": 5, "read_seq": 0, "min_seq": 0}
    pulled = await b.call(
        "msg.pull", {"conversation_id": "si_alice_bob", "from_seq": conv["read_seq"] + 1, "to_seq": conv["max_seq"]}
    )
    assert pulled["code"] == 0
    assert [m["seq"] for m in pulled["data"]["messages"]] == [1, 2, 3, 4, 5]
    assert [m["content"]["content"] for m in pulled["data"]["messages"]] == [f"msg {i}" for i in range(5)]
    assert pulled["data"]["is_end"] is True
    # paging
    page = await b.call("msg.pull", {"conversation_id": "si_alice_bob", "from_seq": 1, "to_seq": 5, "limit": 2})
    assert [m["seq"] for m in page["data"]["messages"]] == [1, 2] and page["data"]["is_end"] is False
    # seq list form, with a seq that does not exist yet
    listed = await b.call("msg.pull", {"conversation_id": "si_alice_bob", "seqs": [4, 2, 99]})
    assert [m["seq"] for m in listed["data"]["messages"]] == [2, 4]
    await a.close()
    await b.close()


async def test_missing_seqs_come_back_as_placeholders(tokens):
    a = await connect(await _tok(tokens, "alice"))
    await database_sync_to_async(tokens)("bob")
    for i in range(3):
        await a.send(text(f"m{i}", "bob"))
    await database_sync_to_async(lambda: OfflineMessage.objects.filter(seq=2).delete())()
    pulled = await a.call("msg.pull", {"conversation_id": "si_alice_bob", "from_seq": 1, "to_seq": 3})
    msgs = pulled["data"]["messages"]
    assert [m["seq"] for m in msgs] == [1, 2, 3]
    assert msgs[1]["status"] == 4 and msgs[1]["content"] == {}
    await a.close()


async def test_concurrent_sends_into_one_conversation_get_distinct_consecutive_seqs(tokens, settings):
    settings.IM_SEND_RATE_PER_SECOND = 0  # about seqs, not the rate limit
    settings.IM_SEND_BATCH_MAX = 64
    await database_sync_to_async(tokens)("bob")
    clients = [await connect(await _tok(tokens, "alice", p), p) for p in (1, 2, 3, 4, 5)]

    async def burst(client, platform):
        acks = []
        for i in range(40):
            reply = await client.send(text(f"p{platform}-{i}", "bob"))
            assert reply["code"] == 0, reply
            acks.append(reply["data"]["seq"])
        return acks

    results = await asyncio.gather(*(burst(c, i) for i, c in enumerate(clients)))
    seqs = sorted(s for r in results for s in r)
    assert seqs == list(range(1, 201))
    for r in results:  # each connection's own messages keep their order
        assert r == sorted(r)
    assert await database_sync_to_async(Message.objects.count)() == 200
    for c in clients:
        await c.close()


async def test_duplicate_client_msg_id_stores_one_message(tokens):
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    first = await a.send(text("dup", "bob"))
    again = await a.send(text("dup", "bob", "other body"))
    assert again["code"] == 0
    assert again["data"]["server_msg_id"] == first["data"]["server_msg_id"]
    assert again["data"]["seq"] == first["data"]["seq"] and again["data"]["duplicate"] is True
    assert await database_sync_to_async(Message.objects.count)() == 1
    await b.push()
    assert await b.nothing()  # delivered once
    await a.close()
    await b.close()


async def test_read_receipt_reaches_the_peer_and_read_seq_never_goes_down(tokens):
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    for i in range(3):
        await a.send(text(f"m{i}", "bob"))
    read = await b.call("conv.read", {"conversation_id": "si_alice_bob", "seq": 2})
    assert read["code"] == 0 and read["data"]["read_seq"] == 2
    receipt = await a.push("push.read")
    assert receipt["data"] == {"conversation_id": "si_alice_bob", "user_id": "bob", "read_seq": 2}
    lower = await b.call("conv.read", {"conversation_id": "si_alice_bob", "seq": 1})
    assert lower["data"]["read_seq"] == 2
    beyond = await b.call("conv.read", {"conversation_id": "si_alice_bob", "seq": 99})
    assert beyond["data"]["read_seq"] == 3
    newest = await b.call("seq.newest")
    assert newest["data"]["conversations"]["si_alice_bob"]["read_seq"] == 3
    await a.close()
    await b.close()


async def test_typing_is_pushed_and_never_stored(tokens):
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    await a.send(text("m0", "bob"))
    await b.push()
    reply = await a.call("typing", {"conversation_id": "si_alice_bob", "typing": True})
    assert reply["code"] == 0
    push = await b.push("push.typing")
    assert push["data"] == {"conversation_id": "si_alice_bob", "user_id": "alice", "typing": True}
    assert await database_sync_to_async(Message.objects.count)() == 1
    newest = await a.call("seq.newest")
    assert newest["data"]["conversations"]["si_alice_bob"]["max_seq"] == 1
    await a.close()
    await b.close()


async def test_ping_is_answered(tokens):
    a = await connect(await _tok(tokens, "alice"))
    reply = await a.call("ping")
    assert reply["code"] == 0 and reply["data"]["server_time"] > 0
    await a.close()


async def test_presence_watch_reports_and_pushes_online_changes(tokens):
    from asgiref.sync import sync_to_async

    from apps.accounts import presence

    await sync_to_async(presence.presence_reset_local)()
    a = await connect(await _tok(tokens, "alice"))
    bob_token = await _tok(tokens, "bob")
    watched = await a.call("presence.watch", {"user_ids": ["bob"]})
    assert watched["code"] == 0 and watched["data"]["users"] == {"bob": {"online": False, "platform_ids": []}}
    b = await connect(bob_token)
    online = await a.push("push.presence")
    assert online["data"] == {"user_id": "bob", "online": True, "platform_ids": [5]}
    await b.close()
    offline = await a.push("push.presence")
    assert offline["data"] == {"user_id": "bob", "online": False, "platform_ids": []}
    assert (await a.call("presence.watch", {"user_ids": "bob"}))["code"] == 1001
    await a.close()
