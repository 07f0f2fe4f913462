"""The production topology of deploy/, run for real and used through nginx over TLS.

nginx (from Debian) runs the shipped site configuration, rendered into a temp dir with a
self-signed certificate, in front of two websocket gateway nodes and the HTTP unit (its
worker processes behind one port), a Celery worker and beat, each started with its
systemd unit's own ``ExecStart``, on MariaDB and Redis (Redis also the
broker). Clients connect from 127.0.0.2 so the address nginx saw differs from the one the
nodes see (nginx's, 127.0.0.1). Needs ``DATABASE_URL=mysql://…``, ``REDIS_URL`` and nginx:
skipped without them, a failure under ``IM_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import pytest
from websockets.asyncio.client import connect as ws_connect

from tests.cluster.conftest import WsClient, broker_url, run
from tests.conftest import need_service
from tests.deploy.topology import render_nginx, self_signed_certificate, unit_argv, unit_environment, wait_port
from tests.support.processes import (
    ROOT,
    Proc,
    _start,
    free_port,
    live_database,
    processes,
    server_env,
    wait_http,
)

pytestmark = [pytest.mark.slow, pytest.mark.services]

SECRET = "deploy-secret-0123456789abcdef"
ADMIN = "imAdmin"
CLIENT_ADDRESS = "127.0.0.2"  # clients connect from here; nginx reaches the nodes from 127.0.0.1
FORGED = "203.0.113.9"  # what a client may claim in its own X-Forwarded-For
HEARTBEAT = 1


@dataclass
class Topology:
    https_port: int
    http_port: int
    nodes: list[Proc]
    http: Proc
    worker: Proc
    beat: Proc
    nginx: Proc
    env: dict[str, str]
    db_url: str
    ssl: ssl.SSLContext
    tmp: Path
    procs: list[Proc]
    admin_token: str = ""

    def logs(self) -> str:
        nginx_error = (self.tmp / "logs" / "error.log")
        extra = nginx_error.read_text(errors="replace")[-4000:] if nginx_error.exists() else ""
        return "\n".join(f"----- {p.name} -----\n{p.log()[-5000:]}" for p in self.procs) + f"\n----- nginx error.log\n{extra}"

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        """One HTTPS request through nginx, from CLIENT_ADDRESS."""
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, context=self.ssl, timeout=30, source_address=(CLIENT_ADDRESS, 0)
        )
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            kind = resp.getheader("Content-Type") or ""
            data = json.loads(raw) if raw and "json" in kind else raw
            return resp.status, data, {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def admin(self) -> str:
        if not self.admin_token:
            status, body, _ = self.request("POST", "/api/v1/auth/admin-token", {"secret": SECRET, "user_id": ADMIN})
            assert status == 200, body
            self.admin_token = body["token"]
        return self.admin_token

    def register(self, user_ids: list[str]) -> None:
        status, body, _ = self.request(
            "POST", "/api/v1/users", {"users": [{"user_id": u} for u in user_ids]}, self.admin(),
            headers={"X-Forwarded-For": FORGED},
        )
        assert status == 201, body

    def token(self, user_id: str) -> str:
        status, body, _ = self.request("POST", "/api/v1/auth/user-token", {"user_id": user_id, "platform_id": 5}, self.admin())
        assert status == 200, body
        return body["token"]

    async def open(self, user_id: str) -> WsClient:
        """A websocket over wss:// through nginx (the shipped /ws/ location)."""
        token = await asyncio.to_thread(self.token, user_id)
        client = WsClient(user_id)
        client.sock = await asyncio.wait_for(
            ws_connect(
                f"wss://127.0.0.1:{self.https_port}/ws/?token={token}&platform_id=5",
                ssl=self.ssl, open_timeout=10, max_queue=None, local_addr=(CLIENT_ADDRESS, 0),
            ),
            15,
        )
        client._reader = asyncio.get_running_loop().create_task(client._read())
        assert await client.wait(lambda: any(f.get("op") == "connected" for f in client.frames), 10)
        return client

    def manage(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env or self.env, capture_output=True, text=True, timeout=120
        )


def _start_unit(name: str, unit: str, instance: str, env: dict[str, str], log_dir: Path, port: int | None = None) -> Proc:
    env = {**unit_environment(unit), **env}
    return _start(name, unit_argv(unit, instance, env), env, log_dir, port=port)


