"""A small cluster of real processes: two daphne nodes and a Celery worker on one MariaDB and Redis.

Started once for the module (a fresh migrated database from ``live_database``), stopped
at the end whatever happens. Needs ``DATABASE_URL=mysql://…`` and ``REDIS_URL``: skipped
without them, a failure in CI (``IM_REQUIRE_SERVICES=1``). The Celery broker is Redis,
``CELERY_BROKER_URL`` when set, else the database number after ``REDIS_URL``'s; the
queue, channel and cache prefixes are unique to the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect

from tests.conftest import need_service
from tests.support.processes import (
    Proc,
    live_database,
    processes,
    server_env,
    start_asgi_node,
    start_celery_worker,
)

SECRET = "cluster-secret-0123456789"
ADMIN = "imAdmin"
VISIBILITY_TIMEOUT = 4  # seconds: how long a task a killed worker held waits before redelivery


def broker_url(redis_url: str) -> str:
    explicit = os.environ.get("CELERY_BROKER_URL", "")
    if explicit:
        return explicit
    base, _, db = redis_url.rstrip("/").rpartition("/")
    number = int(db) if db.isdigit() else 0
    if not db.isdigit():
        base = redis_url.rstrip("/")
    return f"{base}/{(number + 1) % 16}"


@dataclass
class Cluster:
    nodes: list[Proc]
    worker: Proc
    env: dict[str, str]
    log_dir: Path
    procs: list[Proc]
    admin_token: str = ""
    tokens: dict[str, str] = field(default_factory=dict)

    def restart_worker(self) -> Proc:
        self.worker = start_celery_worker(f"worker{len(self.procs)}", self.env, self.log_dir)
        self.procs.append(self.worker)
        return self.worker

    def kill_worker(self) -> None:
        self.worker.kill(signal.SIGKILL)

    def logs(self) -> str:
        return "\n".join(f"----- {p.name} -----\n{p.log()[-6000:]}" for p in self.procs)

    # ------------------------------------------------------------------ REST
    def http(self, node: int, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        req = urllib.request.Request(  # noqa: S310 - loopback
            self.nodes[node].base_url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - loopback
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def admin(self, node: int = 0) -> str:
        status, body = self.http(node, "POST", "/api/v1/auth/admin-token", {"secret": SECRET, "user_id": ADMIN})
        assert status == 200, body
        self.admin_token = body["token"]
        return self.admin_token

    def register(self, user_ids: list[str]) -> None:
        token = self.admin_token or self.admin()
        for start in range(0, len(user_ids), 1000):
            batch = [{"user_id": u} for u in user_ids[start : start + 1000]]
            status, body = self.http(0, "POST", "/api/v1/users", {"users": batch}, token)
            assert status == 201, body

    def token(self, user_id: str, platform_id: int = 5) -> str:
        status, body = self.http(
            0, "POST", "/api/v1/auth/user-token", {"user_id": user_id, "platform_id": platform_id},
            self.admin_token or self.admin(),
        )
        assert status == 200, body
        return body["token"]


class WsClient:
    """An asyncio websocket client that files every frame: replies by id, pushes in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.frames: list[dict[str, Any]] = []
        self.replies: dict[str, dict[str, Any]] = {}
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.n = 0
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, name: str) -> WsClient:
        self = cls(name)
        self.sock = await asyncio.wait_for(ws_connect(url, open_timeout=10, max_queue=None), 15)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        hello = await self.wait(lambda: any(f.get("op") == "connected" for f in self.frames), 10)
        assert hello
        return self

    async def _read(self) -> None:
        try:
            async for raw in self.sock:
                frame = json.loads(raw)
                if frame.get("id") is not None and "code" in frame and frame.get("op") not in ("kicked",):
                    self.replies[str(frame["id"])] = frame
                else:
                    self.frames.append(frame)
                self.changed.set()
        except Exception:  # noqa: S110 - a closed socket ends the reader
            pass
        finally:
            self.close_code = self.sock.close_code
            self.closed.set()
            self.changed.set()

    async def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            if predicate():
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
        return True

    async def call(self, op: str, data: dict[str, Any], timeout: float = 15) -> dict[str, Any]:
        self.n += 1
        frame_id = f"{self.name}-{self.n}"
        await self.sock.send(json.dumps({"id": frame_id, "op": op, "data": data}))
        ok = await self.wait(lambda: frame_id in self.replies, timeout)
        assert ok, f"{self.name}: no reply to {op} in {timeout}s"
        return self.replies.pop(frame_id)

    def pushes(self, op: str = "push.msg") -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("op") == op]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sock.close(), 5)
        if self._reader is not None:
            self._reader.cancel()


def run(coro: Any, timeout: float = 120) -> Any:
    """Run one async scenario with an overall bound."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    db_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    need_service("MariaDB/MySQL (DATABASE_URL=mysql://...)", db_url.startswith("mysql"))
    need_service("Redis (REDIS_URL)", bool(redis_url))
    tmp = tmp_path_factory.mktemp("cluster")
    run_id = secrets.token_hex(3)
    with live_database(tmp) as live_url, processes() as procs:
        env = server_env(
            {
                "DATABASE_URL": live_url,
                "REDIS_URL": redis_url,
                "CELERY_BROKER_URL": broker_url(redis_url),
                "IM_CELERY_QUEUE": f"imclu-{run_id}",
                "IM_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                "IM_CHANNEL_PREFIX": f"clu{run_id}",
                "IM_CACHE_PREFIX": f"clu{run_id}",
                "IM_SECRET": SECRET,
                "IM_ADMIN_USER_IDS": ADMIN,
                "IM_VAR_DIR": str(tmp / "var"),
                "IM_FANOUT_CHUNK_SIZE": "10",  # many small chunk tasks: a kill lands mid fan-out
                "IM_PRESENCE_TTL_SECONDS": "10",  # a crashed node's users go offline within 10 s
                "IM_RATE_AUTH_TOKEN": "100000/min",
                "IM_SEND_RATE_PER_SECOND": "0",
                "LOG_LEVEL": "WARNING",
            }
        )
        log_dir = tmp / "logs"
        nodes = [start_asgi_node(f"node{i}", env, log_dir) for i in (1, 2)]
        procs.extend(nodes)
        worker = start_celery_worker("worker1", {**env, "LOG_LEVEL": "INFO"}, log_dir)
        procs.append(worker)
        cl = Cluster(nodes=nodes, worker=worker, env={**env, "LOG_LEVEL": "INFO"}, log_dir=log_dir, procs=procs)
        try:
            yield cl
        finally:
            _purge_queue(env)


def _purge_queue(env: dict[str, str]) -> None:
    """Drop this run's queue from the broker (nothing of it may linger in a shared Redis)."""
    import redis

    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(env["CELERY_BROKER_URL"], socket_timeout=5)
        queue = env["IM_CELERY_QUEUE"]
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        client.close()


@pytest.fixture
def on_failure_print_logs(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(cluster.logs())


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
