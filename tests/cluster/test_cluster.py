"""Several server nodes behave as one server (DESIGN §6), proven with real processes.

Two daphne nodes, one Celery worker (Redis broker), one MariaDB database and Redis:
cross-node 1:1 delivery, group fan-out through the worker to members on both nodes,
global presence, cross-node force-logout, and a worker SIGKILLed in the middle of a
large fan-out whose every message still reaches every member, with no duplicate seqs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
import urllib.parse
from collections import Counter

import pytest

from tests.cluster.conftest import Cluster, WsClient, run
from tests.conftest import need_service
from tests.faults.conftest import record
from tests.support.processes import processes, start_asgi_node, start_celery_worker

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("on_failure_print_logs")]


def text(cmid: str, body: str, **target: object) -> dict:
    return {"client_msg_id": cmid, "content_type": 101, "content": {"content": body}, **target}


async def _open(cl: Cluster, node: int, user_id: str, platform_id: int = 5) -> WsClient:
    token = await asyncio.to_thread(cl.token, user_id, platform_id)
    return await WsClient.open(f"{cl.nodes[node].ws_url}?token={token}&platform_id={platform_id}", f"{user_id}@{node}")


def test_one_to_one_across_nodes(cluster: Cluster):
    cluster.register(["ann", "ben"])

    async def scenario() -> None:
        ann = await _open(cluster, 0, "ann")
        ben = await _open(cluster, 1, "ben")
        ann2 = await _open(cluster, 1, "ann", platform_id=2)  # ann's other device, on the other node
        ack = await ann.call("msg.send", text("c1", "hi ben", session_type=1, recv_id="ben"))
        assert ack["code"] == 0, ack
        seq = ack["data"]["seq"]
        for client in (ben, ann2):
            assert await client.wait(lambda c=client: bool(c.pushes()), 10), f"{client.name} got nothing"
            push = client.pushes()[0]["data"]
            assert push["seq"] == seq and push["send_id"] == "ann" and push["content"] == {"content": "hi ben"}
        reply = await ben.call("msg.send", text("c2", "hi ann", session_type=1, recv_id="ann"))
        assert reply["code"] == 0 and reply["data"]["seq"] == seq + 1
        assert await ann.wait(lambda: any(p["data"]["seq"] == seq + 1 for p in ann.pushes()), 10)
        for client in (ann, ben, ann2):
            await client.close()

    run(scenario(), 60)


def test_group_fan_out_through_the_worker_reaches_members_on_both_nodes(cluster: Cluster):
    members = [f"gm{i}" for i in range(6)]
    cluster.register(members)
    admin = cluster.admin()
    status, body = cluster.http(
        1, "POST", "/api/v1/groups", {"name": "both", "group_id": "gboth", "owner_user_id": "gm0",
                                     "member_ids": members[1:]}, admin,
    )
    assert status == 201, body

    async def scenario() -> None:
        clients = [await _open(cluster, i % 2, u) for i, u in enumerate(members)]
        sender = clients[0]
        ack = await sender.call("msg.send", text("g1", "to all", session_type=3, group_id="gboth"))
        assert ack["code"] == 0, ack
        seq = ack["data"]["seq"]
        for client in clients[1:]:
            got = await client.wait(lambda c=client: any(p["data"]["seq"] == seq for p in c.pushes()), 15)
            assert got, f"{client.name} did not get the group message"
        assert not any(p["data"].get("seq") == seq for p in sender.pushes())  # the sending socket has the ack
        for client in clients:
            await client.close()

    run(scenario(), 60)
    assert "messaging.deliver_group" in cluster.worker.log()  # the worker did the fan-out


def test_presence_is_global(cluster: Cluster):
    cluster.register(["pia", "pete"])

    def status_of(node: int, user_id: str) -> dict:
        code, body = cluster.http(
            node, "GET", "/api/v1/users/status?ids=" + urllib.parse.quote(user_id), token=cluster.token("pete", 2)
        )
        assert code == 200, body
        return body["results"][0]

    async def scenario() -> None:
        watcher = await _open(cluster, 1, "pete")
        reply = await watcher.call("presence.watch", {"user_ids": ["pia"]})
        assert reply["code"] == 0 and reply["data"]["users"]["pia"]["online"] is False, reply
        pia = await _open(cluster, 0, "pia", platform_id=1)
        assert await watcher.wait(
            lambda: any(p["data"]["user_id"] == "pia" and p["data"]["online"] for p in watcher.pushes("push.presence")), 10
        ), "no online push across nodes"
        for node in (0, 1):
            status = await asyncio.to_thread(status_of, node, "pia")
            assert status["online"] is True and status["platform_ids"] == [1], status
        await pia.close()
        assert await watcher.wait(
            lambda: any(p["data"]["user_id"] == "pia" and not p["data"]["online"] for p in watcher.pushes("push.presence")),
            10,
        ), "no offline push across nodes"
        assert (await asyncio.to_thread(status_of, 0, "pia"))["online"] is False
        await watcher.close()

    run(scenario(), 60)


def test_users_of_a_crashed_node_go_offline_by_expiry(cluster: Cluster):
    cluster.register(["cora"])
    ttl = int(cluster.env["IM_PRESENCE_TTL_SECONDS"])
    with processes() as procs:
        node = start_asgi_node("node-crash", cluster.env, cluster.log_dir)
        procs.append(node)
        crash = Cluster(nodes=[node], worker=cluster.worker, env=cluster.env, log_dir=cluster.log_dir, procs=procs)

        def online() -> bool:
            code, body = cluster.http(0, "GET", "/api/v1/users/status?ids=cora", token=cluster.admin_token or cluster.admin())
            assert code == 200, body
            return bool(body["results"][0]["online"])

        async def scenario() -> float:
            cora = await _open(crash, 0, "cora")
            assert await asyncio.to_thread(online)
            node.kill(signal.SIGKILL)  # no disconnect handler runs: only the expiry can tell
            killed = time.monotonic()
            while await asyncio.to_thread(online):
                assert time.monotonic() - killed < ttl + 10, "still online long after the presence TTL"
                await asyncio.sleep(0.5)
            cora.sock.transport.abort()
            return time.monotonic() - killed

        offline_after = run(scenario(), ttl + 40)
    assert offline_after <= ttl + 2, offline_after


def test_force_logout_reaches_the_connection_on_the_other_node(cluster: Cluster):
    cluster.register(["kim"])

    async def scenario() -> None:
        kim = await _open(cluster, 1, "kim")
        code, body = await asyncio.to_thread(
            cluster.http, 0, "POST", "/api/v1/auth/force-logout", {"user_id": "kim", "platform_id": 5}, cluster.admin()
        )
        assert code == 200, body
        assert await kim.wait(lambda: any(f.get("op") == "kicked" for f in kim.frames), 10), kim.frames
        kicked = next(f for f in kim.frames if f.get("op") == "kicked")
        assert kicked["code"] == 1506
        await asyncio.wait_for(kim.closed.wait(), 10)
        assert kim.close_code == 4003

    run(scenario(), 60)


GROUP_SIZE = 1000
CONNECTED = 10
MESSAGES = 30


def test_worker_killed_mid_fan_out_every_member_still_gets_every_message_once(cluster: Cluster):
    users = [f"big{i:04d}" for i in range(GROUP_SIZE)]
    cluster.register(users)
    code, body = cluster.http(
        0, "POST", "/api/v1/groups",
        {"name": "big", "group_id": "gbig", "owner_user_id": users[0], "member_ids": users[1:]}, cluster.admin(),
    )
    assert code == 201, body
    # connected members spread over the member list, so over many chunks; half on each node
    online = [users[0], *(users[(GROUP_SIZE // CONNECTED) * i + 7] for i in range(1, CONNECTED))]

    async def scenario() -> dict:
        clients = [await _open(cluster, i % 2, u) for i, u in enumerate(online)]
        sender, receivers = clients[0], clients[1:]
        seqs: dict[str, int] = {}
        started = time.monotonic()
        for i in range(MESSAGES):
            ack = await sender.call("msg.send", text(f"big-{i}", f"m{i}", session_type=3, group_id="gbig"))
            assert ack["code"] == 0, ack
            seqs[f"big-{i}"] = ack["data"]["seq"]
        acked_in = time.monotonic() - started
        expected = {(c.name, s) for c in receivers for s in seqs.values()}

        def delivered() -> set:
            return {(c.name, p["data"]["seq"]) for c in receivers for p in c.pushes() if p["data"]["seq"] in seqs.values()}

        # the acks did not wait for the fan-out: it is still running; kill the worker in the middle of it
        assert len(delivered()) < len(expected), "fan-out finished before the acks: make the group larger"
        assert await receivers[0].wait(lambda: len(delivered()) >= len(expected) // 10, 30), "fan-out never started"
        at_kill = len(delivered())
        await asyncio.to_thread(cluster.kill_worker)
        assert at_kill < len(expected), "fan-out finished before the kill"
        await asyncio.sleep(0.5)
        after_kill = len(delivered())
        killed_at = time.monotonic()
        killed = cluster.worker
        await asyncio.to_thread(cluster.restart_worker)
        # unacked tasks come back after the visibility timeout; the rest were still queued
        all_pushed = await receivers[0].wait(lambda: delivered() >= expected, 60)
        missing_pushes = len(expected - delivered())
        recovered_in = time.monotonic() - killed_at
        # catch-up: what the log holds is exactly the sent messages, each once, by seq
        for client in receivers:
            newest = await client.call("seq.newest", {})
            max_seq = newest["data"]["conversations"]["sg_gbig"]["max_seq"]
            assert max_seq >= max(seqs.values())
            pulled = await client.call(
                "msg.pull", {"conversation_id": "sg_gbig", "from_seq": min(seqs.values()), "to_seq": max_seq}
            )
            assert pulled["code"] == 0, pulled
            got = [m for m in pulled["data"]["messages"] if m.get("client_msg_id", "").startswith("big-")]
            assert Counter(m["seq"] for m in got) == Counter(seqs.values()), "a seq is missing or doubled in the log"
            assert {m["client_msg_id"]: m["seq"] for m in got} == seqs
            # pushes agree with the log: one message per seq, however often it was rung
            by_seq: dict[int, set] = {}
            for p in client.pushes():
                by_seq.setdefault(p["data"]["seq"], set()).add(p["data"]["server_msg_id"])
            assert all(len(ids) == 1 for ids in by_seq.values()), "two messages pushed with one seq"
        for client in clients:
            await client.close()
        # tasks the killed worker had taken but not finished ran again on the new one
        old, new = killed.log_path.read_text(errors="replace"), cluster.worker.log_path.read_text(errors="replace")
        redelivered = _task_ids(old, "received") & _task_ids(new, "received")  # same task id: the same broker message
        return {"redelivered_tasks": len(redelivered), "acked_in": acked_in, "at_kill": at_kill, "after_kill": after_kill, "expected": len(expected),
                "all_pushed": all_pushed, "recovered_in": recovered_in, "missing_pushes": missing_pushes,
                "duplicate_pushes": sum(1 for c in receivers for p in c.pushes() if p["data"]["seq"] in seqs.values())
                - len(delivered())}

    stats = run(scenario(), 100)
    print("kill mid fan-out:", stats)
    record("worker_kill_mid_fan_out", {k: round(v, 2) if isinstance(v, float) else v for k, v in stats.items()})
    # every member got every message by push: queued tasks ran on the new worker and the
    # ones the killed worker held were redelivered after the visibility timeout
    assert stats["all_pushed"], stats
    assert stats["redelivered_tasks"] >= 1, stats


def _task_ids(log: str, what: str) -> set[str]:
    return set(re.findall(r"Task messaging\.deliver_group(?:_chunk)?\[([0-9a-f-]+)\] " + what, log))


def test_rabbitmq_broker_carries_the_fan_out_too(cluster: Cluster):
    """The same fan-out with RabbitMQ as the broker (``IM_TEST_AMQP_URL``, e.g. amqp://guest:guest@127.0.0.1:5672//)."""
    amqp_url = os.environ.get("IM_TEST_AMQP_URL", "")
    need_service("RabbitMQ (IM_TEST_AMQP_URL)", bool(amqp_url))
    env = {**cluster.env, "CELERY_BROKER_URL": amqp_url, "IM_CELERY_QUEUE": cluster.env["IM_CELERY_QUEUE"] + "-amqp"}
    members = [f"rq{i}" for i in range(4)]
    cluster.register(members)
    code, body = cluster.http(
        0, "POST", "/api/v1/groups",
        {"name": "rabbit", "group_id": "grabbit", "owner_user_id": "rq0", "member_ids": members[1:]}, cluster.admin(),
    )
    assert code == 201, body
    with processes() as procs:
        node = start_asgi_node("node-amqp", env, cluster.log_dir)
        procs.append(node)
        worker = start_celery_worker("worker-amqp", env, cluster.log_dir)
        procs.append(worker)
        amqp_cluster = Cluster(nodes=[node], worker=worker, env=env, log_dir=cluster.log_dir, procs=procs)

        async def scenario() -> None:
            clients = [await _open(amqp_cluster, 0, u) for u in members]
            ack = await clients[0].call("msg.send", text("r1", "via rabbit", session_type=3, group_id="grabbit"))
            assert ack["code"] == 0, ack
            for client in clients[1:]:
                assert await client.wait(
                    lambda c=client: any(p["data"]["seq"] == ack["data"]["seq"] for p in c.pushes()), 15
                ), f"{client.name} got nothing"
            for client in clients:
                await client.close()

        try:
            run(scenario(), 60)
        except BaseException:
            print(node.log(), worker.log())
            raise
        finally:
            worker.stop()
            _drop_amqp_queue(amqp_url, env["IM_CELERY_QUEUE"])
        assert "messaging.deliver_group" in worker.log() and "amqp://" in worker.log()


def _drop_amqp_queue(url: str, queue: str) -> None:
    from kombu import Connection

    with contextlib.suppress(Exception), Connection(url, connect_timeout=5) as conn:
        conn.default_channel.queue_delete(queue)