def _wait_log(proc: Proc, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in proc.log_path.read_text(errors="replace"):
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.log()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.name}: no {text!r} in {timeout}s:\n{proc.log()}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    db_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    need_service("MariaDB/MySQL (DATABASE_URL=mysql://...)", db_url.startswith("mysql"))
    need_service("Redis (REDIS_URL)", bool(redis_url))
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    need_service("nginx (apt-get install nginx)", bool(nginx))
    tmp = tmp_path_factory.mktemp("topology")
    run_id = secrets.token_hex(3)
    with live_database(tmp) as live_url, processes() as procs:
        env = server_env(
            {
                # /etc/imserver/env of deploy/env.example, with this run's services and names
                "DEBUG": "0",
                "DJANGO_SECRET_KEY": "deploy-test-key-" + "x" * 50,
                "IM_SECRET": SECRET,
                "IM_ADMIN_USER_IDS": ADMIN,
                "IM_BEHIND_TLS_PROXY": "1",
                "SECURE_SSL_REDIRECT": "1",
                "SESSION_COOKIE_SECURE": "1",
                "CSRF_COOKIE_SECURE": "1",
                "DATABASE_URL": live_url,
                "REDIS_URL": redis_url,
                "CELERY_BROKER_URL": broker_url(redis_url),
                "IM_CELERY_QUEUE": f"imdep-{run_id}",
                "IM_CHANNEL_PREFIX": f"dep{run_id}",
                "IM_CACHE_PREFIX": f"dep{run_id}",
                "IM_VAR_DIR": str(tmp / "var"),
                "IM_BEAT_HEARTBEAT_SECONDS": str(HEARTBEAT),
                "IM_FANOUT_CHUNK_SIZE": "2",
                "IM_SEND_RATE_PER_SECOND": "0",
                "IM_RATE_AUTH_TOKEN": "100000/min",
                "IM_WORKER_CONCURRENCY": "1",
                "LOG_LEVEL": "INFO",
            }
        )
        log_dir = tmp / "logs"
        static_root = tmp / "collected"
        collect = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT, env={**env, "STATIC_ROOT": str(static_root)}, capture_output=True, text=True, timeout=120,
        )
        assert collect.returncode == 0, collect.stdout + collect.stderr
        (static_root / "served-by-nginx.txt").write_text("from disk\n")

        nodes = []
        for i in (1, 2):
            port = free_port()
            node = _start_unit(f"node{i}", "imserver@.service", str(port), {**env, "LOG_LEVEL": "WARNING"}, log_dir, port)
            procs.append(node)
            nodes.append(node)
        http_unit_port = free_port()
        http_unit = _start_unit("http", "imserver-http.service", "", {**env, "IM_HTTP_PORT": str(http_unit_port),
                                                                       "LOG_LEVEL": "WARNING"}, log_dir, http_unit_port)
        procs.append(http_unit)
        for node in [*nodes, http_unit]:
            wait_http(node)
        worker = _start_unit("worker", "imserver-worker@.service", "1", env, log_dir)
        procs.append(worker)
        beat = _start_unit("beat", "imserver-beat.service", "", env, log_dir)
        procs.append(beat)

        cert, key = self_signed_certificate(tmp)
        https_port, http_port = free_port(), free_port()
        conf = render_nginx(
            tmp, https_port=https_port, http_port=http_port, node_ports=[n.port for n in nodes if n.port],
            http_ports=[http_unit_port], static_root=static_root, cert=cert, key=key,
        )
        test = subprocess.run([nginx, "-t", "-p", str(tmp), "-e", str(tmp / "logs" / "error.log"), "-c", str(conf)],
                              capture_output=True, text=True, timeout=30)
        assert test.returncode == 0, test.stderr
        proxy = _start("nginx", [nginx, "-p", str(tmp), "-e", str(tmp / "logs" / "error.log"), "-c", str(conf)], env, log_dir)
        procs.append(proxy)
        wait_port(https_port)
        _wait_log(worker, " ready.")
        _wait_log(beat, "beat: Starting")

        context = ssl.create_default_context(cafile=str(cert))
        topo = Topology(
            https_port=https_port, http_port=http_port, nodes=nodes, http=http_unit, worker=worker, beat=beat, nginx=proxy,
            env=env, db_url=live_url, ssl=context, tmp=tmp, procs=procs,
        )
        try:
            yield topo
        finally:
            _purge_queue(env)


def _purge_queue(env: dict[str, str]) -> None:
    import redis

    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(env["CELERY_BROKER_URL"], socket_timeout=5)
        queue = env["IM_CELERY_QUEUE"]
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        client.close()


