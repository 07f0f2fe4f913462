"""Baseline: a bare websocket relay (the ``websockets`` library, no Django, no storage).

It speaks the subset of the imserver protocol the load generator uses, so the same
load generator measures both: the token is the user id, seqs live in memory,
``msg.send`` is acked and pushed at once, ``msg.pull`` / ``seq.newest`` read the
in-memory log, ``ping`` answers ``pong``. Group membership is registered with a
``bench.group`` frame. A second port serves ``GET`` with a fixed JSON body over
keep-alive HTTP/1.1 (the REST baseline).

    python -m bench.relay --port 9001 --http-port 9002
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench.common import raise_nofile

_ids = itertools.count(1)


class Relay:
    def __init__(self, faults: str = "") -> None:
        # fault injection to prove the accounting: "drop=N,dup=M" drops every Nth push and
        # sends every Mth push twice
        opts = dict(kv.split("=", 1) for kv in faults.split(",") if "=" in kv)
        self.drop_every = int(opts.get("drop", 0))
        self.dup_every = int(opts.get("dup", 0))
        self.pushes = 0
        self.online: dict[str, set[ServerConnection]] = {}
        self.max_seq: dict[str, int] = {}
        self.log: dict[str, list[bytes]] = {}
        self.user_convs: dict[str, set[str]] = {}
        self.groups: dict[str, list[str]] = {}

    async def handler(self, ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path).query)
        uid = (query.get("token") or [""])[0]
        if not uid:
            await ws.close(4001, "token")
            return
        self.online.setdefault(uid, set()).add(ws)
        try:
            async for raw in ws:
                try:
                    frame = orjson.loads(raw)
                    reply = self.handle(uid, ws, frame)
                except Exception as exc:  # noqa: BLE001 - a baseline answers every frame
                    reply = {"id": None, "op": "error", "code": 1001, "msg": str(exc), "data": None}
                if reply is not None:
                    await ws.send(orjson.dumps(reply).decode())
        finally:
            conns = self.online.get(uid)
            if conns is not None:
                conns.discard(ws)
                if not conns:
                    self.online.pop(uid, None)

    def handle(self, uid: str, ws: ServerConnection, frame: dict[str, Any]) -> dict[str, Any] | None:
        op = frame.get("op")
        rid = frame.get("id")
        data = frame.get("data") or {}
        out: Any = {}
        if op == "msg.send":
            out = self.send(uid, ws, data)
        elif op == "ping":
            out = {"pong": int(time.time() * 1000)}
        elif op == "seq.newest":
            out = {
                "conversations": {
                    c: {"max_seq": self.max_seq[c], "read_seq": 0, "min_seq": 1} for c in self.user_convs.get(uid, ())
                }
            }
        elif op == "msg.pull":
            conv = data["conversation_id"]
            lo, hi = int(data["from_seq"]), int(data["to_seq"])
            limit = min(int(data.get("limit", 100)), 500)
            log = self.log.get(conv, [])
            top = min(hi, lo + limit - 1, len(log))
            msgs = [orjson.Fragment(b) for b in log[lo - 1 : top]]
            out = {"messages": msgs, "is_end": top >= len(log)}
        elif op == "conv.read":
            out = {}
        elif op == "bench.group":
            self.groups[data["group_id"]] = list(data["member_ids"])
        else:
            return {"id": rid, "op": op, "code": 1001, "msg": f"unknown op {op}", "data": None}
        return {"id": rid, "op": op, "code": 0, "msg": "", "data": out}

    def send(self, uid: str, ws: ServerConnection, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("session_type") == 3:
            gid = str(data["group_id"])
            conv = f"sg_{gid}"
            recipients = self.groups.get(gid, [])
        else:
            recv = str(data["recv_id"])
            conv = "si_" + "_".join(sorted((uid, recv)))
            recipients = [uid, recv]
        seq = self.max_seq.get(conv, 0) + 1
        self.max_seq[conv] = seq
        now = int(time.time() * 1000)
        msg = {
            "server_msg_id": f"r{next(_ids)}",
            "client_msg_id": data.get("client_msg_id"),
            "conversation_id": conv,
            "seq": seq,
            "send_id": uid,
            "recv_id": data.get("recv_id", ""),
            "group_id": data.get("group_id", ""),
            "session_type": data.get("session_type", 1),
            "content_type": data.get("content_type", 101),
            "content": data.get("content"),
            "send_time": now,
            "status": 2,
        }
        body = orjson.dumps(msg)
        self.log.setdefault(conv, []).append(body)
        for r in recipients:
            self.user_convs.setdefault(r, set()).add(conv)
        push = b'{"op":"push.msg","data":' + body + b"}"
        targets = [c for r in recipients for c in self.online.get(r, ()) if c is not ws]
        self.pushes += 1
        if self.drop_every and self.pushes % self.drop_every == 0:
            targets = []
        broadcast(targets, push.decode())
        if self.dup_every and self.pushes % self.dup_every == 0:
            broadcast(targets, push.decode())
        return {
            "server_msg_id": msg["server_msg_id"],
            "client_msg_id": msg["client_msg_id"],
            "conversation_id": conv,
            "seq": seq,
            "send_time": now,
        }


class HttpBaseline(asyncio.Protocol):
    """Answers every GET with the same JSON body, keep-alive HTTP/1.1."""

    body = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            _head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            self.transport.write(  # type: ignore[attr-defined]
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(self.body)).encode()
                + b"\r\n\r\n"
                + self.body
            )


def _friend_page() -> bytes:
    items = [
        {
            "user_id": f"friend{i:05d}",
            "nickname": f"Friend {i}",
            "face_url": "",
            "remark": "",
            "ex": {},
            "is_pinned": False,
            "created_at": "2026-01-01T00:00:00Z",
        }
        for i in range(50)
    ]
    return orjson.dumps({"count": 500, "next": "http://127.0.0.1/api/v1/friends?limit=50&offset=50",
                         "previous": None, "results": items})


async def main(port: int, http_port: int) -> None:
    raise_nofile()
    relay = Relay(os.environ.get("BENCH_RELAY_FAULTS", ""))
    HttpBaseline.body = _friend_page()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    http = None
    if http_port:
        http = await asyncio.get_running_loop().create_server(HttpBaseline, "127.0.0.1", http_port, backlog=4096)
    async with serve(relay.handler, "127.0.0.1", port, ping_interval=None, compression=None,
                     max_size=2**20, backlog=4096):
        await stop
    if http is not None:
        http.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http-port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.port, args.http_port))
