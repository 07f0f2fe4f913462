"""Load generator: one process, many websocket clients, driven by JSON commands.

Run by the orchestrator as ``python -m bench.loadgen``; it reads one JSON command per
line on stdin and answers one JSON line per command on stdout (nothing else goes to
stdout). Every delivery is accounted by seq: each client remembers, per conversation,
the seqs it holds, so loss (acked but never delivered), duplicates (a seq delivered
twice) and reordering (a seq below one already held) are counted, not assumed.

Latency is measured from the *scheduled* send time (open loop, so a stalled server
cannot hide its backlog), carried in the ``client_msg_id`` as a CLOCK_MONOTONIC
nanosecond stamp, which is system-wide on Linux, so a receiver in another load
generator process computes it the same way.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import itertools
import random
import sys
import time
import traceback
from collections import Counter, defaultdict
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.common import raise_nofile

now_ns = time.monotonic_ns
_rid = itertools.count(1)
PLATFORM_ID = 5  # Web


def _source_addr(k: int) -> str:
    """Spread clients over 127.0.1.1-127.0.1.200 (all loopback): 20,000 sockets per run and the
    TIME_WAIT sockets of the previous run never exhaust one source address's ephemeral ports."""
    return f"127.0.1.{1 + (k * 7919 + int(time.time())) % 200}"