@pytest.fixture(autouse=True)
def _print_logs_on_failure(topology: Topology, request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(topology.logs())


def _audit_rows(db_url: str, action: str) -> list[tuple[str, str | None]]:
    import MySQLdb

    cfg = dj_database_url.parse(db_url)
    conn = MySQLdb.connect(host=cfg["HOST"] or "127.0.0.1", port=int(cfg["PORT"] or 3306), user=cfg["USER"],
                           passwd=cfg["PASSWORD"] or "", db=cfg["NAME"])
    try:
        cur = conn.cursor()
        cur.execute("SELECT target_id, ip FROM audit_auditlog WHERE action = %s ORDER BY id", (action,))
        return [(str(t), i) for t, i in cur.fetchall()]
    finally:
        conn.close()


def text(cmid: str, body: str, **target: object) -> dict:
    return {"client_msg_id": cmid, "content_type": 101, "content": {"content": body}, **target}


# ---------------------------------------------------------------------------------- tests
def test_nginx_serves_static_files_redirects_plain_http_and_proxies_health(topology: Topology):
    status, body, headers = topology.request("GET", "/static/served-by-nginx.txt")
    assert status == 200 and body == b"from disk\n"  # only nginx's static root has this file
    status, body, headers = topology.request("GET", "/static/admin/css/base.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and "expires" in headers
    status, body, _ = topology.request("GET", "/healthz/ready")
    assert status == 200 and body == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}, body
    status, body, _ = topology.request("GET", "/healthz/live")
    assert (status, body) == (200, {"status": "ok"})

    conn = http.client.HTTPConnection("127.0.0.1", topology.http_port, timeout=10)
    conn.request("GET", "/api/v1/users/me", headers={"Host": "localhost"})
    resp = conn.getresponse()
    assert resp.status == 301 and resp.getheader("Location") == "https://localhost/api/v1/users/me"
    conn.close()


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(x) for x in (task / "children").read_text().split()]
    return out


