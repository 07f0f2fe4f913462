"""A protocol-following load client for the fault suite, and the accounting of one case.

Senders send 1:1 text messages at a fixed rate without waiting for each ack (a window
of frames in flight, like a real client on a slow link). Every message keeps its
``client_msg_id`` until it is acked: after an error reply it is resent, after a lost
connection the sender reconnects (to the next node on its list) and resends every
unacked message, after a silence it is resent too. The server dedupes by
``(send_id, client_msg_id)``, so a resend never stores a second copy.
Receivers collect pushes and catch up by seq at the end, as docs/protocol.md says.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect as ws_connect

RESEND_AFTER_ERROR = 0.3  # seconds
RESEND_AFTER_SILENCE = 3.0


def conversation_id(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return f"si_{x}_{y}"


@dataclass
class Sender:
    user_id: str
    to: str
    token: str
    urls: list[str]  # the node to use first, then the fallbacks
    url_index: int = 0
    sock: Any = None
    reader: asyncio.Task | None = None
    pending: dict[str, float] = field(default_factory=dict)  # cmid -> last attempt (monotonic)
    retry_at: dict[str, float] = field(default_factory=dict)  # cmid -> when to resend after an error
    acked: dict[str, int] = field(default_factory=dict)  # cmid -> seq
    ack_order: list[int] = field(default_factory=list)  # seqs in the order acks arrived
    first_ack_at: dict[str, float] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    error_msgs: set[str] = field(default_factory=set)
    bad_replies: int = 0
    dedupe_acks: int = 0  # resends answered with the original result (``"duplicate": true``)
    attempts: int = 0
    reconnects: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    last_disconnect: float | None = None
    reconnected_after: list[float] = field(default_factory=list)

    @property
    def conversation(self) -> str:
        return conversation_id(self.user_id, self.to)

    async def connect(self) -> None:
        while True:
            url = f"{self.urls[self.url_index % len(self.urls)]}?token={self.token}&platform_id=5"
            try:
                self.sock = await asyncio.wait_for(ws_connect(url, open_timeout=5, max_queue=None), 8)
                hello = json.loads(await asyncio.wait_for(self.sock.recv(), 5))
                assert hello.get("op") == "connected", hello
                break
            except Exception:  # noqa: BLE001 - any failure: try the next node
                self.url_index += 1
                await asyncio.sleep(0.2)
        self.reader = asyncio.get_running_loop().create_task(self._read())
        self.connected.set()
        if self.last_disconnect is not None:
            self.reconnected_after.append(time.monotonic() - self.last_disconnect)
            self.last_disconnect = None
        for cmid in list(self.pending):  # resend every unacked message with the same client_msg_id
            await self._send(cmid)

    async def _read(self) -> None:
        try:
            async for raw in self.sock:
                frame = json.loads(raw)
                if frame.get("op") != "msg.send":
                    continue
                cmid = str(frame.get("id"))
                if frame.get("code") == 0:
                    data = frame["data"]
                    if data.get("client_msg_id") != cmid or not isinstance(data.get("seq"), int):
                        self.bad_replies += 1
                        continue
                    if cmid in self.acked and self.acked[cmid] != data["seq"]:
                        self.bad_replies += 1  # a resend acked with another seq: a duplicate
                    self.dedupe_acks += bool(data.get("duplicate"))
                    if cmid not in self.acked:
                        self.ack_order.append(data["seq"])
                        self.first_ack_at[cmid] = time.monotonic()
                    self.acked[cmid] = data["seq"]
                    self.pending.pop(cmid, None)
                    self.retry_at.pop(cmid, None)
                else:
                    self.errors[frame.get("code")] += 1
                    self.error_msgs.add(f"{frame.get('code')}: {frame.get('msg')}")
                    if not frame.get("msg") or not isinstance(frame.get("code"), int):
                        self.bad_replies += 1
                    if cmid in self.pending:
                        self.retry_at[cmid] = time.monotonic() + RESEND_AFTER_ERROR
        except Exception:  # noqa: S110 - a lost connection ends the reader; the sender reconnects
            pass
        finally:
            self.connected.clear()
            if self.last_disconnect is None:
                self.last_disconnect = time.monotonic()

    async def _send(self, cmid: str) -> None:
        self.pending[cmid] = time.monotonic()
        self.attempts += 1
        frame = {"id": cmid, "op": "msg.send", "data": {
            "client_msg_id": cmid, "session_type": 1, "recv_id": self.to, "content_type": 101,
            "content": {"content": f"{cmid} from {self.user_id}"}}}
        with contextlib.suppress(Exception):
            await self.sock.send(json.dumps(frame))

    async def ensure_connected(self) -> None:
        if not self.connected.is_set():
            if self.reader is not None and not self.reader.done():
                return
            self.reconnects += 1
            with contextlib.suppress(Exception):
                await self.sock.close()
            await self.connect()

    async def resend_due(self) -> None:
        now = time.monotonic()
        for cmid, at in list(self.pending.items()):
            due = self.retry_at.get(cmid)
            if (due is not None and due <= now) or (due is None and now - at > RESEND_AFTER_SILENCE):
                self.retry_at.pop(cmid, None)
                await self._send(cmid)

    async def run(self, count: int, rate: float, prefix: str) -> None:
        started = time.monotonic()
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            await self.ensure_connected()
            await self.resend_due()
            if self.connected.is_set():
                await self._send(f"{prefix}-{self.user_id}-{i}")
            else:
                self.pending[f"{prefix}-{self.user_id}-{i}"] = 0.0  # sent on reconnect

    async def drain(self, timeout: float) -> bool:
        """Keep resending until every message is acked (bounded)."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            await self.ensure_connected()
            await self.resend_due()
            await asyncio.sleep(0.1)
        return not self.pending

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sock.close(), 3)
        if self.reader is not None:
            self.reader.cancel()


