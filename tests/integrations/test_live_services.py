"""Webhooks and metrics on real processes: a uvicorn node and a Celery worker on MariaDB and a
Redis broker, posting to a real receiver; the node's /metrics sums both processes."""

from __future__ import annotations

import os
import secrets
import time
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster.conftest import ADMIN, SECRET, Cluster, _purge_queue, broker_url
from tests.conftest import need_service
from tests.integrations.receiver import Receiver, verify
from tests.support.processes import live_database, processes, server_env, start_asgi_node, start_celery_worker

pytestmark = [pytest.mark.services, pytest.mark.slow]
HOOK_SECRET = "live-hook-secret"


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Receiver]]:
    db_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    need_service("MariaDB/MySQL (DATABASE_URL=mysql://...)", db_url.startswith("mysql"))
    need_service("Redis (REDIS_URL)", bool(redis_url))
    tmp = tmp_path_factory.mktemp("hooked")
    (tmp / "prom").mkdir()
    run_id = secrets.token_hex(3)
    receiver = Receiver(secret=HOOK_SECRET).start()
    try:
        with live_database(tmp) as live_url, processes() as procs:
            env = server_env({
                "DATABASE_URL": live_url,
                "REDIS_URL": redis_url,
                "CELERY_BROKER_URL": broker_url(redis_url),
                "IM_CELERY_QUEUE": f"imhook-{run_id}",
                "IM_CHANNEL_PREFIX": f"hk{run_id}",
                "IM_CACHE_PREFIX": f"hk{run_id}",
                "IM_SECRET": SECRET,
                "IM_ADMIN_USER_IDS": ADMIN,
                "IM_VAR_DIR": str(tmp / "var"),
                "IM_SEND_RATE_PER_SECOND": "0",
                "IM_WEBHOOK_URL": receiver.url,
                "IM_WEBHOOK_SECRET": HOOK_SECRET,
                "IM_WEBHOOK_BEFORE_SEND": "1",
                "IM_WEBHOOK_TIMEOUT_MS": "2000",
                "IM_WEBHOOK_RETRY_BACKOFF_MAX_SECONDS": "2",
                "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prom"),
                "LOG_LEVEL": "WARNING",
            })
            log_dir = tmp / "logs"
            node = start_asgi_node("hook-node", env, log_dir, server="uvicorn")
            procs.append(node)
            worker = start_celery_worker("hook-worker", {**env, "LOG_LEVEL": "INFO"}, log_dir)
            procs.append(worker)
            cl = Cluster(nodes=[node], worker=worker, env=env, log_dir=log_dir, procs=procs)
            cl.register(["alice", "bob"])
            try:
                yield cl, receiver
            finally:
                _purge_queue(env)
    finally:
        receiver.stop()


def _send(cl: Cluster, token: str, text: str, cmid: str) -> tuple[int, dict]:
    return cl.http(0, "POST", "/api/v1/messages", {"client_msg_id": cmid, "session_type": 1, "recv_id": "bob",
                                                   "content_type": 101, "content": {"content": text}}, token)


def test_message_sent_is_retried_by_the_worker_and_push_offline_follows(hooked):
    cl, receiver = hooked
    alice = cl.token("alice")
    attempts = {"n": 0}

    def answer(env):
        if env["event"] == "message.before_send":
            return 200, b'{"action": "allow"}', 0.0
        if env["event"] == "message.sent":
            attempts["n"] += 1
            if attempts["n"] == 1:
                return 503, b"try later", 0.0
        return 200, b"{}", 0.0

    receiver.answer = answer
    status, ack = _send(cl, alice, "hello from the node", "live-1")
    assert status == 200, ack
    sent = receiver.wait_for("message.sent", count=2, timeout=30)
    assert {s.json["event_id"] for s in sent} == {sent[0].json["event_id"]}
    assert all(verify(HOOK_SECRET, s.raw, s.headers["x-im-signature"]) for s in sent)
    assert sent[-1].json["data"]["server_msg_id"] == ack["server_msg_id"]
    (offline,) = receiver.wait_for("push.offline", timeout=30)
    assert offline.json["data"]["user_ids"] == ["bob"]


def test_before_send_rejects_over_the_real_server(hooked):
    cl, receiver = hooked
    alice = cl.token("alice")
    receiver.answer = lambda env: (200, b'{"action": "reject", "msg": "blocked word"}', 0.0)
    status, body = _send(cl, alice, "bad word", "live-2")
    assert (status, body) == (403, {"code": 1407, "msg": "blocked word"})


def test_the_nodes_metrics_include_the_workers_deliveries(hooked):
    cl, receiver = hooked
    deadline = time.monotonic() + 20
    while True:
        with urllib.request.urlopen(cl.nodes[0].base_url + "/metrics", timeout=10) as resp:  # noqa: S310 - loopback
            text = resp.read().decode()
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for f in text_string_to_metric_families(text) for s in f.samples}
        delivered = samples.get(("im_webhook_deliveries_total", (("event", "message.sent"),)), 0)
        failed = samples.get(("im_webhook_failures_total", (("event", "message.sent"), ("reason", "http_503"))), 0)
        if (delivered >= 1 and failed >= 1) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    # message.sent is delivered only by the worker: the node's page shows the worker's counts
    assert delivered >= 1 and failed >= 1, text[-3000:]
    assert samples.get(("im_sends_total", (("result", "ok"),)), 0) >= 1
    assert samples.get(("im_sends_total", (("result", "rejected_by_hook"),)), 0) >= 1
