"""The one Redis entry point of a process: a shared client (and connection pool) per URL.

The cache backend (:mod:`apps.common.rediscache`), the send rate limit, presence and the
dashboard's broker figures all take their client here, so a process keeps one pool per
Redis URL instead of one per user of it. redis-py clients and pools are thread-safe and
reset their connections after ``fork`` (Celery's prefork workers). The channel layer
(channels-redis) and Celery's broker keep their own connections: they are libraries with
their own connection handling.
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


def redis_client(url: str | None = None, *, timeout: float = 5.0) -> redis.Redis:
    """The process-wide client for ``url`` (default ``REDIS_URL``); ``timeout`` bounds connect and I/O."""
    return _client(url or settings.REDIS_URL, timeout)


@lru_cache(maxsize=8)
def _client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def redis_configured() -> bool:
    """True when ``REDIS_URL`` is set (the cache, presence and rate limits then live in Redis)."""
    return bool(getattr(settings, "REDIS_URL", ""))
