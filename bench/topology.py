"""Start and stop the server topology a scenario runs against.

- ``relay``: the baseline, ``bench.relay`` (no Django, no storage), one process.
- ``embedded``: one ASGI process (daphne or uvicorn) on SQLite in a temporary directory,
  in-memory channel layer, eager Celery.
- ``production``: N ASGI nodes (daphne or uvicorn) + MariaDB (database ``im_bench``) +
  Redis (db 7, prefixes ``imbench``) + one Celery worker; clients are spread over the
  nodes round-robin, so most 1:1 pairs cross nodes through Redis.

Where HTTP is served (``http``, production only; see :data:`HTTP_SERVERS`): ``same``
(default) on the ASGI nodes with the websockets; or a separate HTTP server with several
worker processes on a port of its own, the load generator's REST requests going there
while websockets stay on the nodes (the gateway), as nginx would route ``/api/`` and
``/ws/``:

- ``uvicorn:N``: ``uvicorn --workers N`` on the same ASGI application;
- ``gunicorn-uvicorn:N``: gunicorn with N uvicorn workers (``uvicorn.workers.UvicornWorker``);
- ``gunicorn-gthread:NxT``: gunicorn's threaded sync workers on ``imserver.wsgi`` (a WSGI
  pool: N processes of T threads);
- ``granian:N`` / ``granian-wsgi:NxT``: granian (Rust HTTP front, Python workers) on the
  ASGI or WSGI application.

Every process is started under ``timeout`` in its own session, so it ends on its own
even if the orchestrator dies, and :meth:`Topology.stop` ends exactly those processes.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT, free_port, loads, proc_children, proc_tree, raise_nofile

BENCH_DB = os.environ.get("IM_BENCH_DB", "im_bench")
BENCH_REDIS = os.environ.get("IM_BENCH_REDIS", "redis://127.0.0.1:6379/7")
BENCH_MYSQL = os.environ.get("IM_BENCH_MYSQL", "mysql://root@127.0.0.1:3306")
BENCH_SECRET = "bench-secret-not-for-production"  # noqa: S105 - loopback-only benchmark server


HTTP_SERVERS = ("same", "uvicorn", "gunicorn-uvicorn", "gunicorn-gthread", "granian", "granian-wsgi")


def http_spec(spec: str) -> str:
    """Check and normalise an ``http`` option: ``same``, ``uvicorn:3``, ``gunicorn-gthread:3x8`` …"""
    kind, _, size = spec.partition(":")
    if kind not in HTTP_SERVERS:
        raise ValueError(f"unknown HTTP server {kind!r}; choose from {', '.join(HTTP_SERVERS)}")
    if kind == "same":
        return "same"
    workers, _, threads = (size or "2").partition("x")
    if not workers.isdigit() or int(workers) < 1 or (threads and not threads.isdigit()):
        raise ValueError(f"bad size in {spec!r}: workers[xthreads], e.g. uvicorn:3 or gunicorn-gthread:3x8")
    if kind in ("gunicorn-gthread", "granian-wsgi"):
        return f"{kind}:{int(workers)}x{int(threads or 8)}"
    return f"{kind}:{int(workers)}"


def http_label(server: str, mode: str, nodes: int, http: str = "same") -> str:
    label = f"{server} {mode}" + (f" ×{nodes}" if nodes > 1 else "")
    return label if http in ("same", "") else f"{label} + HTTP {http}"


def http_command(spec: str, port: int) -> list[str]:
    """The command line of a separate HTTP server (every one binds 127.0.0.1:``port``)."""
    kind, _, size = spec.partition(":")
    workers, _, threads = size.partition("x")
    if kind == "uvicorn":
        return [PYTHON, "-m", "uvicorn", "imserver.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                "--workers", workers, "--lifespan", "off", "--log-level", "warning", "--no-access-log",
                "--backlog", "4096"]
    if kind == "gunicorn-uvicorn":
        return [PYTHON, "-m", "gunicorn", "imserver.asgi:application", "-k", "uvicorn.workers.UvicornWorker",
                "-w", workers, "-b", f"127.0.0.1:{port}", "--backlog", "4096", "--log-level", "warning"]
    if kind == "gunicorn-gthread":
        return [PYTHON, "-m", "gunicorn", "imserver.wsgi:application", "-k", "gthread", "-w", workers,
                "--threads", threads, "-b", f"127.0.0.1:{port}", "--backlog", "4096", "--keep-alive", "75",
                "--log-level", "warning"]
    if kind in ("granian", "granian-wsgi"):
        iface = ["--interface", "asginl", "--no-ws", "imserver.asgi:application"] if kind == "granian" else [
            "--interface", "wsgi", "--blocking-threads", threads, "imserver.wsgi:application"]
        return [PYTHON, "-m", "granian", *iface, "--host", "127.0.0.1", "--port", str(port), "--workers", workers,
                "--backlog", "4096", "--log-level", "warning", "--no-access-log"]
    raise ValueError(spec)


class Topology:
    def __init__(self, *, server: str, mode: str, nodes: int = 1, max_seconds: int = 1800,
                 celery: bool | None = None, http: str = "same") -> None:
        assert server in ("relay", "daphne", "uvicorn"), server
        assert mode in ("embedded", "production"), mode
        self.server = server
        self.mode = "baseline" if server == "relay" else mode
        self.nodes = 1 if (server == "relay" or mode == "embedded") else max(1, nodes)
        self.http = "same" if self.mode != "production" else http_spec(http)
        self.http_only_port = 0
        self.max_seconds = max_seconds
        self.celery = (mode == "production") if celery is None else celery
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.ports: list[int] = []
        self.http_port = 0
        self._provisioner: subprocess.Popen[bytes] | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix="imbench-"))
        self.env = self._env()

    # ------------------------------------------------------------------ env
    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
        env.update({
            "DJANGO_SETTINGS_MODULE": "imserver.settings",
            "PYTHONPATH": str(ROOT),
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "DJANGO_SECRET_KEY": "bench-" + "k" * 50,
            "IM_SECRET": BENCH_SECRET,
            "IM_RATE_AUTH_TOKEN": "100000/min",
            "LOG_LEVEL": "WARNING",
            "IM_VAR_DIR": str(self.workdir / "var"),
            "STATIC_ROOT": str(self.workdir / "static"),
            "PYTHONUNBUFFERED": "1",
        })
        # the per-user send limit stays on (its cost is part of every send) but far above the load
        env["IM_SEND_RATE_PER_SECOND"] = "100000"
        env["IM_SEND_RATE_BURST"] = "100000"
        if self.mode == "production":
            env.update({
                "DATABASE_URL": f"{BENCH_MYSQL}/{BENCH_DB}",
                "REDIS_URL": BENCH_REDIS,
                "CELERY_BROKER_URL": BENCH_REDIS,
                "IM_CHANNEL_PREFIX": "imbench",
                "IM_CACHE_PREFIX": "imbench",
            })
        return env

    # ---------------------------------------------------------------- start
    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            ["timeout", "-k", "5", str(self.max_seconds), *cmd],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append((name, proc))
        return proc

    def _manage(self, *args: str, timeout: float = 600) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL)

    def _prepare_db(self) -> None:
        if self.mode == "production":
            sql = (f"DROP DATABASE IF EXISTS `{BENCH_DB}`; "
                   f"CREATE DATABASE `{BENCH_DB}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;")
            host = BENCH_MYSQL.split("@")[-1].split(":")[0]
            subprocess.run(["mariadb", "-h", host, "-uroot", "-e", sql], check=True, timeout=60)
            db = BENCH_REDIS.rsplit("/", 1)[-1]
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "-n", db, "FLUSHDB"], check=True, timeout=30,
                           stdout=subprocess.DEVNULL)
        self._manage("migrate", "--noinput", "-v", "0")

    def start(self) -> None:
        raise_nofile()
        if self.server == "relay":
            port, self.http_port = free_port(), free_port()
            self.ports = [port]
            self._spawn("relay", [PYTHON, "-m", "bench.relay", "--port", str(port), "--http-port", str(self.http_port)])
            self._wait_tcp(port)
            return
        self._prepare_db()
        for n in range(self.nodes):
            port = free_port()
            self.ports.append(port)
            if self.server == "daphne":
                cmd = [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0",
                       "imserver.asgi:application"]
            else:
                cmd = [PYTHON, "-m", "uvicorn", "imserver.asgi:application", "--host", "127.0.0.1",
                       "--port", str(port), "--lifespan", "off", "--log-level", "warning", "--no-access-log",
                       "--ws-max-size", str(2**24), "--backlog", "4096"]
            self._spawn(f"{self.server}{n}", cmd)
        if self.celery:
            # default concurrency: one worker process per core, as `celery worker` does by default
            self._spawn("celery", [PYTHON, "-m", "celery", "-A", "imserver", "worker",
                                   "--loglevel", "WARNING", "--without-gossip", "--without-mingle"])
        self.http_port = self.ports[0]
        if self.http != "same":
            self.http_only_port = free_port()
            self._spawn("http", http_command(self.http, self.http_only_port))
            self.http_port = self.http_only_port
        for port in self.ports:
            self._wait_http(port)
        if self.http_only_port:
            self._wait_http(self.http_only_port)

    @property
    def http_ports(self) -> list[int]:
        """Where REST is served: every node, or the separate HTTP server (the relay has a port
        of its own for HTTP)."""
        if self.server == "relay" or self.http_only_port:
            return [self.http_port]
        return list(self.ports)

    @property
    def label(self) -> str:
        """How results name this topology (``uvicorn production ×2``, ``… + HTTP uvicorn:3``)."""
        return http_label(self.server, self.mode, self.nodes, self.http)

    def _check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                tail = (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def _wait_tcp(self, port: int, timeout: float = 60) -> None:
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            self._check_alive()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"port {port} did not open")

    def _wait_http(self, port: int, timeout: float = 90) -> None:
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            self._check_alive()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server on {port} did not answer /healthz")

    # ------------------------------------------------------------ accessors
    @property
    def ws_urls(self) -> list[str]:
        path = "/" if self.server == "relay" else "/ws/"
        return [f"ws://127.0.0.1:{p}{path}" for p in self.ports]

    def server_pids(self) -> list[int]:
        """PIDs of the ASGI server processes (not their ``timeout`` wrappers, not Celery, not
        the separate HTTP server: :meth:`http_pids`)."""
        out = []
        for name, proc in self.procs:
            if name in ("celery", "provision", "http"):
                continue
            kids = proc_children(proc.pid)
            out.append(kids[0] if kids else proc.pid)
        return out

    def http_pids(self) -> list[int]:
        """The separate HTTP server's processes (its master and every worker); [] for ``same``."""
        return [pid for name, proc in self.procs if name == "http" for pid in proc_tree(proc.pid)[1:]]

    def profile_targets(self) -> dict[str, list[int]]:
        """Python processes worth sampling: the ASGI servers and the Celery worker's children."""
        out = {"server": self.server_pids()}
        if self.http_only_port:
            out["http"] = self.http_pids()
        for name, proc in self.procs:
            if name == "celery":
                tree = proc_tree(proc.pid)[1:]  # without the timeout wrapper
                out["celery"] = tree[1:] or tree  # the pool's children do the work
        return out

    def all_pids(self) -> dict[str, list[int]]:
        return {name: proc_tree(proc.pid)[1:] for name, proc in self.procs}

    def provision(self, spec: dict[str, Any]) -> dict[str, Any]:
        if self.server == "relay":
            return {"tokens": {u: u for u in spec.get("tokens") or []},
                    "groups": [f"g{i}" for i, _ in enumerate(spec.get("groups") or [])], "seconds": 0}
        from bench.common import dumps

        if self._provisioner is None or self._provisioner.poll() is not None:
            self._provisioner = subprocess.Popen(
                ["timeout", "-k", "5", str(self.max_seconds), PYTHON, "-m", "bench.provision"], cwd=ROOT,
                env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=open(self.workdir / "provision.log", "wb"),  # noqa: SIM115
                start_new_session=True,
            )
            self.procs.append(("provision", self._provisioner))
        assert self._provisioner.stdin is not None and self._provisioner.stdout is not None
        self._provisioner.stdin.write((dumps(spec) + "\n").encode())
        self._provisioner.stdin.flush()
        line = self._provisioner.stdout.readline()
        if not line:
            tail = (self.workdir / "provision.log").read_text(errors="replace")[-3000:]
            raise RuntimeError("provisioning process exited:\n" + tail)
        out = loads(line)
        if not out.get("ok"):
            raise RuntimeError(f"provisioning failed: {out.get('error')}\n{out.get('traceback', '')[-2000:]}")
        return out

    def logs_tail(self, n: int = 2000) -> dict[str, str]:
        return {name: (self.workdir / f"{name}.log").read_text(errors="replace")[-n:] for name, _ in self.procs}

    # ----------------------------------------------------------------- stop
    def stop(self) -> None:
        for _name, proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        t_end = time.monotonic() + 10
        for _name, proc in self.procs:
            try:
                proc.wait(max(0.1, t_end - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        self.procs = []

    def cleanup(self) -> None:
        self.stop()
        if self.mode == "production":
            host = BENCH_MYSQL.split("@")[-1].split(":")[0]
            subprocess.run(["mariadb", "-h", host, "-uroot", "-e", f"DROP DATABASE IF EXISTS `{BENCH_DB}`"],
                           check=False, timeout=60)
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"   logs kept in {self.workdir}", flush=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Topology:
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
