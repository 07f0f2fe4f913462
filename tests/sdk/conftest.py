"""A real imserver deployment for the SDK tests, shared by the whole session.

Embedded run: one daphne node on a SQLite file. Services run (``DATABASE_URL=mysql://…``
and ``REDIS_URL``): two daphne nodes and a Celery worker on a fresh MariaDB database and
Redis, as in tests/cluster. Either way the SDK reaches the nodes through a small TCP
proxy on its own port, standing in for a load balancer: it sends every new connection
to the first node that accepts it, so when a node dies (or all are restarted on new
ports) clients reconnect to the same address and land on a live node.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster.conftest import _purge_queue, broker_url
from tests.conftest import need_service
from tests.support.processes import Proc, free_port, live_database, server_env, start_asgi_node, start_celery_worker

SECRET = "sdk-secret-0123456789"
ADMIN = "imAdmin"


class TcpProxy:
    """Forwards each accepted connection to the first backend port that accepts it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.backends: list[int] = []
        self.connections: list[tuple[int, asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="sdk-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("proxy did not start")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        for port in list(self.backends):
            try:
                up_r, up_w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
            except (OSError, TimeoutError):
                continue
            entry = (port, client_w, up_w)
            self.connections.append(entry)
            try:
                await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w))
            finally:
                with contextlib.suppress(ValueError):
                    self.connections.remove(entry)
            return
        client_w.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def set_backends(self, ports: list[int]) -> None:
        self._loop.call_soon_threadsafe(lambda: setattr(self, "backends", list(ports)))

    def close(self) -> None:
        def stop() -> None:
            self._server.close()
            for _, a, b in list(self.connections):
                a.close()
                b.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(10)


@dataclass
class Deployment:
    env: dict[str, str]
    log_dir: Path
    node_count: int
    proxy: TcpProxy
    nodes: list[Proc] = field(default_factory=list)
    others: list[Proc] = field(default_factory=list)
    admin_token: str = ""
    started: int = 0

    @property
    def services(self) -> bool:
        return self.node_count > 1

    @property
    def base_url(self) -> str:
        """Where clients connect: the proxy in front of the nodes."""
        return self.proxy.base_url

    def node_url(self, index: int) -> str:
        """One node directly (clients that must stay on a given node)."""
        return self.nodes[index].base_url

    def start_node(self) -> Proc:
        self.started += 1
        node = start_asgi_node(f"node{self.started}", self.env, self.log_dir)
        self.nodes.append(node)
        self._route()
        return node

    def _route(self) -> None:
        self.proxy.set_backends([n.port for n in self.nodes if n.alive() and n.port])

    def ensure(self) -> None:
        """Every node alive, as many as the mode wants (a test may have killed some)."""
        self.nodes = [n for n in self.nodes if n.alive()]
        while len(self.nodes) < self.node_count:
            self.start_node()
        self._route()

    def kill_node(self, index: int, sig: int = signal.SIGKILL) -> None:
        node = self.nodes[index]
        node.kill(sig)
        self._route()

    def stop_all(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes = []
        self._route()

    def logs(self) -> str:
        return "\n".join(f"----- {p.name} -----\n{p.log()[-5000:]}" for p in [*self.nodes, *self.others])

    # ------------------------------------------------------------------ REST as the app backend
    def http(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        resp = httpx.request(method, self.base_url + "/api/v1" + path, json=body, headers=headers, timeout=60)
        return resp.status_code, (resp.json() if resp.content else None)

    def admin(self) -> str:
        if not self.admin_token:
            status, body = self.http("POST", "/auth/admin-token", {"secret": SECRET, "user_id": ADMIN})
            assert status == 200, body
            self.admin_token = body["token"]
        return self.admin_token

    def users(self, *names: str) -> list[str]:
        """Register fresh users (unique to the test) and return their ids."""
        tag = uuid.uuid4().hex[:6]
        ids = [f"{n}{tag}" for n in names]
        status, body = self.http("POST", "/users", {"users": [{"user_id": u, "nickname": n.capitalize()}
                                                              for u, n in zip(ids, names, strict=True)]}, self.admin())
        assert status == 201, body
        return ids

    def token(self, user_id: str, platform_id: int = 5) -> str:
        status, body = self.http("POST", "/auth/user-token", {"user_id": user_id, "platform_id": platform_id},
                                 self.admin())
        assert status == 200, body
        return str(body["token"])


@pytest.fixture(scope="session")
def sdk_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    db_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    services = db_url.startswith("mysql") or bool(redis_url)
    if services:
        need_service("MariaDB/MySQL (DATABASE_URL=mysql://...)", db_url.startswith("mysql"))
        need_service("Redis (REDIS_URL)", bool(redis_url))
    tmp = tmp_path_factory.mktemp("sdk")
    run_id = secrets.token_hex(3)
    extra = {
        "IM_SECRET": SECRET,
        "IM_ADMIN_USER_IDS": ADMIN,
        "IM_VAR_DIR": str(tmp / "var"),
        "IM_CHANNEL_PREFIX": f"sdk{run_id}",
        "IM_CACHE_PREFIX": f"sdk{run_id}",
        "IM_SEND_RATE_PER_SECOND": "0",
        "IM_RATE_AUTH_TOKEN": "100000/min",
        "LOG_LEVEL": "WARNING",
    }
    with live_database(tmp) as live_url:
        extra["DATABASE_URL"] = live_url
        if services:
            extra.update({"REDIS_URL": redis_url, "CELERY_BROKER_URL": broker_url(redis_url),
                          "IM_CELERY_QUEUE": f"imsdk-{run_id}", "IM_CELERY_VISIBILITY_TIMEOUT": "5"})
        env = server_env(extra)
        if not services:
            for key in ("REDIS_URL", "CELERY_BROKER_URL"):
                env.pop(key, None)
        proxy = TcpProxy()
        dep = Deployment(env=env, log_dir=tmp / "logs", node_count=2 if services else 1, proxy=proxy)
        try:
            dep.ensure()
            if services:
                dep.others.append(start_celery_worker("sdk-worker", env, dep.log_dir))
            yield dep
        finally:
            for proc in [*dep.nodes, *dep.others]:
                proc.stop()
            proxy.close()
            if services:
                _purge_queue(env)


@pytest.fixture
def deployment(sdk_deployment: Deployment, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    sdk_deployment.ensure()
    yield sdk_deployment
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(sdk_deployment.logs())


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
