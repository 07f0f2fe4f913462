#!/usr/bin/env python3
"""A two-user chat against a running imserver, over the REST API and the websocket.

    .venv/bin/python scripts/chat_demo.py [--base http://127.0.0.1:8000] [--secret ...]

Registers alice and bob (if needed), issues them tokens, connects both, sends a
message from alice to bob, shows bob's push, then bob catches up with seq.newest +
msg.pull as a client coming back online would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request

import websockets


def rest(base: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    req = urllib.request.Request(base + "/api/v1" + path, method="POST" if body is not None else "GET")  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(req, data=data, timeout=10) as resp:  # noqa: S310 - user-given server
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


async def call(ws, op: str, data: dict, ident: str) -> dict:
    await ws.send(json.dumps({"id": ident, "op": op, "data": data}))
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("id") == ident:
            return frame
        print("  (push)", frame)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--secret", default="change-me-imserver-secret")
    parser.add_argument("--admin", default="imAdmin")
    args = parser.parse_args()

    answer = rest(args.base, "/auth/admin-token", {"secret": args.secret, "user_id": args.admin})
    if "token" not in answer:
        raise SystemExit(f"chat_demo: no admin token: {answer.get('code')} {answer.get('msg')} (check --secret and --admin)")
    admin = answer["token"]
    reg = rest(args.base, "/users", {"users": [{"user_id": "alice", "nickname": "Alice"}, {"user_id": "bob", "nickname": "Bob"}]}, admin)
    print("register:", reg.get("msg") or "ok")
    tokens = {u: rest(args.base, "/auth/user-token", {"user_id": u, "platform_id": 5}, admin)["token"] for u in ("alice", "bob")}

    ws_base = args.base.replace("http", "ws", 1) + "/ws/?platform_id=5&token="
    async with websockets.connect(ws_base + tokens["alice"]) as alice, websockets.connect(ws_base + tokens["bob"]) as bob:
        print("alice:", json.loads(await alice.recv())["op"], "| bob:", json.loads(await bob.recv())["op"])
        ack = await call(alice, "msg.send", {
            "client_msg_id": f"demo-{time.time_ns()}", "session_type": 1, "recv_id": "bob",
            "content_type": 101, "content": {"content": "hello bob"},
        }, "1")
        if ack["code"] != 0:
            raise SystemExit(f"send failed: {ack['code']} {ack['msg']}")
        print("alice's ack:", ack["data"])
        push = json.loads(await asyncio.wait_for(bob.recv(), 5))
        print("bob's push:", push["op"], push["data"]["content"], "seq", push["data"]["seq"])
        newest = await call(bob, "seq.newest", {}, "2")
        conv_id = ack["data"]["conversation_id"]
        print("bob's seq.newest:", newest["data"]["conversations"][conv_id])
        pulled = await call(bob, "msg.pull", {"conversation_id": conv_id, "from_seq": 1, "to_seq": ack["data"]["seq"], "limit": 100}, "3")
        print("bob pulls", len(pulled["data"]["messages"]), "message(s), is_end =", pulled["data"]["is_end"])


def run() -> int:
    try:
        asyncio.run(main())
    except (urllib.error.URLError, OSError) as exc:  # no server there (refused, unreachable, timed out)
        reason = getattr(exc, "reason", None) or exc
        print(f"chat_demo: cannot reach the imserver: {reason} (is it running? start it with ./scripts/serve.sh)",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(run())
