"""The fault bench: two real server nodes and a Celery worker on a PRIVATE MariaDB and Redis.

The faults are done to those private instances (``kill -9``, restart, restart empty),
never to the shared services. Runs with the services suite (``DATABASE_URL=mysql://…``
and ``REDIS_URL`` set, as in ``.ci/run``'s second run); skipped in the embedded run.
Every case records its figures with :func:`record`; they are written to
``var/faults/figures.json`` (and the pytest tmp dir) for ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import SECRET, Cluster
from tests.conftest import need_service
from tests.support.processes import ROOT, _migrate, processes, server_env, start_asgi_node, start_celery_worker
from tests.support.services import PrivateMariaDB, PrivateRedis, binaries_available

DB_NAME = "imfaults"
FIGURES: dict[str, Any] = {}


@dataclass
class FaultBed:
    cluster: Cluster
    mariadb: PrivateMariaDB
    redis: PrivateRedis
    tmp: Path

    @property
    def env(self) -> dict[str, str]:
        return self.cluster.env

    def restart_node(self, index: int) -> None:
        """Replace a node (killed by the test) with a fresh process on a new port."""
        self.cluster.nodes[index].stop()
        node = start_asgi_node(f"node{index + 1}-{len(self.cluster.procs)}", self.env, self.cluster.log_dir)
        self.cluster.procs.append(node)
        self.cluster.nodes[index] = node

    def provision(self, users: list[str]) -> dict[str, str]:
        """Register users and mint one web token each, in bulk (``bench.provision``)."""
        spec = json.dumps({"users": users, "tokens": users}) + "\n"
        proc = subprocess.run(
            [sys.executable, "-m", "bench.provision"], input=spec, cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        answer = json.loads(proc.stdout.strip().splitlines()[-1])
        assert answer["ok"], answer
        return answer["tokens"]

    def stored(self, send_ids: list[str]) -> list[tuple[str, str, str, int]]:
        """``(send_id, client_msg_id, conversation_id, seq)`` of every stored message of these senders."""
        marks = ", ".join(["%s"] * len(send_ids))
        sql = f"SELECT send_id, client_msg_id, conversation_id, seq FROM messaging_message WHERE send_id IN ({marks})"  # noqa: S608 - placeholders only
        return [(r[0], r[1], r[2], int(r[3])) for r in self.mariadb.query(sql, tuple(send_ids), database=DB_NAME)]

    def conversation_seqs(self, conversation_ids: list[str]) -> dict[str, list[int]]:
        marks = ", ".join(["%s"] * len(conversation_ids))
        sql = f"SELECT conversation_id, seq FROM messaging_message WHERE conversation_id IN ({marks}) ORDER BY seq"  # noqa: S608
        out: dict[str, list[int]] = {c: [] for c in conversation_ids}
        for cid, seq in self.mariadb.query(sql, tuple(conversation_ids), database=DB_NAME):
            out[cid].append(int(seq))
        return out


def record(case: str, figures: dict[str, Any]) -> None:
    FIGURES[case] = figures
    out = ROOT / "var" / "faults"
    out.mkdir(parents=True, exist_ok=True)
    (out / "figures.json").write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + "\n")
    print(f"fault figures {case}: {json.dumps(figures, sort_keys=True)}")


@pytest.fixture(scope="module")
def faultbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultBed]:
    need_service("MariaDB/MySQL (DATABASE_URL=mysql://...)", os.environ.get("DATABASE_URL", "").startswith("mysql"))
    need_service("Redis (REDIS_URL)", bool(os.environ.get("REDIS_URL")))
    need_service("redis-server, mariadbd and mariadb-install-db binaries", binaries_available())
    tmp = tmp_path_factory.mktemp("faults")
    run_id = secrets.token_hex(3)
    (tmp / "mariadb").mkdir()
    (tmp / "redis").mkdir()
    mariadb = PrivateMariaDB("mariadb", tmp / "mariadb")
    redis = PrivateRedis("redis", tmp / "redis")
    try:
        mariadb.start()
        redis.start()
        mariadb.query(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        db_url = mariadb.url(DB_NAME)
        started = time.monotonic()
        _migrate(db_url, tmp)
        FIGURES["_setup"] = {"migrate_seconds": round(time.monotonic() - started, 1)}
        env = server_env(
            {
                "DATABASE_URL": db_url,
                "REDIS_URL": redis.url(0),
                "CELERY_BROKER_URL": redis.url(1),
                "IM_CELERY_QUEUE": f"imfault-{run_id}",
                "IM_CELERY_VISIBILITY_TIMEOUT": "4",
                "IM_CHANNEL_PREFIX": f"flt{run_id}",
                "IM_CACHE_PREFIX": f"flt{run_id}",
                "IM_SECRET": SECRET,
                "IM_ADMIN_USER_IDS": "imAdmin",
                "IM_VAR_DIR": str(tmp / "var"),
                "IM_PRESENCE_TTL_SECONDS": "10",
                "IM_SEND_RATE_PER_SECOND": "0",
                "IM_RATE_AUTH_TOKEN": "100000/min",
                "LOG_LEVEL": "WARNING",
            }
        )
        log_dir = tmp / "logs"
        with processes() as procs:
            nodes = [start_asgi_node(f"node{i}", env, log_dir) for i in (1, 2)]
            procs.extend(nodes)
            worker = start_celery_worker("worker1", env, log_dir, concurrency=1)
            procs.append(worker)
            cluster = Cluster(nodes=nodes, worker=worker, env=env, log_dir=log_dir, procs=procs)
            yield FaultBed(cluster=cluster, mariadb=mariadb, redis=redis, tmp=tmp)
    finally:
        redis.kill()
        mariadb.kill()
        (tmp / "figures.json").write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + "\n")


@pytest.fixture
def on_failure_print_logs(faultbed: FaultBed, request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(faultbed.cluster.logs())
        print("----- mariadb -----\n" + faultbed.mariadb.log())
        print("----- redis -----\n" + faultbed.redis.log())


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
