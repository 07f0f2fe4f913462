"""Private service instances for fault tests: a Redis and a MariaDB that a test may kill.

The shared services (Redis on 6379, MariaDB on 3306) are never stopped or reconfigured
by tests; a test that needs to take a database or Redis away starts its own instance
on a free loopback port in a temp dir (``redis-server`` and ``mariadbd`` binaries from
the system packages), and kills and restarts that one. Both are stopped when the test
ends, whatever happens.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import free_port


def binaries_available() -> bool:
    return all(shutil.which(b) for b in ("redis-server", "mariadbd", "mariadb-install-db"))


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.1)
    return False


@dataclass
class _Service:
    name: str
    dir: Path
    port: int = field(default_factory=free_port)
    popen: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return self.dir / f"{self.name}.log"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        if self.alive():
            return
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv(), cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        if not self.ready(timeout):
            self.kill()
            raise RuntimeError(f"{self.name} did not start on port {self.port}:\n{self.log()}")

    def ready(self, timeout: float) -> bool:
        return _wait_port(self.port, timeout)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop it the hard way (``kill -9`` by default): no shutdown handler runs."""
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=20)
            if self.popen.poll() is None:
                self.popen.kill()
                self.popen.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""


@dataclass
class PrivateRedis(_Service):
    """``redis-server`` with no persistence: a restart after :meth:`kill` comes back empty."""

    extra: list[str] = field(default_factory=list)  # more redis-server options

    def argv(self) -> list[str]:
        return ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                "--dir", str(self.dir), "--daemonize", "no", *self.extra]

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def dbsize(self) -> int:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=5)
        try:
            return int(client.dbsize())
        finally:
            client.close()


@dataclass
class PrivateMariaDB(_Service):
    """``mariadbd`` on its own datadir, port and socket; root without a password (no grant tables)."""

    def __post_init__(self) -> None:
        self.datadir = self.dir / "data"
        if not self.datadir.exists():
            proc = subprocess.run(
                ["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                 "--auth-root-authentication-method=normal", "--skip-test-db"],
                capture_output=True, text=True, timeout=120,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"mariadb-install-db failed:\n{proc.stdout}\n{proc.stderr}")

    def argv(self) -> list[str]:
        return ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
                f"--socket={self.dir / 'mariadb.sock'}", "--bind-address=127.0.0.1", "--user=root",
                "--skip-grant-tables", "--skip-log-bin", "--skip-name-resolve", f"--pid-file={self.dir / 'mariadb.pid'}",
                "--innodb-buffer-pool-size=64M", "--max-connections=200",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_bin"]

    def ready(self, timeout: float) -> bool:
        if not _wait_port(self.port, timeout):
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # the port opens a little before queries are served
            with contextlib.suppress(Exception):
                self.query("SELECT 1")
                return True
            time.sleep(0.1)
        return False

    def url(self, database: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def query(self, sql: str, params: tuple = (), database: str | None = None) -> list[tuple]:
        import MySQLdb

        kwargs = {"db": database} if database else {}
        conn = MySQLdb.connect(host="127.0.0.1", port=self.port, user="root", passwd="", connect_timeout=5, **kwargs)
        try:
            cur = conn.cursor()
            cur.execute(sql, params)
            rows = list(cur.fetchall())
            conn.commit()
            return rows
        finally:
            conn.close()
