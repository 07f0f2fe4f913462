"""The benchmark harness in quick mode: every scenario runs end to end and its accounting holds.

No timing is asserted: the quick sizes prove that the harness starts the topology, drives
real websockets and HTTP, records results and counts loss and duplicates correctly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIOS = {"latency", "throughput", "fanout", "catchup", "idle", "rest"}

pytestmark = pytest.mark.slow


def _bench(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 150):
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--quick", "--no-report", "--results-dir", str(out),
         "--max-seconds", str(timeout - 20)],
        cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout,
        check=False,
    )
    runs = sorted(out.glob("run-*-quick.json"))
    assert len(runs) == 1, proc.stdout + proc.stderr
    return proc, json.loads(runs[0].read_text())


@pytest.mark.timeout(170)
def test_quick_mode_runs_every_scenario_against_baseline_and_server_with_clean_accounting(tmp_path):
    doc = ROOT / "docs" / "performance.md"
    before = doc.read_text() if doc.exists() else None
    proc, run = _bench(tmp_path, "all", "--server", "relay,daphne", "--mode", "embedded")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = run["results"]
    assert {(r["scenario"], r["server"]) for r in results} == {(s, v) for s in SCENARIOS for v in ("relay", "daphne")}
    for r in results:
        assert r["ok"] and not r.get("error"), (r["scenario"], r["server"], r.get("error"), r.get("checks"))
        checks = r["checks"]
        for key in ("lost", "duplicates", "missing", "incomplete"):
            assert checks.get(key, 0) == 0, (r["scenario"], r["server"], checks)
    by = {(r["scenario"], r["server"]): r["metrics"] for r in results}
    for server in ("relay", "daphne"):
        lat = by[("latency", server)]
        assert lat["delivered"] == lat["sent"] > 0 and lat["p50_ms"] is not None
        cat = by[("catchup", server)]
        assert cat["messages"] == 100
        assert by[("idle", server)]["connections"] == 50
        assert all(rd["messages"] > 0 and rd["incomplete"] == 0 for rd in by[("fanout", server)]["rounds"])
        rest = by[("rest", server)]
        for row in ("bare_django", "friends", "conversations", "me", "members", "mixed"):
            assert rest[row]["requests"] > 0 and rest[row]["vs_bare_django"] > 0, (server, row, rest[row])
        assert rest["bare_django"]["path"] == "/healthz"
        # the since-version rows: measured when the list answers carry a version, else said so
        for row in ("since_none", "since_few"):
            assert rest[row].get("na") == "n/a (no since_version on this build)" or rest[row]["requests"] > 0
    assert run["meta"]["versions"]["Django"]
    assert (doc.read_text() if doc.exists() else None) == before  # --no-report leaves the doc alone


@pytest.mark.timeout(90)
def test_accounting_catches_dropped_and_duplicated_deliveries(tmp_path):
    proc, run = _bench(tmp_path, "latency", "--server", "relay", env={"BENCH_RELAY_FAULTS": "drop=7,dup=5"},
                       timeout=80)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (r,) = run["results"]
    assert not r["ok"]
    pushes = r["metrics"]["warmup_sent"] + r["metrics"]["sent"]
    # the relay dropped every 7th push and sent every 5th (not dropped) one twice; the load
    # generator caught the dropped ones up from the relay's log, as a protocol client does
    assert r["checks"]["pushes_missed"] == pushes // 7 > 0
    assert r["checks"]["lost"] == 0
    assert r["checks"]["duplicates"] == pushes // 5 - pushes // 35 > 0
