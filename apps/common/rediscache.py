"""Django's Redis cache with one connection pool per process.

Django keeps cache objects per async context (an asgiref ``Local``), and its
``RedisCacheClient`` builds a fresh redis-py pool for every cache object. Under
ASGI every websocket connection and every request therefore opened new Redis
connections (and paid redis-py's handshake) for its first cache read, and every
cache operation built a new ``redis.Redis`` object (~0.3 ms). The pools and their
clients here are shared process-wide, keyed by server URL and options; redis-py
pools and clients are thread-safe and reset their connections after ``fork``
(Celery's prefork workers).
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_pools: dict[tuple[str, str], Any] = {}
_clients: dict[int, Any] = {}
_lock = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write: bool) -> Any:
        index = self._get_connection_pool_index(write)
        url = self._servers[index]
        key = (url, repr(sorted(self._pool_options.items(), key=lambda kv: kv[0])))
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(url, **self._pool_options)
        return pool

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # a redis.Redis object costs ~0.3 ms to build and is thread-safe over its pool: keep one per pool
        pool = self._get_connection_pool(write)
        client = _clients.get(id(pool))
        if client is None:
            client = _clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedPoolRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with process-wide pools."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient
