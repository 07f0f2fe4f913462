"""Nothing is lost when the server goes away: a restart mid-conversation, a node killed
with sends in flight. Every message ends up stored once, in the order it was sent."""

from __future__ import annotations

import asyncio
import signal

import imclient
import pytest

from tests.sdk.conftest import Deployment
from tests.sdk.helpers import Recorder, assert_contiguous, make_client, single_cid, texts, wait_for

pytestmark = pytest.mark.slow


def assert_once_in_order(held: list[imclient.Message], expected: list[str]) -> None:
    assert_contiguous(held)
    got = texts(held)
    assert len(got) == len(set(got)), "a message was stored twice"
    assert got == expected


async def test_server_restarted_mid_conversation(deployment: Deployment, tmp_path):
    alice, bob = deployment.users("alice", "bob")
    cid = single_cid(alice, bob)
    async with make_client(deployment.base_url, deployment.token(alice), tmp_path / "a.db") as a, \
            make_client(deployment.base_url, deployment.token(bob), tmp_path / "b.db") as b:
        a_events, b_events = Recorder(a), Recorder(b)
        expected = []
        for i in range(5):
            sender, peer, name = (a, bob, "a") if i % 2 == 0 else (b, alice, "b")
            await sender.send_text(to_user_id=peer, text=f"{name}{i}")
            expected.append(f"{name}{i}")

        await asyncio.to_thread(deployment.stop_all)
        await wait_for(lambda: not a.connected and not b.connected, what="both clients to see the server go")
        # alice keeps writing while the server is down: the sends wait in the outbox
        pending = [asyncio.ensure_future(a.send_text(to_user_id=bob, text=f"down{i}")) for i in range(10)]
        await asyncio.sleep(0.5)
        assert not any(p.done() for p in pending)
        assert len(a.store.outbox()) == 10
        expected += [f"down{i}" for i in range(10)]

        await asyncio.to_thread(deployment.ensure)
        acked = await asyncio.wait_for(asyncio.gather(*pending), 60)
        assert [m.seq for m in acked] == list(range(6, 16))
        assert a.store.outbox() == []
        await b.send_text(to_user_id=alice, text="back")
        expected.append("back")
        await b.sync()
        await a.sync()
        for client in (a, b):
            assert_once_in_order(client.history(cid, limit=100), expected)
        await wait_for(lambda: len(b_events.received(cid)) >= 16, what="bob's events")
        assert [m.seq for m in b_events.received(cid)] == list(range(1, 17))  # each once, in order
        states = [e.state for e in a_events.of(imclient.ConnectionState)]
        assert "disconnected" in states and states[-1] == "connected"


SENDS = 300


async def test_node_killed_with_sends_in_flight(deployment: Deployment, tmp_path):
    """Alice's node is SIGKILLed while hundreds of her sends are unacked. Her client reconnects
    through the load balancer (to the other node; in the embedded run, a new node) and resends
    every unacked message with the same client_msg_id: each is stored once, in order."""
    alice, bob = deployment.users("alice", "bob")
    cid = single_cid(alice, bob)
    # bob stays on a node that survives (in the embedded run there is only one: he reconnects too)
    bob_url = deployment.node_url(1) if deployment.services else deployment.base_url
    async with make_client(deployment.base_url, deployment.token(alice), tmp_path / "a.db") as a, \
            make_client(bob_url, deployment.token(bob), tmp_path / "b.db") as b:
        b_events = Recorder(b)
        sends = [asyncio.ensure_future(a.send_text(to_user_id=bob, text=f"k{i:03d}")) for i in range(SENDS)]
        await wait_for(lambda: sum(s.done() for s in sends) >= 20, what="the first acks")
        in_flight = sum(not s.done() for s in sends)
        deployment.kill_node(0, signal.SIGKILL)
        if not deployment.services:
            await asyncio.to_thread(deployment.ensure)  # the replacement node
        acked = await asyncio.wait_for(asyncio.gather(*sends), 90)
        assert in_flight > 0
        assert [m.seq for m in acked] == list(range(1, SENDS + 1)), "acks out of send order"
        assert a.store.outbox() == []
        expected = [f"k{i:03d}" for i in range(SENDS)]
        await b.sync()
        for client in (a, b):
            assert_once_in_order(client.history(cid, limit=1000), expected)
        assert b.store.count_messages(cid) == SENDS
        await wait_for(lambda: len(b_events.received(cid)) >= SENDS, what="bob's events")
        assert [m.seq for m in b_events.received(cid)] == list(range(1, SENDS + 1))


async def test_unacked_sends_survive_closing_the_app(deployment: Deployment, tmp_path):
    """A send still in the outbox when the app closes goes out when the store is opened again."""
    alice, bob = deployment.users("alice", "bob")
    cid = single_cid(alice, bob)
    db = tmp_path / "a.db"
    async with make_client(deployment.base_url, deployment.token(alice), db) as a:
        await asyncio.to_thread(deployment.stop_all)
        await wait_for(lambda: not a.connected, what="the disconnect")
        waiting = asyncio.ensure_future(a.send_text(to_user_id=bob, text="written offline"))
        await asyncio.sleep(0.2)
        assert [p["content"] for _, p in a.store.outbox()] == [{"content": "written offline"}]
    with pytest.raises(imclient.ClientClosed):
        await waiting
    await asyncio.to_thread(deployment.ensure)
    async with make_client(deployment.base_url, deployment.token(alice), db) as a:
        await wait_for(lambda: not a.store.outbox(), what="the outbox to drain")
        await a.sync()
        assert texts(a.history(cid)) == ["written offline"]
    async with make_client(deployment.base_url, deployment.token(bob)) as b:
        await b.sync()
        assert texts(b.history(cid)) == ["written offline"]
