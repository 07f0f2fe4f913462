"""Sampling profiles of the server processes while a scenario runs (py-spy, no code changes).

``python -m bench <scenario> --profile`` records every ASGI server process with
``py-spy record --format raw`` (collapsed stacks; feed them to any flamegraph tool) and
stores the top functions by own and by inclusive samples in the result.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import ROOT


def _py_spy() -> str | None:
    local = ROOT / ".venv" / "bin" / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


class Profiler:
    def __init__(self, targets: dict[str, list[int]], out_dir: Path, label: str, rate: int = 100) -> None:
        self.files: dict[str, list[Path]] = {}
        self.procs: list[subprocess.Popen[bytes]] = []
        exe = _py_spy()
        if exe is None:
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        for kind, pids in targets.items():
            for k, pid in enumerate(pids):
                path = out_dir / f"{label}-{kind}{k}.txt"
                self.files.setdefault(kind, []).append(path)
                self.procs.append(subprocess.Popen(
                    [exe, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate), "--nonblocking",
                     "--output", str(path)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))

    def stop(self) -> dict[str, Any]:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        return {kind: summarize([f for f in files if f.exists()]) for kind, files in self.files.items()}


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" -> "func (module.py)" grouped by function, not line
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(where).parts
    if "site-packages" in parts:
        where = "/".join(parts[parts.index("site-packages") + 1 :])
    elif "main" in parts:
        where = "/".join(parts[parts.index("main") + 1 :])
    else:
        where = "/".join(parts[-2:])
    return f"{name} ({where})"


def summarize(files: list[Path], top: int = 25) -> dict[str, Any]:
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for f in files:
        for line in f.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [_short(x) for x in stack.split(";")]
            if frames:
                own[frames[-1]] += n
            for fr in set(frames):
                incl[fr] += n
    pct = lambda c: round(100 * c / total, 1) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "files": [str(f) for f in files],
        "top_own": [[k, pct(v)] for k, v in own.most_common(top)],
        "top_inclusive": [[k, pct(v)] for k, v in incl.most_common(top)],
    }
