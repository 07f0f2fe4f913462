"""Hostile requests against real daphne, uvicorn and granian (WSGI) processes over real sockets.

Every one gets an HTTP answer with a ``{"code", "msg"}`` body (never a dropped connection),
the server keeps serving, and its log holds no traceback and no ERROR line. A storm of
websockets that send requests and vanish before the replies is quiet in the log too.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request
from collections.abc import Iterator

import pytest
import websockets

from tests.support.processes import Proc, live_database, server_env, start_asgi_node

pytestmark = pytest.mark.slow

SECRET = "edge-secret-0123456789"
# what granian's parser answers by itself, with an empty body, and the code the application would give
PARSER_REFUSALS = {400: 1001, 414: 1008, 431: 1009}


def _node(request, tmp_path_factory) -> Iterator[Proc]:
    tmp = tmp_path_factory.mktemp(f"edge-{request.param}")
    with live_database(tmp) as db_url:
        env = server_env({"DATABASE_URL": db_url, "IM_VAR_DIR": str(tmp / "var"), "IM_SECRET": SECRET,
                          "IM_SEND_RATE_PER_SECOND": "0", "LOG_LEVEL": "INFO"})
        proc = start_asgi_node(f"edge-{request.param}", env, tmp / "logs", server=request.param)
        try:
            yield proc
        finally:
            proc.stop()


@pytest.fixture(scope="module", params=["daphne", "uvicorn"])
def node(request, tmp_path_factory) -> Iterator[Proc]:
    """A websocket gateway node."""
    yield from _node(request, tmp_path_factory)


@pytest.fixture(scope="module", params=["daphne", "uvicorn", "granian"])
def http_node(request, tmp_path_factory) -> Iterator[Proc]:
    """A server of HTTP: a gateway node, or the HTTP unit's granian WSGI workers."""
    yield from _node(request, tmp_path_factory)


def raw(proc: Proc, request: bytes, *, body: bytes = b"", timeout: float = 20) -> tuple[int, dict, bytes]:
    """Send ``request`` (and ``body``, which the server may refuse to read), read the whole answer."""
    with socket.create_connection(("127.0.0.1", proc.port), timeout=timeout) as sock:
        sock.sendall(request)
        if body:
            try:
                sock.sendall(body)
            except OSError:  # the server answered and closed before taking it all: that is the point
                pass
        data = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                head, sep, rest = data.partition(b"\r\n\r\n")
                if sep:
                    length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:")]
                    if (length and len(rest) >= length[0]) or rest.endswith(b"0\r\n\r\n"):
                        break
        except ConnectionResetError:
            pass
    assert data, f"no answer at all to {request[:80]!r}"
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode()
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            body, rest = body + rest[:n], rest[n + 2 :]
        rest = body
    return status, headers, rest


def call(proc: Proc, method: str, target: str, *, headers: dict[str, str] | None = None, body: bytes = b"",
         declare: int | None = None, chunked: bool = False) -> tuple[int, dict]:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    payload = body
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                           for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
    elif body or declare is not None:
        lines.append(f"Content-Length: {declare if declare is not None else len(body)}")
    lines.append("Connection: close")
    status, got_headers, rest = raw(proc, ("\r\n".join(lines) + "\r\n\r\n").encode(), body=payload)
    if not rest and proc.name.endswith("granian") and status in PARSER_REFUSALS:
        # refused by granian's HTTP parser before the application (a URL over 64 KB, headers over its
        # buffer, a Content-Length that is not a number): the status alone; behind nginx (deploy/), nginx refuses these first anyway
        return status, {"code": PARSER_REFUSALS[status], "msg": "(status only)"}
    assert got_headers.get("content-type", "").startswith("application/json"), (status, got_headers, rest[:200])
    return status, json.loads(rest)


def _server_log_is_clean(proc: Proc) -> None:
    log = proc.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-6000:]
    assert " ERROR " not in log and "ERROR:" not in log, log[-6000:]


