"""Django's Redis cache on the process's one Redis client (:mod:`apps.common.redisconn`).

Django keeps cache objects per async context (an asgiref ``Local``), and its
``RedisCacheClient`` builds a fresh redis-py pool for every cache object and a fresh
``redis.Redis`` for every operation (~0.3 ms). Under ASGI every websocket connection and
every request therefore opened new Redis connections for its first cache read. Here every
cache operation uses the shared client of the cache's URL. ``get_client`` is the one method
replaced: it is where Django's client picks its connection, and it has no option for a
shared one.
"""

from __future__ import annotations

from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from apps.common.redisconn import redis_client


class SharedRedisCacheClient(RedisCacheClient):
    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        return redis_client(self._servers[0])  # type: ignore[attr-defined]  # set by RedisCacheClient.__init__, absent from the stubs


class SharedPoolRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` on the process-wide client (one server)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedRedisCacheClient
