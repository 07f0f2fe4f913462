"""``python -m bench.webhook_latency``: send latency with the ``message.before_send`` hook off and on.

One server node (embedded topology: SQLite, in-memory layer) and one local hook receiver
on 127.0.0.1 that answers ``{"action": "allow"}`` at once. A single websocket client sends
one-to-one messages one after another (the next when the previous is acked) and records
the time from send to ack. Hook off, then hook on, each in a fresh topology. What the hook
adds is one local HTTP round trip (plus its JSON) on the send path; a remote hook adds
its network round trip on top. Results: ``bench/results/webhook-latency.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from websockets.asyncio.client import connect

from bench.common import RESULTS_DIR
from bench.topology import Topology


class _Allow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"action": "allow"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)


async def _sends(url: str, token: str, to: str, n: int, tag: str) -> list[float]:
    out: list[float] = []
    async with connect(f"{url}?token={token}&platform_id=5", ping_interval=None) as ws:
        json.loads(await ws.recv())  # connected
        for i in range(n):
            frame_id = f"{tag}{i}"
            started = time.perf_counter()
            await ws.send(json.dumps({"id": frame_id, "op": "msg.send", "data": {
                "client_msg_id": frame_id, "session_type": 1, "recv_id": to, "content_type": 101,
                "content": {"content": f"hello {i}"}}}))
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("id") == frame_id:
                    break
            out.append((time.perf_counter() - started) * 1000)
            assert frame["code"] == 0, frame
    return out


def measure(hook: bool, n: int, hook_url: str) -> dict[str, Any]:
    saved = {k: os.environ.get(k) for k in ("IM_WEBHOOK_URL", "IM_WEBHOOK_SECRET", "IM_WEBHOOK_BEFORE_SEND",
                                            "IM_WEBHOOK_EVENTS")}
    if hook:
        os.environ.update({"IM_WEBHOOK_URL": hook_url, "IM_WEBHOOK_SECRET": "bench-hook-secret",
                           "IM_WEBHOOK_BEFORE_SEND": "1", "IM_WEBHOOK_EVENTS": "message.before_send"})
    try:
        with Topology(server="uvicorn", mode="embedded", nodes=1, max_seconds=600) as topo:
            tok = topo.provision({"users": ["wha", "whb"], "tokens": ["wha", "whb"]})["tokens"]
            asyncio.run(_sends(topo.ws_urls[0], tok["wha"], "whb", 20, "warm"))
            lat = asyncio.run(_sends(topo.ws_urls[0], tok["wha"], "whb", n, "m"))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {"hook": hook, "sends": n, "p50_ms": _pct(lat, 50), "p90_ms": _pct(lat, 90), "p99_ms": _pct(lat, 99),
            "mean_ms": round(statistics.fmean(lat), 2), "max_ms": round(max(lat), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=500)
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Allow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        rows = [measure(False, args.sends, hook_url), measure(True, args.sends, hook_url)]
    finally:
        server.shutdown()
    record = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "load_avg_1m": os.getloadavg()[0],
              "note": args.note, "server": "uvicorn", "topology": "embedded", "rows": rows}
    path = RESULTS_DIR / "webhook-latency.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print("| before_send hook | sends | p50 ms | p90 ms | p99 ms | mean ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {'on' if r['hook'] else 'off'} | {r['sends']} | {r['p50_ms']} | {r['p90_ms']} | {r['p99_ms']} "
              f"| {r['mean_ms']} |")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
