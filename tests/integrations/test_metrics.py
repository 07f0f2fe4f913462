"""GET /metrics: Prometheus text with im_ names, address-restricted, correct across processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.common.metrics import address_allowed
from tests.messaging.conftest import connect

pytestmark = pytest.mark.django_db


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _scrape(client, addr: str = "127.0.0.1") -> dict:
    r = client.get("/metrics", REMOTE_ADDR=addr)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    return _samples(r.content.decode())


def test_metrics_are_served_to_loopback_with_im_names(client):
    r = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert r.status_code == 200
    text = r.content.decode()
    for name, kind in [
        ("im_websocket_connections", "gauge"), ("im_sends_total", "counter"), ("im_send_batch_seconds", "histogram"),
        ("im_fanout_seconds", "histogram"), ("im_pushes_total", "counter"), ("im_webhook_deliveries_total", "counter"),
        ("im_webhook_failures_total", "counter"), ("im_http_requests_total", "counter"),
    ]:
        assert f"# TYPE {name} {kind}" in text, name
    families = {f.name for f in text_string_to_metric_families(text)}
    assert families and all(n.startswith("im_") or n.startswith(("python_", "process_")) for n in families)


def test_other_addresses_get_403(client):
    r = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 403 and r.json()["code"] == 1002


def test_the_allow_list_is_a_cidr_setting(client, settings):
    settings.IM_METRICS_ALLOW = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("192.168.1.5", False), ("", False),
     ("not-an-ip", False), (None, False)],
)
def test_address_allowed(address, allowed):
    assert address_allowed(address, ["127.0.0.0/8", "::1/128"]) is allowed


def test_sends_and_http_statuses_are_counted(client, alice_api, bob, django_capture_on_commit_callbacks):
    before = _scrape(client)
    with django_capture_on_commit_callbacks(execute=True):  # the push runs after the commit
        ok = alice_api.post("/api/v1/messages", {"session_type": 1, "recv_id": "bob", "content_type": 101,
                                                 "content": {"content": "x"}}, format="json")
    bad = alice_api.post("/api/v1/messages", {"session_type": 1, "recv_id": "ghost", "content_type": 101,
                                              "content": {"content": "x"}}, format="json")
    assert (ok.status_code, bad.status_code) == (200, 404)
    after = _scrape(client)

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("im_sends_total", result="ok") == 1
    assert delta("im_sends_total", result="user_not_found") == 1
    assert delta("im_http_requests_total", status="200") >= 2  # the send and the first scrape
    assert delta("im_http_requests_total", status="404") == 1
    assert delta("im_pushes_total", target="user") >= 1


@pytest.mark.django_db(transaction=True)
async def test_open_websockets_are_a_gauge(tokens, client):
    from asgiref.sync import sync_to_async

    def gauge() -> float:
        return _scrape(client)[("im_websocket_connections", ())]

    start = await sync_to_async(gauge)()
    ws = await connect(await sync_to_async(tokens)("alice"))
    assert await sync_to_async(gauge)() == start + 1
    await ws.close()
    assert await sync_to_async(gauge)() == start


_CHILD = """
import django, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
django.setup()
from apps.common import metrics
metrics.SENDS.labels("ok").inc(int(sys.argv[1]))
metrics.WS_CONNECTIONS.inc(int(sys.argv[1]))
if sys.argv[2] == "render":
    sys.stdout.write(metrics.render()[0].decode())
"""


def test_multiprocess_mode_sums_every_process_of_the_node(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "IM_VAR_DIR": str(tmp_path / "var")}
    for n in ("2", "3"):
        subprocess.run([sys.executable, "-c", _CHILD, n, "-"], env=env, check=True, timeout=60)
    out = subprocess.run([sys.executable, "-c", _CHILD, "5", "render"], env=env, check=True, timeout=60,
                         capture_output=True, text=True).stdout
    samples = _samples(out)
    assert samples[("im_sends_total", (("result", "ok"),))] == 10
    # live processes only: the two finished ones are still counted until marked dead,
    # which is what a supervisor does with prometheus_client.multiprocess.mark_process_dead
    assert samples[("im_websocket_connections", ())] >= 5
