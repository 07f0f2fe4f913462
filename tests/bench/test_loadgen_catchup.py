"""The load generator catches up like a protocol client: on a seq gap, on the ping's hint, on push.resync.

A scripted server (a fake socket answering ``seq.newest`` and ``msg.pull`` from a log) stands
in for imserver: what is tested is the client's accounting, not the server.
"""

from __future__ import annotations

import asyncio

import orjson

from bench.loadgen import Client, LoadGen

CONV = "si_a_b"


class _ScriptedSocket:
    def __init__(self, lg: LoadGen, client: Client, log: list[int]) -> None:
        self.lg, self.client, self.log = lg, client, log
        self.ops: list[str] = []

    async def send(self, text: str) -> None:
        frame = orjson.loads(text)
        self.ops.append(frame["op"])
        if frame["op"] == "seq.newest":
            data = {"conversations": {CONV: {"max_seq": max(self.log), "min_seq": 0, "read_seq": 0}}}
        else:
            d = frame["data"]
            data = {"messages": [{"seq": s} for s in self.log if d["from_seq"] <= s <= d["to_seq"]], "is_end": True}
        reply = orjson.dumps({"id": frame["id"], "op": frame["op"], "code": 0, "msg": "", "data": data})
        asyncio.get_running_loop().call_soon(self.lg.on_frame, self.client, reply)


def _setup(log: list[int]) -> tuple[LoadGen, Client, _ScriptedSocket]:
    lg = LoadGen(0)
    client = Client("b", "tok", "ws://x")
    lg.clients.append(client)
    sock = _ScriptedSocket(lg, client, log)
    client.ws = sock  # type: ignore[assignment]
    return lg, client, sock


def _push(lg: LoadGen, client: Client, seq: int) -> None:
    msg = {"conversation_id": CONV, "seq": seq, "send_id": "a", "client_msg_id": f"x{seq}"}
    lg.on_frame(client, orjson.dumps({"op": "push.msg", "data": msg}))


async def _settle(lg: LoadGen) -> None:
    for _ in range(50):
        if not lg.catchup_tasks:
            return
        await asyncio.sleep(0.01)


async def test_a_seq_gap_pulls_the_missing_range():
    lg, client, sock = _setup([1, 2, 3, 4, 5])
    _push(lg, client, 1)
    _push(lg, client, 4)  # 2 and 3 were not pushed
    await _settle(lg)
    assert sock.ops == ["msg.pull"]
    assert client.pulled[CONV] == {2, 3}
    assert lg.catchups["gap"] == 1


async def test_a_ping_hint_naming_an_unheld_seq_pulls_up_to_it():
    lg, client, sock = _setup([1, 2, 3])
    _push(lg, client, 1)
    lg.on_ping_reply(client, {"code": 0, "data": {"latest": {"conversation_id": CONV, "seq": 3}}})
    await _settle(lg)
    assert client.pulled[CONV] == {2, 3} and lg.catchups["hint"] == 1
    lg.on_ping_reply(client, {"code": 0, "data": {"latest": {"conversation_id": CONV, "seq": 3}}})  # held now
    lg.on_ping_reply(client, {"code": 0, "data": {"latest": None}})
    await _settle(lg)
    assert lg.catchups["hint"] == 1


async def test_push_resync_catches_up_every_conversation_and_lostcheck_reports_push_misses_apart():
    lg, client, sock = _setup([1, 2, 3])
    lg.acks = {f"x{s}": [CONV, s, 0, 0, "t", 0] for s in (1, 2, 3)}
    _push(lg, client, 1)
    lg.on_frame(client, orjson.dumps({"op": "push.resync", "data": {}}))
    await _settle(lg)
    assert sock.ops[:2] == ["seq.newest", "msg.pull"] and lg.catchups["resync"] == 1
    report = await lg.cmd_lostcheck(wait=0.2)
    assert report["pushes_missed"] == 2  # 2 and 3 never came by push ...
    assert report["missing_after_catch_up"] == 0 and report["lost"] == 0  # ... but the catch-up found them
