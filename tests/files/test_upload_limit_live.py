"""The upload limit holds on a real server: a too-large body is refused before it is sent."""

from __future__ import annotations

import socket

import orjson
import pytest

from tests.support.processes import live_database, processes, server_env, start_asgi_node

pytestmark = [pytest.mark.slow]


def _raw_post(port: int, headers: str, body: bytes = b"") -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(headers.encode() + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 10:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, orjson.loads(rest[: rest.rindex(b"}") + 1])


def test_a_declared_length_past_the_limit_gets_413_without_sending_the_body(tmp_path):
    with live_database(tmp_path) as url, processes() as procs:
        env = server_env({"DATABASE_URL": url, "IM_VAR_DIR": str(tmp_path / "var"), "IM_UPLOAD_MAX_BYTES": "1000"})
        node = start_asgi_node("upload-limit", env, tmp_path / "logs", server="uvicorn")
        procs.append(node)
        status, body = _raw_post(
            node.port,
            "POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            "Content-Length: 2000000000\r\n\r\n",
        )
        assert status == 413 and body["code"] == 1701
        # chunked, no length: cut off once the counted bytes pass the limit
        chunk = b"a" * 40_000
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
        status, body = _raw_post(
            node.port,
            "POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            "Transfer-Encoding: chunked\r\n\r\n",
            chunks,
        )
        assert status == 413 and body["code"] == 1701
