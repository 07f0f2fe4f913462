"""The SDK against a real server: catch-up into the store, reopening it, live pushes, gaps."""

from __future__ import annotations

import imclient
import pytest

from tests.sdk.conftest import Deployment
from tests.sdk.helpers import Recorder, assert_contiguous, make_client, single_cid, texts, wait_for

pytestmark = pytest.mark.slow


async def test_offline_catch_up_fills_the_store(deployment: Deployment, tmp_path):
    alice, bob = deployment.users("alice", "bob")
    cid = single_cid(alice, bob)
    async with make_client(deployment.base_url, deployment.token(alice)) as a:
        acks = [await a.send_text(to_user_id=bob, text=f"m{i}") for i in range(30)]
        assert [m.seq for m in acks] == list(range(1, 31))
        assert all(m.server_msg_id and m.client_msg_id and m.send_id == alice for m in acks)
        assert acks[0].conversation_id == cid and acks[0].content == {"content": "m0"} and acks[0].send_time > 0
        own = a.conversations()[0]
        assert own.conversation_id == cid and own.unread == 0 and own.last_message.text == "m29"

    async with make_client(deployment.base_url, deployment.token(bob), tmp_path / "bob.db") as b:
        await b.sync()
        held = b.history(cid, limit=100)
        assert_contiguous(held)
        assert texts(held) == [f"m{i}" for i in range(30)]
        assert [m.server_msg_id for m in held] == [m.server_msg_id for m in acks]
        (conv,) = b.conversations()
        assert conv.conversation_id == cid and conv.peer_id == alice and conv.session_type == 1
        assert conv.unread == 30 and conv.last_message.text == "m29"
        assert texts(b.history(cid, limit=5, before_seq=11)) == ["m5", "m6", "m7", "m8", "m9"]
        assert await b.mark_read(cid) == 30
        assert b.conversations()[0].unread == 0


async def test_a_reopened_store_does_not_duplicate(deployment: Deployment, tmp_path):
    alice, bob = deployment.users("alice", "bob")
    cid = single_cid(alice, bob)
    db = tmp_path / "bob.db"
    async with make_client(deployment.base_url, deployment.token(alice)) as a:
        for i in range(10):
            await a.send_text(to_user_id=bob, text=f"a{i}")
        async with make_client(deployment.base_url, deployment.token(bob), db) as b:
            await b.sync()
            assert b.store.count_messages(cid) == 10
        for i in range(10, 15):  # while bob's app is closed
            await a.send_text(to_user_id=bob, text=f"a{i}")

    for _ in range(2):  # opened twice more: the second time nothing is new
        async with make_client(deployment.base_url, deployment.token(bob), db) as b:
            events = Recorder(b)
            await b.sync()
            await b.sync()
            held = b.history(cid, limit=100)
            assert_contiguous(held)
            assert texts(held) == [f"a{i}" for i in range(15)]
            assert b.store.count_messages() == 15
            assert b.conversations()[0].unread == 15
    # the last opening had nothing to tell: every message had been released before
    assert events.received(cid) == []


async def test_wrong_owner_of_a_store_is_refused(deployment: Deployment, tmp_path):
    alice, bob = deployment.users("alice", "bob")
    db = tmp_path / "shared.db"
    async with make_client(deployment.base_url, deployment.token(alice), db):
        pass
    with pytest.raises(imclient.StoreError):
        async with make_client(deployment.base_url, deployment.token(bob), db):
            pass


async def test_live_pushes_and_a_pushed_gap_is_pulled(deployment: Deployment):
    """A group member who silenced the group gets no pushes; the first push after it jumps
    seqs, and the SDK pulls the gap before telling the app, so events stay in seq order."""
    alice, bob = deployment.users("alice", "bob")
    async with make_client(deployment.base_url, deployment.token(alice)) as a, \
            make_client(deployment.base_url, deployment.token(bob)) as b:
        group = await a.rest.create_group("team", member_ids=[bob])
        gid = group["group_id"]
        gcid = f"sg_{gid}"
        bob_events = Recorder(b)
        first = await a.send_text(group_id=gid, text="g0")
        await wait_for(lambda: any(m.seq == first.seq for m in bob_events.received(gcid)), what="live push g0")
        await b.rest.set_conversation(gcid, recv_opt=1)  # no pushes for bob from now on
        for i in range(1, 4):
            await a.send_text(group_id=gid, text=f"g{i}")
        await b.rest.set_conversation(gcid, recv_opt=0)
        last = await a.send_text(group_id=gid, text="g4")
        await wait_for(lambda: any(m.seq == last.seq for m in bob_events.received(gcid)), what="push after the gap")
        got = [m for m in bob_events.received(gcid) if m.seq >= first.seq]
        assert texts(got) == ["g0", "g1", "g2", "g3", "g4"]
        assert [m.seq for m in got] == list(range(first.seq, last.seq + 1))
        held = b.history(gcid, limit=100)
        assert_contiguous(held)
        assert texts(held) == ["g0", "g1", "g2", "g3", "g4"]


async def test_events_read_typing_revoke_and_kick(deployment: Deployment):
    alice, bob = deployment.users("alice", "bob")
    cid = single_cid(alice, bob)
    async with make_client(deployment.base_url, deployment.token(alice)) as a, \
            make_client(deployment.base_url, deployment.token(bob)) as b:
        a_events, b_events = Recorder(a), Recorder(b)
        msg = await a.send_text(to_user_id=bob, text="hello")
        await wait_for(lambda: b_events.received(cid), what="bob's message event")
        assert b_events.received(cid)[0].server_msg_id == msg.server_msg_id
        await b.mark_read(cid)
        await wait_for(lambda: a_events.of(imclient.ReadByPeer), what="read receipt")
        assert a_events.of(imclient.ReadByPeer)[0] == imclient.ReadByPeer(cid, bob, msg.seq)
        await a.typing(cid)
        await wait_for(lambda: b_events.of(imclient.Typing), what="typing")
        assert b_events.of(imclient.Typing)[0] == imclient.Typing(cid, alice, True)
        notice = await a.revoke(server_msg_id=msg.server_msg_id)
        assert notice.content_type == 2101 and notice.seq == msg.seq + 1
        await wait_for(lambda: b_events.of(imclient.MessageRevoked), what="revoke event")
        assert b_events.of(imclient.MessageRevoked)[0].seq == msg.seq
        assert b.store.message(cid, msg.seq).is_revoked and a.store.message(cid, msg.seq).is_revoked
        presence = await a.watch_presence([bob])
        assert presence[bob]["online"] is True
        with pytest.raises(imclient.IMError) as err:
            await a.send_text(to_user_id="nobody-" + alice, text="?")
        assert err.value.code == 1101
        with pytest.raises(ValueError):
            await a.send_text(text="nowhere")

        status, body = deployment.http("POST", "/auth/force-logout", {"user_id": bob, "platform_id": 5},
                                       deployment.admin())
        assert status == 200, body
        await wait_for(lambda: b_events.of(imclient.Kicked), what="kicked event")
        await wait_for(lambda: b.state == "closed", what="closed state")
        with pytest.raises(imclient.AuthError):
            await b.send_text(to_user_id=alice, text="after the kick")


async def test_bad_token_is_refused_on_enter(deployment: Deployment):
    with pytest.raises(imclient.AuthError) as err:
        async with make_client(deployment.base_url, "not-a-token"):
            pass
    assert err.value.code == 1502