def test_hostile_requests_get_json_answers_and_leave_no_traceback(http_node):
    node = http_node
    long_url = "/" + "a" * 17_000
    cases = [
        ("17 KB URL", call(node, "GET", long_url), 414, 1008),
        ("100 KB URL", call(node, "GET", "/api/v1/users?ids=" + "a," * 50_000), 414, 1008),
        ("9 KB URL", call(node, "GET", "/api/v1/users?ids=" + "b" * 9_000), 414, 1008),
        ("70 KB header", call(node, "GET", "/healthz", headers={"X-Big": "h" * 70_000}), 431, 1009),
        ("40 KB of headers", call(node, "GET", "/healthz", headers={f"X-H{i}": "h" * 4_000 for i in range(10)}),
         431, 1009),
        ("1 MB header", call(node, "GET", "/healthz", headers={"X-Huge": "h" * 1_000_000}), 431, 1009),
        ("60 MB declared", call(node, "POST", "/api/v1/auth/admin-token", declare=60 * 1024 * 1024,
                                headers={"Content-Type": "application/json"}), 413, 1007),
        ("3 MB body", call(node, "POST", "/api/v1/users", body=b'{"users": "' + b"x" * 3_000_000 + b'"}',
                           headers={"Content-Type": "application/json"}), 413, 1007),
        ("3 MB chunked", call(node, "POST", "/api/v1/auth/admin-token", body=b"x" * 3_000_000, chunked=True,
                              headers={"Content-Type": "application/json"}), 413, 1007),
        ("[ x 1,500", call(node, "POST", "/api/v1/auth/admin-token", body=b"[" * 1_500,
                           headers={"Content-Type": "application/json"}), 400, 1001),
        ("[ x 100,000", call(node, "POST", "/api/v1/auth/admin-token", body=b"[" * 100_000,
                             headers={"Content-Type": "application/json"}), 400, 1001),
        ("bad Content-Length", call(node, "POST", "/api/v1/auth/admin-token",
                                    headers={"Content-Length": "12abc", "Content-Type": "application/json"}), 400, 1001),
        ("unknown API path", call(node, "GET", "/api/v1/nope"), 404, 1004),
        ("wrong method", call(node, "DELETE", "/api/v1/auth/admin-token"), 405, 1001),
        ("1,500 query fields", call(node, "GET", "/api/v1/users?" + "&".join("a=1" for _ in range(1_500))),
         400, 1001),
        ("no token", call(node, "GET", "/api/v1/users/me"), 401, 1006),
        ("garbage token", call(node, "GET", "/api/v1/users/me", headers={"Authorization": "Bearer x.y.z"}), 401, 1502),
    ]
    for name, (status, body), want_status, want_code in cases:
        assert (status, body.get("code")) == (want_status, want_code), (name, body, node.log()[-3000:])
        assert body.get("msg"), name
    # a request line that is not HTTP at all (granian's parser: 400 with an empty body)
    status, headers, rest = raw(node, b"HELLO THERE\r\n\r\n")
    assert status == 400 and (json.loads(rest)["code"] == 1001 if rest or not node.name.endswith("granian") else True)
    # the node still serves
    with urllib.request.urlopen(node.base_url + "/healthz", timeout=5) as resp:  # noqa: S310 - loopback
        assert json.loads(resp.read()) == {"status": "ok"}
    time.sleep(0.5)
    _server_log_is_clean(node)


def test_pages_and_offline_docs_are_served(http_node):
    node = http_node
    for path, marker in (("/", b'href="/chat/"'), ("/api/docs/", b"swagger-ui"), ("/api/redoc/", b"redoc")):
        with urllib.request.urlopen(node.base_url + path, timeout=10) as resp:  # noqa: S310 - loopback
            page = resp.read()
        assert resp.status == 200 and marker in page, path
        assert b"https://" not in page and b'src="//' not in page, path


