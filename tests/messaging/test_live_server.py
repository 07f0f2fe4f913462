"""Over a real socket: a daphne server process, its own database, real websocket clients."""

from __future__ import annotations

import contextlib
import json
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.support.processes import live_database, processes, server_env, start_asgi_node

pytestmark = pytest.mark.slow

SECRET = "live-secret-0123456789"


def _post(base: str, path: str, body: dict, token: str | None = None) -> dict:
    req = urllib.request.Request(  # noqa: S310 - loopback
        base + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


class Ws:
    def __init__(self, url: str, stack: contextlib.ExitStack) -> None:
        self.sock = stack.enter_context(ws_connect(url, open_timeout=10))
        self.pending: list[dict] = []
        self.n = 0
        hello = self.recv()
        assert hello["op"] == "connected", hello

    def recv(self, timeout: float = 10) -> dict:
        return json.loads(self.sock.recv(timeout=timeout))

    def call(self, op: str, data: dict) -> dict:
        self.n += 1
        frame_id = f"f{self.n}"
        self.sock.send(json.dumps({"id": frame_id, "op": op, "data": data}))
        while True:
            frame = self.recv()
            if frame.get("id") == frame_id:
                return frame
            self.pending.append(frame)

    def push(self) -> dict:
        if self.pending:
            return self.pending.pop(0)
        return self.recv()


def test_send_push_and_catch_up_over_a_real_socket(tmp_path):
    with live_database(tmp_path) as db_url, processes() as procs, contextlib.ExitStack() as stack:
        env = server_env({"DATABASE_URL": db_url, "IM_SECRET": SECRET, "IM_ADMIN_USER_IDS": "imAdmin",
                          "IM_VAR_DIR": str(tmp_path / "var"), "IM_CHANNEL_PREFIX": f"live{tmp_path.name[-6:]}"})
        node = start_asgi_node("daphne", env, tmp_path / "logs")
        procs.append(node)
        try:
            base = node.base_url
            admin = _post(base, "/api/v1/auth/admin-token", {"secret": SECRET, "user_id": "imAdmin"})["token"]
            _post(base, "/api/v1/users", {"users": [{"user_id": "alice"}, {"user_id": "bob"}]}, admin)
            tok = {u: _post(base, "/api/v1/auth/user-token", {"user_id": u, "platform_id": 5}, admin)["token"]
                   for u in ("alice", "bob")}
            a = Ws(f"{node.ws_url}?token={tok['alice']}&platform_id=5", stack)
            b = Ws(f"{node.ws_url}?token={tok['bob']}&platform_id=5", stack)
            msg = {"session_type": 1, "recv_id": "bob", "content_type": 101}
            ack = a.call("msg.send", {**msg, "client_msg_id": "c1", "content": {"content": "hello"}})
            assert ack["code"] == 0, ack
            push = b.push()
            assert push["op"] == "push.msg" and push["data"]["seq"] == ack["data"]["seq"] == 1
            b.sock.close()
            for i in range(2, 6):
                assert a.call("msg.send", {**msg, "client_msg_id": f"c{i}", "content": {"content": f"m{i}"}})["code"] == 0
            b = Ws(f"{node.ws_url}?token={tok['bob']}&platform_id=5", stack)
            newest = b.call("seq.newest", {})["data"]["conversations"]["si_alice_bob"]
            assert newest["max_seq"] == 5
            pulled = b.call("msg.pull", {"conversation_id": "si_alice_bob", "from_seq": 2, "to_seq": newest["max_seq"]})
            assert [m["seq"] for m in pulled["data"]["messages"]] == [2, 3, 4, 5]
            assert [m["content"]["content"] for m in pulled["data"]["messages"]] == ["m2", "m3", "m4", "m5"]
            # a forced logout reaches the live socket: a kicked frame, then close code 4003
            _post(base, "/api/v1/auth/force-logout", {"user_id": "bob", "platform_id": 5}, admin)
            kicked = b.push()
            assert kicked["op"] == "kicked" and kicked["code"] == 1506
            with pytest.raises(ConnectionClosed):
                b.recv(timeout=5)
            assert b.sock.close_code == 4003
            a.sock.close()
        except Exception:
            print(node.log())
            raise
