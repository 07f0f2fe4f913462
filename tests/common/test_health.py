"""Health probes: liveness without I/O, readiness of the database and Redis, beat's heartbeat."""

from __future__ import annotations

import time

import pytest

from apps.common import health
from apps.common.deployment import check_beat
from apps.common.tasks import beat_heartbeat
from tests.support.processes import free_port, processes, server_env, start_asgi_node


def test_liveness_answers_without_touching_the_database(client):
    # no django_db mark: any database access here would raise
    resp = client.get("/healthz/live")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


def test_the_original_healthz_still_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_is_ok_when_the_database_answers_and_no_redis_is_configured(client, settings):
    settings.REDIS_URL = ""
    resp = client.get("/healthz/ready")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "checks": {"database": "ok", "redis": "not configured"}}


@pytest.mark.django_db
def test_readiness_fails_with_503_and_says_why_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    started = time.monotonic()
    resp = client.get("/healthz/ready")
    assert time.monotonic() - started < 5  # bounded by the probe's timeout
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("ConnectionError")


@pytest.mark.django_db
def test_readiness_with_a_real_redis(client, settings, redis_url):
    settings.REDIS_URL = redis_url
    resp = client.get("/healthz/ready")
    assert resp.status_code == 200 and resp.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_health_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/api/v1/users/me").status_code == 301  # everything else is
    for path in ("/healthz", "/healthz/live", "/healthz/ready"):
        assert client.get(path).status_code == 200, path


@pytest.mark.slow
def test_a_node_whose_database_is_unreachable_is_live_but_not_ready(tmp_path):
    env = server_env(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/db.sqlite3",  # cannot be opened
            "IM_VAR_DIR": str(tmp_path / "var"),
        }
    )
    env.pop("REDIS_URL", None)
    with processes() as procs:
        node = start_asgi_node("unready", env, tmp_path / "logs")
        procs.append(node)
        import urllib.error
        import urllib.request

        with urllib.request.urlopen(node.base_url + "/healthz/live", timeout=10) as resp:  # noqa: S310 - loopback
            assert resp.status == 200
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(node.base_url + "/healthz/ready", timeout=10)  # noqa: S310 - loopback
        assert err.value.code == 503
        import json

        body = json.loads(err.value.read())
        assert body["status"] == "unavailable" and body["checks"]["database"].startswith("OperationalError"), body


def test_the_heartbeat_task_records_when_it_ran_and_check_beat_reads_it(settings):
    settings.IM_BEAT_HEARTBEAT_SECONDS = 30
    beat_heartbeat.delay()  # eager here: runs in-process like a worker would
    age = health.beat_heartbeat_age()
    assert age is not None and age < 5
    assert check_beat(worker_ok=True).status == "ok"


def test_check_beat_fails_on_a_stale_or_missing_heartbeat(settings):
    from django.core.cache import cache

    settings.IM_BEAT_HEARTBEAT_SECONDS = 10
    cache.delete(health.BEAT_HEARTBEAT_KEY)
    missing = check_beat(worker_ok=True)
    assert missing.failed and "no heartbeat" in missing.detail
    health.beat_heartbeat_record(now=time.time() - 120)
    stale = check_beat(worker_ok=False)
    assert stale.failed and "120s ago" in stale.detail and "beat or every worker" in stale.detail
