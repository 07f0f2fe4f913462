"""The generated part of docs/performance.md: REST rows, serving topologies, n/a rows.

Built from result records like the ones a run writes, so no server is needed.
"""

from __future__ import annotations

import pytest

from bench.report import render, result_key
from bench.topology import http_command, http_label, http_spec


def _row(rps: float, p99: float, bare: float, status: dict[str, int] | None = None) -> dict:
    return {"rps": rps, "p50_ms": p99 / 2, "p99_ms": float(p99), "max_ms": float(p99), "requests": int(rps * 10),
            "status": status or {"200": int(rps * 10)}, "errors": {}, "vs_bare_django": round(rps / bare, 3)}


def _rest(http: str, friends: float, since: dict | None = None) -> dict:
    bare = 2000.0
    metrics = {"bare_django": _row(bare, 10, bare), "friends": _row(friends, 40, bare),
               "conversations": _row(900, 80, bare, {"200": 8990, "500": 10}), "me": _row(1500, 20, bare),
               "members": _row(700, 30, bare), "mixed": _row(1100, 35, bare),
               "since_none": since or {"na": "n/a (no since_version on this build)"},
               "since_few": {"na": "n/a (no since_version on this build)"}}
    return {"scenario": "rest", "server": "uvicorn", "mode": "production", "nodes": 1, "http": http,
            "loadavg_before": 1.5, "loadavg_after": 2.0, "metrics": metrics,
            "meta": {"started": "2026-12-03T06:00:00+00:00", "cpu": "cpu", "cores": 2, "memory_mib": 1024,
                     "kernel": "6", "versions": {"Django": "5.2"}}}


def test_separate_http_servers_get_their_own_result_key_and_the_default_keeps_the_old_one():
    same, split = _rest("same", 1200), _rest("uvicorn:3", 1200)
    assert result_key(same) == "rest|uvicorn|production|1"
    assert result_key({**same, "http": None}) == "rest|uvicorn|production|1"  # records from before --http
    assert result_key(split) == "rest|uvicorn|production|1|uvicorn:3"


def test_rest_table_shows_each_row_against_the_bare_django_view_and_the_targets():
    latest = {"results": {result_key(r): r for r in (
        _rest("same", 1200), _rest("uvicorn:3", 800, _row(2500, 5, 2000.0)))}}
    text = render(latest)
    lines = text.splitlines()
    same_friends = next(x for x in lines if x.startswith("| uvicorn production | 1.5 → 2.0 | `GET /friends?limit=50`"))
    assert "| 1,200 | 20.0 | 40.0 | 0 | 0.60 | ✅ |" in same_friends
    split_friends = next(x for x in lines if x.startswith("| uvicorn production + HTTP uvicorn:3 |")
                         and "`GET /friends?limit=50`" in x)
    assert "❌ req/s −20 %" in split_friends
    convs = next(x for x in lines if x.startswith("| uvicorn production |") and "`GET /conversations`" in x)
    assert "| 10 |" in convs and "p99 +60 %" in convs and "errors" in convs  # 10 HTTP 500s
    na = [x for x in lines if x.startswith("| uvicorn production |") and "since_version" in x]
    assert na and all("n/a (no since_version on this build)" in x for x in na)
    since = next(x for x in lines if x.startswith("| uvicorn production + HTTP uvicorn:3 |")
                 and "nothing changed" in x)
    assert "| 2,500 |" in since and "✅" in since
    # the serving comparison has one line per topology; a REST-only topology gets no column in the main table
    assert any(x.startswith("| uvicorn production + HTTP uvicorn:3 | 1.5 → 2.0 | 2,000 (10.0) | 800 (40.0)")
               for x in lines)
    header = next(x for x in lines if x.startswith("| Scenario | Target |"))
    assert "HTTP uvicorn:3" not in header


@pytest.mark.parametrize(("spec", "normal"), [
    ("same", "same"), ("uvicorn", "uvicorn:2"), ("uvicorn:3", "uvicorn:3"), ("gunicorn-uvicorn:4", "gunicorn-uvicorn:4"),
    ("gunicorn-gthread:3", "gunicorn-gthread:3x8"), ("granian-wsgi:2x4", "granian-wsgi:2x4"), ("granian:3", "granian:3"),
])
def test_http_server_options_are_normalised(spec, normal):
    assert http_spec(spec) == normal


@pytest.mark.parametrize("spec", ["nginx:2", "uvicorn:0", "uvicorn:x", "gunicorn-gthread:2xq"])
def test_unknown_http_servers_and_bad_sizes_are_refused(spec):
    with pytest.raises(ValueError):
        http_spec(spec)


def test_separate_http_server_commands_bind_loopback_with_the_worker_count():
    argv = http_command("uvicorn:3", 8100)
    assert argv[1:4] == ["-m", "uvicorn", "imserver.asgi:application"]
    assert argv[argv.index("--workers") + 1] == "3" and argv[argv.index("--port") + 1] == "8100"
    argv = http_command("gunicorn-gthread:3x8", 8100)
    assert "imserver.wsgi:application" in argv and argv[argv.index("--threads") + 1] == "8"
    assert http_label("uvicorn", "production", 1, "uvicorn:3") == "uvicorn production + HTTP uvicorn:3"
