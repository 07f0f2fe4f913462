"""Real server processes for tests: ASGI nodes and Celery workers on this machine.

Every process gets its own environment (the test's database, Redis, prefixes), listens
on a free loopback port, is waited for until it answers, and is stopped (and killed if
it must be) when the test ends. Output goes to a log file that a failing test prints.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path
    port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-20_000:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
        if self.alive():
            self.kill(signal.SIGKILL)


def _start(name: str, argv: list[str], env: dict[str, str], log_dir: Path, port: int | None = None) -> Proc:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log_file = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed with it
    popen = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
    )
    log_file.close()
    return Proc(name=name, popen=popen, log_path=log_path, port=port)


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's service settings, passed on to child processes."""
    keep = (
        "PATH", "HOME", "LANG", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "IM_CHANNEL_PREFIX",
        "IM_CACHE_PREFIX", "DJANGO_SECRET_KEY", "IM_VAR_DIR",
    )
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "imserver.settings",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "IM_RATE_AUTH_TOKEN": "100000/min",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def wait_http(proc: Proc, path: str = "/healthz", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.log()}")
        try:
            with urllib.request.urlopen(proc.base_url + path, timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{proc.name} did not answer in {timeout}s:\n{proc.log()}")


def start_asgi_node(name: str, env: dict[str, str], log_dir: Path, server: str = "daphne") -> Proc:
    port = free_port()
    if server == "uvicorn":
        argv = [sys.executable, "-m", "uvicorn", "imserver.asgi:application", "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning"]
    elif server == "granian":  # the HTTP unit's server: WSGI workers, no websockets
        argv = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                "--workers", "1", "--blocking-threads", "2", "--log-level", "warning", "imserver.wsgi:application"]
    else:
        argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "imserver.asgi:application"]
    proc = _start(name, argv, env, log_dir, port=port)
    try:
        wait_http(proc)
    except BaseException:
        proc.stop()  # not handed to the caller: never leave it running
        raise
    return proc


def start_celery_worker(name: str, env: dict[str, str], log_dir: Path, concurrency: int = 2) -> Proc:
    argv = [sys.executable, "-m", "celery", "-A", "imserver", "worker", "-l", "info", "-P", "prefork",
            "-c", str(concurrency), "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    proc = _start(name, argv, env, log_dir)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"{name} exited early:\n{proc.log()}")
            if " ready." in proc.log_path.read_text(errors="replace"):  # the whole log: a busy worker logs a lot
                return proc
            time.sleep(0.3)
        raise RuntimeError(f"{name} not ready in 60s:\n{proc.log()}")
    except BaseException:
        proc.stop()  # not handed to the caller: never leave it running
        raise


@contextlib.contextmanager
def processes() -> Iterator[list[Proc]]:
    """Collects started processes and stops them all at the end, whatever happens."""
    procs: list[Proc] = []
    try:
        yield procs
    finally:
        for proc in procs:
            proc.stop()


@contextlib.contextmanager
def live_database(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for real server processes; dropped afterwards.

    MariaDB when the tests run against it (``DATABASE_URL=mysql://…``), else a SQLite
    file. The pytest-django test database is not shared with child processes.
    """
    import secrets

    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("mysql"):
        import dj_database_url
        import MySQLdb

        cfg = dj_database_url.parse(base)
        name = f"imlive_{os.getpid()}_{secrets.token_hex(3)}"
        conn = MySQLdb.connect(
            host=cfg["HOST"] or "127.0.0.1", port=int(cfg["PORT"] or 3306), user=cfg["USER"], passwd=cfg["PASSWORD"] or ""
        )
        conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        url = base.rsplit("/", 1)[0] + "/" + name
        try:
            _migrate(url, tmp_path)
            yield url
        finally:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
            conn.close()
    else:
        url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
        _migrate(url, tmp_path)
        yield url


def _migrate(url: str, tmp_path: Path) -> None:
    env = server_env({"DATABASE_URL": url, "IM_VAR_DIR": str(tmp_path / "var")})
    proc = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{proc.stdout}\n{proc.stderr}")