def _text(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


class Client:
    __slots__ = ("uid", "token", "url", "ws", "pending", "seen", "maxseen", "closed", "reader", "other", "pings",
                 "pulled", "pulling")

    def __init__(self, uid: str, token: str, url: str) -> None:
        self.uid, self.token, self.url = uid, token, url
        self.ws: ClientConnection | None = None
        self.pending: dict[str, Any] = {}
        self.seen: dict[str, set[int]] = defaultdict(set)
        self.maxseen: dict[str, int] = defaultdict(int)
        self.closed = False
        self.reader: asyncio.Task[None] | None = None
        self.other: Counter[str] = Counter()
        self.pings: list[float] = []
        self.pulled: dict[str, set[int]] = defaultdict(set)  # seqs caught up by pull, not by push
        self.pulling: set[str] = set()  # conversations with a catch-up under way


class LoadGen:
    def __init__(self, pidx: int) -> None:
        self.pidx = pidx
        self.clients: list[Client] = []
        # per tag accounting
        self.lat: dict[str, list[float]] = defaultdict(list)  # delivery latency ms
        self.delivered: Counter[str] = Counter()
        self.dups: Counter[str] = Counter()
        self.reorders: Counter[str] = Counter()
        self.echo: Counter[str] = Counter()
        # per cmid (group fan-out): [count, first_ns, last_ns]
        self.per_msg: dict[str, list[int]] = {}
        self.track_per_msg = False
        # sends of this process: cmid -> (tag, sched_ns, recipient client index or -1)
        self.acks: dict[str, list[Any]] = {}  # cmid -> [conv, seq, ack_ns, sched_ns, tag, recipient]
        self.ack_err: Counter[str] = Counter()
        # background heartbeat (idle scenario): every client pings every `interval` s from its connect on
        self.hb_task: asyncio.Task[None] | None = None
        self.hb_rtts: list[tuple[float, float]] = []  # (sent monotonic s, rtt ms)
        self.hb_sent: list[float] = []
        self.hb_errors: Counter[str] = Counter()
        self.hb_due: list[tuple[float, int, Client]] = []  # heap of (next ping due, tie-break, client)
        # catch-up as docs/protocol.md says: on a seq gap, on the ping's latest hint, on push.resync
        self.catchups: Counter[str] = Counter()  # reason -> catch-ups started
        self.catchup_tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ frames
    def on_frame(self, c: Client, raw: str | bytes) -> None:
        t = now_ns()
        frame = orjson.loads(raw)
        op = frame.get("op")
        if op == "push.msg":
            self.on_push(c, frame.get("data") or {}, t)
            return
        if op == "push.resync":
            self.catch_up(c, "resync")
            return
        rid = frame.get("id")
        if rid is not None and rid in c.pending:
            cb = c.pending.pop(rid)
            cb(frame, t)
            return
        c.other[str(op)] += 1

    def on_push(self, c: Client, m: dict[str, Any], t: int) -> None:
        cmid = str(m.get("client_msg_id") or "")
        parts = cmid.split(".")
        tag = parts[0] if len(parts) == 4 else "-"
        if m.get("send_id") == c.uid:
            self.echo[tag] += 1
            return
        conv = m.get("conversation_id")
        seq = int(m.get("seq") or 0)
        seen = c.seen[conv]
        if seq in seen:
            self.dups[tag] += 1
            return
        seen.add(seq)
        if seq < c.maxseen[conv]:
            self.reorders[tag] += 1
        else:
            if seq > c.maxseen[conv] + 1 and c.maxseen[conv] and conv:
                self.catch_up(c, "gap", conv, c.maxseen[conv] + 1, seq - 1)
            c.maxseen[conv] = seq
        self.delivered[tag] += 1
        if tag != "-":
            self.lat[tag].append((t - int(parts[3])) / 1e6)
            if self.track_per_msg:
                rec = self.per_msg.get(cmid)
                if rec is None:
                    self.per_msg[cmid] = [1, t, t]
                else:
                    rec[0] += 1
                    rec[2] = t

    # ---------------------------------------------------------------- catch-up
    def _held(self, c: Client, conv: str, seq: int) -> bool:
        return seq in c.seen.get(conv, ()) or seq in c.pulled.get(conv, ())

    def catch_up(self, c: Client, reason: str, conv: str | None = None, lo: int = 0, hi: int = 0) -> None:
        """Start a catch-up like a protocol client: pull ``lo..hi`` of ``conv``, or (no conv)
        ``seq.newest`` then every conversation above what is held. One per client and conversation."""
        key = conv or "*"
        if c.ws is None or c.closed or key in c.pulling:
            return
        c.pulling.add(key)
        self.catchups[reason] += 1
        task = asyncio.get_running_loop().create_task(self._catch_up(c, key, conv, lo, hi))
        self.catchup_tasks.add(task)
        task.add_done_callback(self.catchup_tasks.discard)

    async def _catch_up(self, c: Client, key: str, conv: str | None, lo: int, hi: int) -> None:
        try:
            if conv is not None:
                await self._pull(c, conv, lo, hi)
                return
            newest = await self.call(c, "seq.newest", {})
            for cid, info in ((newest.get("data") or {}).get("conversations") or {}).items():
                top = int(info.get("max_seq") or 0)
                start = max(int(info.get("min_seq") or 0), 1)
                if any(not self._held(c, cid, q) for q in range(start, top + 1)):
                    await self._pull(c, cid, start, top)
        except Exception as exc:  # noqa: BLE001 - counted; the final check catches up again
            self.catchups[f"failed:{type(exc).__name__}"] += 1
        finally:
            c.pulling.discard(key)

    async def _pull(self, c: Client, conv: str, lo: int, hi: int) -> None:
        while lo <= hi:
            res = await self.call(c, "msg.pull", {"conversation_id": conv, "from_seq": lo, "to_seq": hi, "limit": 500})
            data = res.get("data") or {}
            msgs = data.get("messages") or []
            c.pulled[conv].update(int(m.get("seq") or 0) for m in msgs)
            if data.get("is_end", True) or not msgs:
                return
            lo = max(int(m.get("seq") or 0) for m in msgs) + 1

    def on_ping_reply(self, c: Client, frame: dict[str, Any]) -> None:
        """The ping's ``latest`` hint names a seq this client does not hold: a push was missed."""
        latest = (frame.get("data") or {}).get("latest")
        if isinstance(latest, dict) and latest.get("conversation_id"):
            conv, seq = str(latest["conversation_id"]), int(latest.get("seq") or 0)
            if seq and not self._held(c, conv, seq):
                self.catch_up(c, "hint", conv, max(1, c.maxseen.get(conv, 0) + 1), seq)

    async def read_loop(self, c: Client) -> None:
        assert c.ws is not None
        try:
            async for raw in c.ws:
                self.on_frame(c, raw)
        except ConnectionClosed:
            pass
        except Exception:  # noqa: BLE001 - report, do not kill the process
            traceback.print_exc(file=sys.stderr)
        c.closed = True

    def request(self, c: Client, op: str, data: dict[str, Any], cb: Any) -> str:
        rid = f"{self.pidx}-{next(_rid)}"
        c.pending[rid] = cb
        return _text({"id": rid, "op": op, "data": data})

    async def call(self, c: Client, op: str, data: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def cb(frame: dict[str, Any], _t: int) -> None:
            if not fut.done():
                fut.set_result(frame)

        assert c.ws is not None
        await c.ws.send(self.request(c, op, data, cb))
        return await asyncio.wait_for(fut, timeout)

    # --------------------------------------------------------------- commands
    async def _heartbeat_loop(self, interval: float) -> None:
        """Every connected client pings every ``interval`` seconds, counted from its own connect
        (first ping at a random point of the first interval), like a real client's timer. A heap
        of due times: one ping costs O(log n), however many clients there are."""
        while True:
            now = time.monotonic()
            while self.hb_due and self.hb_due[0][0] <= now:
                _due, k, c = heapq.heappop(self.hb_due)
                if c.ws is None or c.closed:
                    continue
                heapq.heappush(self.hb_due, (now + interval, k, c))
                sent = now_ns()
                t_sent = time.monotonic()

                def cb(frame: dict[str, Any], t: int, sent: int = sent, t_sent: float = t_sent, c: Client = c) -> None:
                    if frame.get("code") == 0:
                        self.hb_rtts.append((t_sent, (t - sent) / 1e6))
                        self.on_ping_reply(c, frame)
                    else:
                        self.hb_errors[str(frame.get("code"))] += 1

                try:
                    await c.ws.send(self.request(c, "ping", {}, cb))
                    self.hb_sent.append(t_sent)
                except ConnectionClosed:
                    self.hb_errors["closed"] += 1
            wait = self.hb_due[0][0] - time.monotonic() if self.hb_due else 0.1
            await asyncio.sleep(min(0.1, max(0.0, wait)))

    def _heartbeat_add(self, c: Client, interval: float) -> None:
        heapq.heappush(self.hb_due, (time.monotonic() + random.uniform(0, interval), next(_rid), c))

    async def cmd_connect(self, clients: list[list[str]], concurrency: int = 100, within: float = 600,
                          budget: float | None = None, heartbeat: float = 0) -> dict[str, Any]:
        """Open websockets for ``clients`` [[uid, token, url], ...].

        With ``budget`` (seconds), no new connection is started after that time; clients
        never attempted are dropped and counted as ``not_attempted`` (not as failures).
        """
        start = len(self.clients)
        new = [Client(uid, token, url) for uid, token, url in clients]
        self.clients.extend(new)
        sem = asyncio.Semaphore(concurrency)
        errors: Counter[str] = Counter()
        times: list[float] = []
        done_at: list[float] = []
        retries = [0]
        skipped: set[int] = set()
        t0 = time.monotonic()
        t_budget = t0 + budget if budget else None
        if heartbeat > 0 and self.hb_task is None:
            self.hb_task = asyncio.create_task(self._heartbeat_loop(heartbeat))

        async def one(k: int, c: Client) -> None:
            async with sem:
                if t_budget is not None and time.monotonic() > t_budget:
                    skipped.add(k)
                    return
                t1 = now_ns()
                for attempt in range(3):
                    try:
                        c.ws = await connect(
                            f"{c.url}?token={c.token}&platform_id={PLATFORM_ID}",
                            ping_interval=None, compression=None, max_size=2**24, open_timeout=20,
                            close_timeout=2, max_queue=None, local_addr=(_source_addr(start + k), 0),
                        )
                        break
                    except Exception as exc:  # noqa: BLE001 - retried, then reported
                        if attempt == 2:
                            errors[type(exc).__name__ + ":" + str(exc)[:80]] += 1
                            c.closed = True
                            return
                        retries[0] += 1
                times.append((now_ns() - t1) / 1e6)
                done_at.append(time.monotonic() - t0)
                c.reader = asyncio.create_task(self.read_loop(c))
                if heartbeat > 0:
                    self._heartbeat_add(c, heartbeat)

        await asyncio.wait_for(asyncio.gather(*(one(k, c) for k, c in enumerate(new))), within)
        if skipped:
            keep = [c for k, c in enumerate(new) if k not in skipped]
            self.clients = self.clients[:start] + keep
        # long-lived client objects out of the collector's way: a full collection over tens of
        # thousands of connections would stall this process and show up as server latency
        gc.collect()
        gc.freeze()
        from bench.common import summarize

        secs = time.monotonic() - t0
        timeline = [sum(1 for t in done_at if t <= edge) for edge in range(10, int(secs) + 11, 10)]
        return {
            "first_index": start,
            "connected": sum(1 for c in new if c.ws is not None),
            "failed": sum(1 for k, c in enumerate(new) if c.ws is None and k not in skipped),
            "not_attempted": len(skipped),
            "errors": dict(errors.most_common(5)),
            "retries": retries[0],
            "seconds": round(secs, 3),
            "connect_ms": summarize(times),
            "timeline_10s": timeline,
        }

    async def _schedule(self, rate: float, duration: float, fire: Any) -> dict[str, Any]:
        """Open-loop sender: message i is due at t0 + i/rate; late ones go out at once."""
        total = int(rate * duration)
        t0 = now_ns() + 20_000_000
        step = 1e9 / rate
        i = 0
        lag_max = 0.0
        while i < total:
            now = now_ns()
            due = t0 + i * step
            if now < due:
                await asyncio.sleep((due - now) / 1e9)
                continue
            while i < total and t0 + i * step <= now:
                sched = int(t0 + i * step)
                lag_max = max(lag_max, (now - sched) / 1e6)
                await fire(i, sched)
                i += 1
            await asyncio.sleep(0)
        return {"scheduled": total, "send_seconds": round((now_ns() - t0) / 1e9, 3), "lag_max_ms": round(lag_max, 2)}

    async def _drain(self, tag: str, expect: Any, timeout: float) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if expect():
                break
            await asyncio.sleep(0.02)
        return round(time.monotonic() - t0, 3)

    def _ack_cb(self, cmid: str, tag: str, sched: int, recipient: int) -> Any:
        def cb(frame: dict[str, Any], t: int) -> None:
            if frame.get("code") == 0:
                d = frame.get("data") or {}
                self.acks[cmid] = [d.get("conversation_id"), int(d.get("seq") or 0), t, sched, tag, recipient]
            else:
                self.ack_err[f"{tag}:{frame.get('code')}:{str(frame.get('msg'))[:60]}"] += 1

        return cb

    def _tag_acks(self, tag: str) -> list[list[Any]]:
        return [a for a in self.acks.values() if a[4] == tag]

    async def cmd_pairs(self, tag: str, rate: float, duration: float, pairs: list[list[int]],
                        drain: float = 10.0) -> dict[str, Any]:
        """1:1 sends round-robin over ``pairs`` [[sender, recipient], ...] (indices into clients)."""
        npairs = len(pairs)
        errors: Counter[str] = Counter()

        async def fire(i: int, sched: int) -> None:
            si, ri = pairs[i % npairs]
            s, r = self.clients[si], self.clients[ri]
            cmid = f"{tag}.{self.pidx}.{i}.{sched}"
            frame = self.request(s, "msg.send", {
                "client_msg_id": cmid, "session_type": 1, "recv_id": r.uid,
                "content_type": 101, "content": {"content": "hello from the benchmark"},
            }, self._ack_cb(cmid, tag, sched, ri))
            try:
                assert s.ws is not None
                await s.ws.send(frame)
            except (ConnectionClosed, AssertionError) as exc:
                s.pending.clear()
                errors[type(exc).__name__] += 1

        sched = await self._schedule(rate, duration, fire)

        def done() -> bool:
            acked = self._tag_acks(tag)
            failed = sum(v for k, v in self.ack_err.items() if k.startswith(tag + ":"))
            return len(acked) + failed + sum(errors.values()) >= sched["scheduled"] and self.delivered[tag] >= len(acked)

        drained = await self._drain(tag, done, drain)
        acked = self._tag_acks(tag)
        lost = 0
        for conv, seq, _t, _s, _tag, ri in acked:
            if seq not in self.clients[ri].seen.get(conv, ()):
                lost += 1
        # every earlier 1:1 send too: a push that came after its own round's drain is late, not lost
        lost_all = sum(1 for conv, seq, _t, _s, _tag, ri in self.acks.values()
                       if ri >= 0 and ri < len(self.clients) and seq not in self.clients[ri].seen.get(conv, ()))
        ack_ms = [(a[2] - a[3]) / 1e6 for a in acked]
        return {
            "tag": tag, **sched, "rate": rate, "duration": duration, "drain_seconds": drained,
            "acked": len(acked), "send_errors": dict(errors),
            "ack_errors": {k: v for k, v in self.ack_err.items() if k.startswith(tag + ":")},
            "delivered": self.delivered[tag], "lost": lost, "lost_all": lost_all, "duplicates": self.dups[tag],
            "reordered": self.reorders[tag], "echo": self.echo[tag],
            "latency_ms": self.lat.pop(tag, []), "ack_ms": ack_ms,
            "closed": sum(1 for c in self.clients if c.closed),
        }

    def _undelivered(self) -> int:
        return sum(1 for conv, seq, _t, _s, _tag, ri in self.acks.values()
                   if 0 <= ri < len(self.clients) and seq not in self.clients[ri].seen.get(conv, ()))

    def _missing(self) -> list[tuple[Client, str, int]]:
        """Acked 1:1 sends that the recipient holds neither by push nor by catch-up."""
        return [(self.clients[ri], conv, seq) for conv, seq, _t, _s, _tag, ri in self.acks.values()
                if 0 <= ri < len(self.clients) and not self._held(self.clients[ri], conv, seq)]

    async def cmd_lostcheck(self, wait: float = 30) -> dict[str, Any]:
        """Acked 1:1 sends never pushed (``pushes_missed``, after waiting up to ``wait`` s for
        stragglers and the catch-ups the protocol triggers: gaps, ping hints, push.resync), then a
        final catch-up of every recipient still missing something, as a client does on its next
        connect: ``lost`` / ``missing_after_catch_up`` counts what even that did not find (must be 0)."""
        t0 = time.monotonic()
        while self._missing() and time.monotonic() - t0 < wait:
            await asyncio.sleep(0.1)
        pushes_missed = self._undelivered()
        missing_before_final = len(self._missing())
        for c in {id(c): c for c, _conv, _seq in self._missing()}.values():
            c.pulling.discard("*")
            self.catch_up(c, "final")
        if self.catchup_tasks:
            await asyncio.wait(list(self.catchup_tasks), timeout=max(5.0, wait))
        missing = len(self._missing())
        return {"lost": missing, "missing_after_catch_up": missing, "pushes_missed": pushes_missed,
                "missing_before_final_catch_up": missing_before_final, "catch_ups": dict(self.catchups),
                "waited": round(time.monotonic() - t0, 2), "acked": sum(1 for a in self.acks.values() if a[5] >= 0)}

    async def cmd_group(self, tag: str, rate: float, duration: float, sender: int, group_id: str) -> dict[str, Any]:
        """Send group messages from one client; receivers report through ``groupstats``."""
        errors: Counter[str] = Counter()
        s = self.clients[sender]

        async def fire(i: int, sched: int) -> None:
            cmid = f"{tag}.{self.pidx}.{i}.{sched}"
            frame = self.request(s, "msg.send", {
                "client_msg_id": cmid, "session_type": 3, "group_id": group_id,
                "content_type": 101, "content": {"content": "hello group"},
            }, self._ack_cb(cmid, tag, sched, -1))
            try:
                assert s.ws is not None
                await s.ws.send(frame)
            except (ConnectionClosed, AssertionError) as exc:
                errors[type(exc).__name__] += 1

        sched = await self._schedule(rate, duration, fire)
        failed = lambda: sum(v for k, v in self.ack_err.items() if k.startswith(tag + ":"))  # noqa: E731
        await self._drain(tag, lambda: len(self._tag_acks(tag)) + failed() >= sched["scheduled"], 30)
        acked = self._tag_acks(tag)
        return {
            "tag": tag, **sched, "acked": len(acked), "send_errors": dict(errors),
            "ack_errors": {k: v for k, v in self.ack_err.items() if k.startswith(tag + ":")},
            "acks": [[a[0], a[1], a[3]] for a in acked],
            "cmids": [k for k, a in self.acks.items() if a[4] == tag],
            "ack_ms": [(a[2] - a[3]) / 1e6 for a in acked],
        }

    async def cmd_track(self, on: bool) -> dict[str, Any]:
        self.track_per_msg = on
        return {"tracking": on}

    async def cmd_groupstats(self, tag: str, conv: str, seqs: list[int], members: list[int],
                             final: bool = False) -> dict[str, Any]:
        """Deliveries of ``tag`` so far; with ``final`` also the loss check for ``members``."""
        out: dict[str, Any] = {"delivered": self.delivered[tag]}
        if final:
            want = set(seqs)
            lost = 0
            for i in members:
                lost += len(want - self.clients[i].seen.get(conv, set()))
            per = {k: v for k, v in self.per_msg.items() if k.startswith(tag + ".")}
            out.update({
                "lost": lost, "duplicates": self.dups[tag], "reordered": self.reorders[tag],
                "per_msg": per, "latency_ms": self.lat.pop(tag, []),
                "closed": sum(1 for i in members if self.clients[i].closed),
            })
        return out

    async def cmd_fill(self, tag: str, sends: list[list[Any]], count: int, window: int = 20,
                       timeout: float = 300) -> dict[str, Any]:
        """Closed loop: each [sender, recv_id, session_type] sends ``count`` messages, ``window`` in flight."""
        errors: Counter[str] = Counter()
        top: dict[str, int] = {}

        async def one(si: int, recv_id: str, session_type: int) -> None:
            s = self.clients[si]
            sem = asyncio.Semaphore(window)
            done = asyncio.Event()
            left = [count]

            def cb_for(_cmid: str) -> Any:
                def cb(frame: dict[str, Any], _t: int) -> None:
                    sem.release()
                    if frame.get("code") == 0:
                        d = frame.get("data") or {}
                        conv = d.get("conversation_id")
                        top[conv] = max(top.get(conv, 0), int(d.get("seq") or 0))
                    else:
                        errors[f"{frame.get('code')}:{str(frame.get('msg'))[:60]}"] += 1
                    left[0] -= 1
                    if left[0] == 0:
                        done.set()
                return cb

            key = "group_id" if session_type == 3 else "recv_id"
            for i in range(count):
                await sem.acquire()
                cmid = f"{tag}.{self.pidx}.{si}x{i}.{now_ns()}"
                frame = self.request(s, "msg.send", {
                    "client_msg_id": cmid, "session_type": session_type, key: recv_id,
                    "content_type": 101, "content": {"content": f"catch-up message {i}"},
                }, cb_for(cmid))
                assert s.ws is not None
                await s.ws.send(frame)
            await done.wait()

        t0 = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(one(si, rid, st) for si, rid, st in sends)), timeout)
        secs = time.monotonic() - t0
        return {"tag": tag, "seconds": round(secs, 3), "sent": count * len(sends),
                "rate": round(count * len(sends) / secs, 1), "errors": dict(errors), "max_seq": top}

    async def cmd_catchup(self, uid: str, token: str, url: str, expect: dict[str, int], limit: int = 500,
                          timeout: float = 60) -> dict[str, Any]:
        """Connect a client that was offline and pull until it holds every expected seq."""
        c = Client(uid, token, url)
        t0 = now_ns()
        c.ws = await connect(f"{url}?token={token}&platform_id={PLATFORM_ID}", ping_interval=None,
                             compression=None, max_size=2**26, open_timeout=60, max_queue=None)
        c.reader = asyncio.create_task(self.read_loop(c))
        t_conn = now_ns()
        newest = await self.call(c, "seq.newest", {}, timeout)
        convs = (newest.get("data") or {}).get("conversations") or {}
        t_newest = now_ns()
        held: dict[str, set[int]] = defaultdict(set)
        dups = Counter()
        pulls = Counter()

        async def pull(conv: str, max_seq: int, min_seq: int) -> None:
            frm = max(1, min_seq)
            while frm <= max_seq:
                to = min(max_seq, frm + limit - 1)
                rep = await self.call(c, "msg.pull", {"conversation_id": conv, "from_seq": frm, "to_seq": to,
                                                      "limit": limit}, timeout)
                pulls[conv] += 1
                msgs = (rep.get("data") or {}).get("messages") or []
                if rep.get("code") != 0 or not msgs:
                    break
                got = 0
                for m in msgs:
                    seq = int(m.get("seq") or 0)
                    if seq in held[conv]:
                        dups[conv] += 1
                    held[conv].add(seq)
                    got = max(got, seq)
                frm = max(frm, got) + 1 if got >= frm else to + 1

        await asyncio.wait_for(asyncio.gather(*(
            pull(conv, int(v.get("max_seq") or 0), int(v.get("min_seq") or 1)) for conv, v in convs.items()
        )), timeout)
        t_done = now_ns()
        missing = 0
        for conv, top in expect.items():
            missing += len(set(range(1, top + 1)) - held.get(conv, set()))
        await c.ws.close()
        return {
            "seconds": round((t_done - t0) / 1e9, 4), "connect_ms": round((t_conn - t0) / 1e6, 2),
            "newest_ms": round((t_newest - t_conn) / 1e6, 2), "conversations": len(convs),
            "messages": sum(len(v) for v in held.values()), "expected": sum(expect.values()),
            "missing": missing, "duplicates": sum(dups.values()), "pulls": sum(pulls.values()),
        }

    async def cmd_idle(self, seconds: float, heartbeat: float) -> dict[str, Any]:
        """Every live client sends the protocol ping every ``heartbeat`` seconds (staggered)."""
        if self.hb_task is not None:  # the heartbeat runs since connect: just watch a window of it
            t0 = time.monotonic()
            await asyncio.sleep(seconds)
            t1 = time.monotonic()
            await asyncio.sleep(min(5.0, heartbeat))  # let the window's pongs arrive
            sent = sum(1 for t in self.hb_sent if t0 <= t < t1)
            rtts = [r for t, r in self.hb_rtts if t0 <= t < t1]
            return {"pings": sent, "pongs": len(rtts), "errors": dict(self.hb_errors), "rtt_ms": rtts,
                    "closed": sum(1 for c in self.clients if c.closed),
                    "live": sum(1 for c in self.clients if c.ws is not None and not c.closed)}
        live = [c for c in self.clients if c.ws is not None and not c.closed]
        errors: Counter[str] = Counter()
        rtts: list[float] = []
        t_end = time.monotonic() + seconds
        n = max(1, len(live))
        t0 = now_ns()

        def cb_for(sent: int) -> Any:
            def cb(frame: dict[str, Any], t: int) -> None:
                if frame.get("code") == 0:
                    rtts.append((t - sent) / 1e6)
                else:
                    errors[str(frame.get("code"))] += 1
            return cb

        i = 0
        while time.monotonic() < t_end:
            c = live[i % n]
            due = t0 + int(i * heartbeat * 1e9 / n)
            wait = (due - now_ns()) / 1e9
            if wait > 0:
                await asyncio.sleep(min(wait, max(0.0, t_end - time.monotonic())))
                if time.monotonic() >= t_end:
                    break
            i += 1
            if c.closed or c.ws is None:
                continue
            sent = now_ns()
            try:
                await c.ws.send(self.request(c, "ping", {}, cb_for(sent)))
            except ConnectionClosed:
                errors["closed"] += 1
        t_wait = time.monotonic() + 5
        while len(rtts) + sum(errors.values()) < i and time.monotonic() < t_wait:
            await asyncio.sleep(0.05)
        return {"pings": i, "pongs": len(rtts), "errors": dict(errors), "rtt_ms": rtts,
                "closed": sum(1 for c in self.clients if c.closed), "live": len(live)}

    async def cmd_rest(self, host: str, port: int, path: str, token: str, concurrency: int,
                       duration: float, ports: list[int] | None = None,
                       mix: list[list[Any]] | None = None) -> dict[str, Any]:
        """Keep-alive HTTP/1.1 GETs from ``concurrency`` connections for ``duration`` seconds
        (spread round-robin over ``ports`` when several nodes serve). ``mix``: a weighted mix
        instead of one request, ``[[name, path, token, weight], ...]``; each connection walks
        the same shuffled schedule (weights in whole requests) from its own starting point."""
        lat: list[float] = []
        status: Counter[int] = Counter()
        errors: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        body_bytes = [0]

        def build(p: str, tok: str) -> bytes:
            return (f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {tok}\r\n"
                    "Accept: application/json\r\n\r\n").encode()

        schedule: list[tuple[str, bytes]] = []
        for name, p, tok, weight in mix or [["", path, token, 1]]:
            schedule += [(name, build(p, tok))] * int(weight)
        random.Random(len(schedule)).shuffle(schedule)
        t_end = time.monotonic() + duration

        async def worker(k: int, port: int) -> None:
            reader, writer = await asyncio.open_connection(host, port)
            i = k * 7
            try:
                while time.monotonic() < t_end:
                    kind, req = schedule[i % len(schedule)]
                    i += 1
                    t0 = now_ns()
                    writer.write(req)
                    head = await reader.readuntil(b"\r\n\r\n")
                    lines = head.decode("latin-1").split("\r\n")
                    code = int(lines[0].split()[1])
                    length = 0
                    chunked = False
                    close = False
                    for line in lines[1:]:
                        k_, _, v = line.partition(":")
                        k_ = k_.strip().lower()
                        if k_ == "content-length":
                            length = int(v)
                        elif k_ == "transfer-encoding" and "chunked" in v.lower():
                            chunked = True
                        elif k_ == "connection" and "close" in v.lower():
                            close = True
                    if chunked:
                        while True:
                            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                            await reader.readexactly(size + 2)
                            body_bytes[0] += size
                            if size == 0:
                                break
                    else:
                        await reader.readexactly(length)
                        body_bytes[0] += length
                    lat.append((now_ns() - t0) / 1e6)
                    status[code] += 1
                    kinds[kind] += 1
                    if close:
                        writer.close()
                        reader, writer = await asyncio.open_connection(host, port)
            except Exception as exc:  # noqa: BLE001
                errors[type(exc).__name__] += 1
            finally:
                writer.close()

        t0 = time.monotonic()
        targets = ports or [port]
        await asyncio.gather(*(worker(k, targets[k % len(targets)]) for k in range(concurrency)))
        secs = time.monotonic() - t0
        return {"requests": len(lat), "seconds": round(secs, 3), "rps": round(len(lat) / secs, 1),
                "status": {str(k): v for k, v in status.items()}, "errors": dict(errors), "latency_ms": lat,
                "mean_body_bytes": round(body_bytes[0] / max(1, len(lat))),
                "kinds": dict(kinds) if mix else {}}

    async def cmd_call(self, client: int, op: str, data: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        return {"reply": await self.call(self.clients[client], op, data, timeout)}

    async def cmd_close(self) -> dict[str, Any]:
        if self.hb_task is not None:
            self.hb_task.cancel()
            self.hb_task = None
        async def one(c: Client) -> None:
            if c.ws is not None:
                try:
                    await asyncio.wait_for(c.ws.close(), 3)
                except Exception:  # noqa: BLE001, S110
                    pass
            if c.reader is not None:
                c.reader.cancel()

        await asyncio.gather(*(one(c) for c in self.clients))
        n = len(self.clients)
        self.clients = []
        return {"closed": n}

    async def cmd_stats(self) -> dict[str, Any]:
        other: Counter[str] = Counter()
        for c in self.clients:
            other.update(c.other)
        return {"clients": len(self.clients), "closed": sum(1 for c in self.clients if c.closed),
                "other_frames": dict(other)}


async def main() -> None:
    raise_nofile()
    gc.set_threshold(50_000, 20, 100)
    pidx = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    lg = LoadGen(pidx)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**30)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = orjson.loads(line)
        name = cmd.pop("cmd")
        if name == "quit":
            await lg.cmd_close()
            out.write(orjson.dumps({"ok": True}).decode() + "\n")
            out.flush()
            break
        try:
            res = await getattr(lg, f"cmd_{name}")(**cmd)
            res = {"ok": True, **res}
        except Exception as exc:  # noqa: BLE001 - the orchestrator decides
            traceback.print_exc(file=sys.stderr)
            res = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        res["cpu_seconds"] = round(time.process_time(), 3)
        out.write(orjson.dumps(res).decode() + "\n")
        out.flush()


if __name__ == "__main__":
    asyncio.run(main())
