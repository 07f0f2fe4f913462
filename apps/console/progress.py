"""A dependency-free progress bar for management commands (written to stderr)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``Progress(total, label)``; call ``advance(n)`` and finally ``close()``.

    On a terminal the line redraws in place; otherwise (logs, CI) one line every
    ``interval`` seconds and a final line, so a log stays short.
    """

    def __init__(
        self, total: int | None, label: str, *, stream: TextIO | None = None, enabled: bool = True,
        interval: float = 2.0,
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.done = 0
        self.started = time.monotonic()
        self._last = 0.0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = 0.2 if self._tty else interval

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        if self.total:
            pct = min(100.0, 100.0 * self.done / self.total)
            filled = int(pct / 5)
            bar = "#" * filled + "-" * (20 - filled)
            return f"{self.label} [{bar}] {self.done}/{self.total} {pct:5.1f}% {rate:,.0f}/s"
        return f"{self.label} {self.done} {rate:,.0f}/s"

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._write(self._line())

    def _write(self, line: str) -> None:
        if self._tty:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        self._write(self._line() + " done")
        if self._tty:
            self.stream.write("\n")
        self.stream.flush()
