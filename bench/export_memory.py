"""Memory of ``manage.py export_messages`` against the number of rows, plus a round-trip check.

    python bench/export_memory.py                 # 10,000 and 100,000 rows, throw-away SQLite
    python bench/export_memory.py --rows 10000,100000,300000
    DATABASE_URL=mysql://root@127.0.0.1:3306/im_bench python bench/export_memory.py

Fills a fresh database with N history rows, runs the export command as a child process
(JSONL and CSV, to a file), and reads the child's peak resident memory (``ru_maxrss``) from
``wait4``. Constant memory means the peak stays flat as N grows 10x. Then parses each export
back and compares server_msg_id, seq and content with the database, row by row.
Results are printed and written to ``bench/results/export_memory-<database>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"


def _env(var_dir: str, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env["IM_VAR_DIR"] = var_dir
    env["DJANGO_SETTINGS_MODULE"] = "imserver.settings"
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def _run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of one child process."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}")
    return time.monotonic() - started, int(usage.ru_maxrss)


def fill(rows: int) -> None:
    """(child) Replace the history with ``rows`` messages in 50 conversations."""
    import django

    django.setup()
    from apps.messaging.models import Message

    Message.objects.all().delete()
    batch: list[Message] = []
    base = 1_750_000_000_000
    for i in range(1, rows + 1):
        conv, seq = divmod(i - 1, 50)[1], (i - 1) // 50 + 1
        batch.append(Message(
            server_msg_id=f"b{i:012d}", client_msg_id=f"c{i}", conversation_id=f"si_u{conv}_v{conv}", seq=seq,
            send_id=f"u{conv}", recv_id=f"v{conv}", session_type=1, content_type=101,
            content={"content": f"bench message {i} with some text, \"quotes\" and ünïcode", "i": i},
            send_time=base + i,
        ))
        if len(batch) == 5000:
            Message.objects.bulk_create(batch)
            batch = []
    if batch:
        Message.objects.bulk_create(batch)


def verify(path: str, fmt: str) -> int:
    """(child) Compare an export with the database row by row; returns rows checked."""
    import django

    django.setup()
    from apps.console.exporting import iter_rows, read_messages_export
    from apps.messaging.models import Message

    stored = (row for page in iter_rows(Message.objects.all(), ("server_msg_id", "seq", "content"), chunk_size=5000)
              for row in page)
    count = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for parsed, row in zip(read_messages_export(fh, fmt), stored, strict=True):
            if (parsed["server_msg_id"], parsed["seq"], parsed["content"]) != (
                row["server_msg_id"], row["seq"], row["content"]
            ):
                raise SystemExit(f"mismatch at row {count + 1}: {parsed['server_msg_id']} vs {row['server_msg_id']}")
            count += 1
    return count


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_fill":
        sys.path.insert(0, str(ROOT))
        fill(int(sys.argv[2]))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "_verify":
        sys.path.insert(0, str(ROOT))
        print(verify(sys.argv[2], sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="10000,100000", help="comma-separated row counts (default 10000,100000)")
    parser.add_argument("--chunk-size", type=int, default=2000)
    args = parser.parse_args()
    sizes = [int(x) for x in args.rows.split(",")]
    py = sys.executable
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="imexport-") as tmp:
        env = _env(tmp, os.environ.get("DATABASE_URL"))
        subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        for rows in sizes:
            subprocess.run([py, __file__, "_fill", str(rows)], cwd=ROOT, env=env, check=True)
            for fmt in ("jsonl", "csv"):
                out = os.path.join(tmp, f"export.{fmt}")
                seconds, rss = _run_measured(
                    [py, "manage.py", "export_messages", "-o", out, "--format", fmt, "--no-progress",
                     "--chunk-size", str(args.chunk_size)],
                    env,
                )
                checked = int(subprocess.run([py, __file__, "_verify", out, fmt], cwd=ROOT, env=env, check=True,
                                             capture_output=True, text=True).stdout.strip())
                result = {
                    "rows": rows, "format": fmt, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
                    "peak_rss_mib": round(rss / 1024, 1), "file_mib": round(os.path.getsize(out) / 2**20, 1),
                    "round_trip_rows_equal": checked == rows,
                }
                results.append(result)
                print(json.dumps(result), flush=True)
    peaks = {r["rows"]: r["peak_rss_mib"] for r in results if r["format"] == "jsonl"}
    summary = {
        "database": "sqlite" if not os.environ.get("DATABASE_URL") else os.environ["DATABASE_URL"].split(":")[0],
        "chunk_size": args.chunk_size,
        "results": results,
        "peak_growth_mib": round(peaks[max(peaks)] - peaks[min(peaks)], 1),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"export_memory-{summary['database']}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"peak RSS growth from {min(peaks)} to {max(peaks)} rows: {summary['peak_growth_mib']} MiB")
    ok = all(r["round_trip_rows_equal"] for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