def _post(proc: Proc, path: str, body: dict, token: str | None = None) -> dict:
    req = urllib.request.Request(proc.base_url + path, data=json.dumps(body).encode(), method="POST")  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


def test_a_disconnect_storm_leaves_no_error_in_the_log(node):
    admin = _post(node, "/api/v1/auth/admin-token", {"secret": SECRET, "user_id": "imAdmin"})["token"]
    _post(node, "/api/v1/users", {"users": [{"user_id": "storm"}, {"user_id": "calm"}]}, admin)
    token = _post(node, "/api/v1/auth/user-token", {"user_id": "storm", "platform_id": 5}, admin)["token"]
    url = f"{node.ws_url}?token={token}&platform_id=5"
    frames = [
        json.dumps({"id": i, "op": op, "data": data})
        for i, (op, data) in enumerate(
            [("ping", {}), ("seq.newest", {}), ("msg.send", {"client_msg_id": "x", "session_type": 1, "recv_id": "calm",
                                                            "content_type": 101, "content": {"content": "hi"}}),
             ("nope", {}), ("ping", {})]
        )
    ]

    async def vanish(n: int) -> None:
        ws = await websockets.connect(url, open_timeout=20, max_size=None)
        await ws.recv()  # connected
        for frame in frames:
            await ws.send(frame if n % 2 else frame.replace('"x"', f'"x{n}"'))
        if n % 2:
            ws.transport.abort()  # gone without a close handshake, replies still on their way
        else:
            await ws.close()  # a close frame right behind the requests: the replies meet a closing socket

    async def storm() -> None:
        for start in range(0, 300, 50):
            results = await asyncio.gather(*(vanish(n) for n in range(start, start + 50)), return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            assert not failures, failures[:3]
        # the node still serves a well-behaved client
        async with websockets.connect(url, open_timeout=20) as ws:
            assert json.loads(await ws.recv())["op"] == "connected"
            await ws.send(json.dumps({"id": "p", "op": "ping", "data": {}}))
            while (reply := json.loads(await asyncio.wait_for(ws.recv(), 10))).get("id") != "p":
                pass  # pushes of the storm's messages
            assert reply["code"] == 0

    asyncio.run(storm())
    time.sleep(2)  # the server notices the vanished sockets and finishes the replies it had begun
    _server_log_is_clean(node)


def test_websocket_frames_over_the_limits(node):
    admin = _post(node, "/api/v1/auth/admin-token", {"secret": SECRET, "user_id": "imAdmin"})["token"]
    _post(node, "/api/v1/users", {"users": [{"user_id": "big"}]}, admin)
    token = _post(node, "/api/v1/auth/user-token", {"user_id": "big", "platform_id": 5}, admin)["token"]
    url = f"{node.ws_url}?token={token}&platform_id=5"

    async def scenario() -> None:
        async with websockets.connect(url, open_timeout=20, max_size=None) as ws:
            assert json.loads(await ws.recv())["op"] == "connected"
            # over IM_WS_MAX_FRAME_BYTES (64 KiB): an error reply, the connection stays
            await ws.send(json.dumps({"id": 1, "op": "ping", "data": {"pad": "x" * 100_000}}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert (reply["id"], reply["code"]) == (None, 1603)
            await ws.send(json.dumps({"id": 2, "op": "ping", "data": {}}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["code"] == 0
            # over the server's cap (16 x the frame limit): closed, nothing buffered beyond it
            await ws.send("x" * 2_000_000)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            # 1009, or a bare TCP close when the server hung up while the client was still writing
            assert closed.value.rcvd is None or closed.value.rcvd.code == 1009, closed.value
        async with websockets.connect(url, open_timeout=20) as ws:  # the node still serves
            assert json.loads(await ws.recv())["op"] == "connected"

    asyncio.run(scenario())
    time.sleep(0.5)
    _server_log_is_clean(node)
