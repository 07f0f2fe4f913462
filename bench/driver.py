"""The orchestrator's handle on load-generator processes and server resource readings."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT, dumps, loads, proc_cpu_seconds, proc_rss_bytes


class LoadProc:
    """One ``bench.loadgen`` process; commands go in on stdin, answers come back on stdout."""

    def __init__(self, idx: int, workdir: Path, max_seconds: int) -> None:
        self.idx = idx
        self.log_path = workdir / f"loadgen{idx}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            ["timeout", "-k", "5", str(max_seconds), PYTHON, "-m", "bench.loadgen", str(idx)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            start_new_session=True,
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(b"")

    def send(self, cmd: str, **args: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((dumps({"cmd": cmd, **args}) + "\n").encode())
        self.proc.stdin.flush()

    def recv(self, timeout: float) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty as exc:
            raise TimeoutError(f"load generator {self.idx} did not answer in {timeout:.0f}s") from exc
        if not line:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"load generator {self.idx} exited:\n{tail}")
        res = loads(line)
        if not res.get("ok"):
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"load generator {self.idx}: {res.get('error')}\n{tail}")
        return res

    def call(self, cmd: str, timeout: float = 300, **args: Any) -> dict[str, Any]:
        self.send(cmd, **args)
        return self.recv(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        self._log.close()


class LoadFleet:
    """Several load generators used together (each gets its share of the clients)."""

    def __init__(self, n: int, workdir: Path, max_seconds: int) -> None:
        self.procs = [LoadProc(i, workdir, max_seconds) for i in range(n)]

    def __len__(self) -> int:
        return len(self.procs)

    def all(self, cmd: str, per_proc: list[dict[str, Any]] | None = None, timeout: float = 300,
            **args: Any) -> list[dict[str, Any]]:
        for i, p in enumerate(self.procs):
            p.send(cmd, **{**args, **((per_proc or [{}] * len(self.procs))[i])})
        return [p.recv(timeout) for p in self.procs]

    def cpu_seconds(self) -> float:
        from bench.common import proc_tree

        return sum(proc_cpu_seconds(pid) for p in self.procs for pid in proc_tree(p.proc.pid))

    def stop(self) -> None:
        for p in self.procs:
            p.stop()

    def __enter__(self) -> LoadFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CpuMeter:
    """CPU share of a set of processes between start() and stop()."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids

    def _read(self) -> dict[str, float]:
        return {name: sum(proc_cpu_seconds(p) for p in pids) for name, pids in self.pids.items()}

    def start(self) -> CpuMeter:
        self.t0 = time.monotonic()
        self.c0 = self._read()
        return self

    def stop(self) -> dict[str, float]:
        secs = time.monotonic() - self.t0
        c1 = self._read()
        return {name: round(100 * (c1[name] - self.c0.get(name, 0.0)) / secs, 1) for name in c1}


def rss(pids: list[int]) -> int:
    return sum(proc_rss_bytes(p) for p in pids)
