"""Health of one process and of the services it depends on.

Three endpoints for load balancers and process supervisors:

- ``GET /healthz/live``: liveness. The process's event loop answers; no I/O at all
  (an async view: it does not even wait for a free HTTP thread).
- ``GET /healthz/ready``: readiness. The database answers ``SELECT 1`` and Redis (when
  ``REDIS_URL`` is set) answers ``PING``, each bounded by a short timeout. 200 when both
  do, else 503 with what failed; a load balancer takes the node out while it fails.
- ``GET /healthz``: the original probe, kept as is (same as liveness).

The same probes are used by ``manage.py check_deployment``. Beat's heartbeat
(``common.beat_heartbeat``, run every ``IM_BEAT_HEARTBEAT_SECONDS``) lands in the
shared cache, so any node can tell whether beat and a worker are running.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

READY_TIMEOUT_SECONDS = 1.0
BEAT_HEARTBEAT_KEY = "beat:heartbeat"

_redis_clients: dict[str, Any] = {}
_redis_lock = threading.Lock()


def database_status() -> str | None:
    """None when the default database answers ``SELECT 1``, else what went wrong."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        connection.close()  # a broken persistent connection: the next probe opens a new one
        return f"{type(exc).__name__}: {exc}"
    return None


def _redis_client(url: str) -> Any:
    client = _redis_clients.get(url)
    if client is None:
        import redis

        with _redis_lock:
            client = _redis_clients.get(url)
            if client is None:
                client = _redis_clients[url] = redis.Redis.from_url(
                    url, socket_connect_timeout=READY_TIMEOUT_SECONDS, socket_timeout=READY_TIMEOUT_SECONDS
                )
    return client


def redis_status(url: str | None = None) -> str | None:
    """None when Redis answers ``PING`` within the timeout (or no Redis is configured)."""
    url = settings.REDIS_URL if url is None else url
    if not url:
        return None
    import redis

    try:
        _redis_client(url).ping()
    except (redis.RedisError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def beat_heartbeat_record(*, now: float | None = None) -> float:
    """Store the time of beat's latest heartbeat in the shared cache; returns it."""
    stamp = time.time() if now is None else now
    cache.set(BEAT_HEARTBEAT_KEY, stamp, timeout=max(3600, 10 * settings.IM_BEAT_HEARTBEAT_SECONDS))
    return stamp


def beat_heartbeat_age(*, now: float | None = None) -> float | None:
    """Seconds since beat's latest heartbeat ran on a worker; None when there is none."""
    stamp = cache.get(BEAT_HEARTBEAT_KEY)
    if stamp is None:
        return None
    return max(0.0, (time.time() if now is None else now) - float(stamp))


async def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    problems = {"database": database_status(), "redis": redis_status()}
    checks = {name: problem or "ok" for name, problem in problems.items()}
    if not settings.REDIS_URL:
        checks["redis"] = "not configured"
    failed = any(problems.values())
    return JsonResponse({"status": "unavailable" if failed else "ok", "checks": checks}, status=503 if failed else 200)