def test_rest_goes_to_the_http_workers_and_websockets_to_the_gateway_nodes(topology: Topology):
    topology.register(["rio", "sam"])
    for _ in range(4):
        status, body, _ = topology.request("GET", "/api/v1/users/me", token=topology.admin())
        assert status == 200 and body["user_id"] == ADMIN, body

    async def scenario() -> None:
        rio, sam = await topology.open("rio"), await topology.open("sam")
        ack = await rio.call("msg.send", text("split1", "over the gateway", session_type=1, recv_id="sam"))
        assert ack["code"] == 0, ack
        assert await sam.wait(lambda: any(p["data"]["seq"] == ack["data"]["seq"] for p in sam.pushes()), 10)
        await rio.close()
        await sam.close()

    run(scenario(), 30)
    access = (topology.tmp / "logs" / "imserver.access.log").read_text().splitlines()
    api = {line.split("upstream=")[1].split()[0] for line in access if "GET /api/v1/users/me" in line}
    ws = {line.split("upstream=")[1].split()[0] for line in access if "GET /ws/" in line}
    assert api == {f"127.0.0.1:{topology.http.port}"}, api
    assert ws and ws <= {f"127.0.0.1:{n.port}" for n in topology.nodes}, ws
    # the unit runs IM_HTTP_WORKERS granian worker processes behind its one port (its main process forks them)
    workers = [c for c in _children(topology.http.popen.pid)
               if "granian" in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")]
    assert len(workers) == int(unit_environment("imserver-http.service")["IM_HTTP_WORKERS"]) == 2, workers


def test_the_nodes_know_the_request_came_over_tls(topology: Topology):
    # the nodes redirect plain HTTP (SECURE_SSL_REDIRECT): through nginx, X-Forwarded-Proto says https
    direct = http.client.HTTPConnection("127.0.0.1", topology.nodes[0].port, timeout=10)
    direct.request("GET", "/api/v1/users/me")
    assert direct.getresponse().status == 301
    direct.close()
    status, body, _ = topology.request("GET", "/api/v1/users/me", token=topology.admin())
    assert status == 200 and body["user_id"] == ADMIN, body


def test_the_audit_log_records_the_clients_address_not_nginxs(topology: Topology):
    topology.register(["audited"])
    rows = [ip for target, ip in _audit_rows(topology.db_url, "user.register") if target == "audited"]
    # the client connected from 127.0.0.2 and claimed 203.0.113.9; nginx talks to the nodes from 127.0.0.1
    assert rows == [CLIENT_ADDRESS], rows


def test_chat_over_wss_across_both_nodes_with_a_group_fan_out(topology: Topology):
    members = ["ann", "ben", "cal", "dee"]
    topology.register(members)
    status, body, _ = topology.request(
        "POST", "/api/v1/groups",
        {"name": "crew", "group_id": "gcrew", "owner_user_id": "ann", "member_ids": members[1:]}, topology.admin(),
    )
    assert status == 201, body

    async def scenario() -> list[str]:
        clients = [await topology.open(u) for u in members]
        ann, ben = clients[0], clients[1]
        ack = await ann.call("msg.send", text("d1", "hi ben", session_type=1, recv_id="ben"))
        assert ack["code"] == 0, ack
        assert await ben.wait(lambda: any(p["data"]["seq"] == ack["data"]["seq"] for p in ben.pushes()), 10)
        reply = await ben.call("msg.send", text("d2", "hi ann", session_type=1, recv_id="ann"))
        assert reply["code"] == 0, reply
        assert await ann.wait(lambda: any(p["data"]["seq"] == reply["data"]["seq"] for p in ann.pushes()), 10)

        group = await ann.call("msg.send", text("g1", "to the crew", session_type=3, group_id="gcrew"))
        assert group["code"] == 0, group
        for c in clients[1:]:
            got = await c.wait(lambda c=c: any(p["data"]["conversation_id"] == "sg_gcrew" for p in c.pushes()), 15)
            assert got, f"{c.name} missed the group message"
        for c in clients:
            await c.close()
        return [c.name for c in clients]

    run(scenario(), 60)
    assert "messaging.deliver_group" in topology.worker.log()  # the fan-out ran on the worker
    # nginx's access log (the shipped format) shows websockets served by both nodes
    access = (topology.tmp / "logs" / "imserver.access.log").read_text()
    ws_upstreams = {line.split("upstream=")[1].split()[0] for line in access.splitlines() if "GET /ws/" in line}
    assert ws_upstreams == {f"127.0.0.1:{n.port}" for n in topology.nodes}, ws_upstreams


def test_check_deployment_passes_then_names_a_stopped_beat(topology: Topology):
    deadline = time.monotonic() + 30
    while True:  # the first heartbeat goes out once beat and the worker are up
        proc = topology.manage("check_deployment", "--timeout", "3")
        if proc.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("database", "redis", "broker", "worker", "beat", "check --deploy"):
        assert any(line.startswith("ok") and f" {name} " in line + " " for line in proc.stdout.splitlines()), proc.stdout
    assert "deployment ok" in proc.stdout

    topology.beat.stop()
    time.sleep(max(3 * HEARTBEAT, HEARTBEAT + 5) + 1.5)
    proc = topology.manage("check_deployment", "--timeout", "3")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    beat_line = next(line for line in proc.stdout.splitlines() if " beat " in line)
    assert beat_line.startswith("FAIL") and "beat is not running" in beat_line, proc.stdout
    assert "1 problem(s): beat" in proc.stderr


def test_the_service_keeps_working_through_the_other_node_when_one_stops(topology: Topology):
    topology.register(["eve", "fay", "gus", "hal"])

    async def scenario() -> None:
        clients = [await topology.open(u) for u in ("eve", "fay", "gus", "hal")]
        topology.nodes[0].stop()  # SIGTERM: its sockets close, nginx stops sending it anything
        assert not topology.nodes[0].alive()
        for c in clients:
            await c.wait(lambda c=c: c.closed.is_set(), 3)
        dropped = [c for c in clients if c.closed.is_set()]
        assert 0 < len(dropped) < len(clients), "the sockets were not spread over both nodes"
        # reconnect the dropped ones through the same address: nginx sends them to the live node
        survivors = [c for c in clients if not c.closed.is_set()]
        again = [await topology.open(c.name) for c in dropped]
        sender, receiver = again[0], survivors[0]
        ack = await sender.call("msg.send", text("after", "still here", session_type=1, recv_id=receiver.name))
        assert ack["code"] == 0, ack
        assert await receiver.wait(lambda: any(p["data"]["seq"] == ack["data"]["seq"] for p in receiver.pushes()), 10)
        for c in survivors + again:
            await c.close()

    run(scenario(), 60)
    for _ in range(6):  # REST too: every request answered by the remaining node
        status, body, _ = topology.request("GET", "/api/v1/users/me", token=topology.admin())
        assert status == 200, body
    status, body, _ = topology.request("GET", "/healthz/ready")
    assert status == 200, body