async def catch_up(client: Any, conversation: str) -> set[int]:
    """``seq.newest`` then ``msg.pull`` of the whole range: the seqs the log holds for this client."""
    newest = await client.call("seq.newest", {})
    assert newest["code"] == 0, newest
    info = newest["data"]["conversations"].get(conversation)
    if not info:
        return set()
    got: set[int] = set()
    start = max(1, int(info["min_seq"]))
    while start <= int(info["max_seq"]):
        pulled = await client.call("msg.pull", {"conversation_id": conversation, "from_seq": start,
                                                "to_seq": int(info["max_seq"]), "limit": 100})
        assert pulled["code"] == 0, pulled
        seqs = [m["seq"] for m in pulled["data"]["messages"] if m.get("content")]
        got.update(seqs)
        if pulled["data"]["is_end"] or not pulled["data"]["messages"]:
            break
        start = max(m["seq"] for m in pulled["data"]["messages"]) + 1
    return got


def account(bed: Any, senders: list[Sender], receivers: dict[str, Any], pushed: dict[str, list[int]],
            caught_up: dict[str, set[int]]) -> dict[str, Any]:
    """The figures of one case, from the clients' view and the database's."""
    rows = bed.stored([s.user_id for s in senders])
    by_key = Counter((r[0], r[1]) for r in rows)
    stored_seq = {(r[0], r[1]): r[3] for r in rows}
    conv_seqs = bed.conversation_seqs(sorted({s.conversation for s in senders}))
    sent = sum(len(s.acked) + len(s.pending) for s in senders)
    acked = sum(len(s.acked) for s in senders)
    acked_keys = {(s.user_id, c): seq for s in senders for c, seq in s.acked.items()}
    lost_store = [k for k in acked_keys if k not in stored_seq]
    ack_mismatch = [k for k, seq in acked_keys.items() if k in stored_seq and stored_seq[k] != seq]
    gaps = {c: seqs for c, seqs in conv_seqs.items() if seqs != list(range(1, len(seqs) + 1))}
    backwards = sum(1 for s in senders for a, b in zip(s.ack_order, s.ack_order[1:], strict=False) if b <= a)
    delivered_push = delivered_all = lost_delivery = dup_push = 0
    for s in senders:
        want = {seq for c, seq in s.acked.items()}
        pushes = [q for q in pushed.get(s.to, []) if q in want]
        dup_push += len(pushes) - len(set(pushes))
        delivered_push += len(set(pushes))
        have = set(pushes) | caught_up.get(s.to, set())
        delivered_all += len(want & have)
        lost_delivery += len(want - have)
    return {
        "senders": len(senders),
        "sent": sent,
        "resends": sum(s.attempts for s in senders) - sent,
        "resends_answered_as_duplicate": sum(s.dedupe_acks for s in senders),
        "acked": acked,
        "unacked_at_end": sent - acked,
        "error_replies": {str(k): v for k, v in sum((s.errors for s in senders), Counter()).items()},
        "error_messages": sorted({m for s in senders for m in s.error_msgs})[:5],
        "malformed_replies": sum(s.bad_replies for s in senders),
        "stored": len(rows),
        "stored_twice": sum(1 for n in by_key.values() if n > 1),
        "lost_acked_not_stored": len(lost_store),
        "ack_seq_differs_from_stored": len(ack_mismatch),
        "conversations_with_seq_gaps": len(gaps),
        "acks_with_seq_going_backwards": backwards,
        "delivered_by_push": delivered_push,
        "delivered_after_catch_up": delivered_all,
        "lost_after_catch_up": lost_delivery,
        "duplicate_pushes": dup_push,
        "reconnects": sum(s.reconnects for s in senders),
    }


def pushes_by_user(receivers: dict[str, Any]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for user_id, client in receivers.items():
        out[user_id] = [p["data"]["seq"] for p in client.pushes() if isinstance(p.get("data"), dict)]
    return out
