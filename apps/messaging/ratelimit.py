"""Per-user send rate limit: a token bucket kept in the cache (Redis in production).

Each user may send ``IM_SEND_RATE_PER_SECOND`` messages per second on average, with
bursts of up to ``IM_SEND_RATE_BURST`` more at once (0 per second turns the limit off).
The bucket is kept as one number per user, its "theoretical arrival time" (GCRA): a
send is allowed while that time is at most ``burst / rate`` seconds ahead of now, and
moves it ``1 / rate`` seconds further. With Redis, one Lua script per sender updates it
atomically across every server process, all senders of a batch in one pipelined round
trip; with another cache (tests, a single process) the same arithmetic runs under a lock.

Applied in :func:`apps.messaging.services.send.messages_send`, the one core of the websocket and
REST sends; trusted sends (notifications, app admins) are not limited.
"""

from __future__ import annotations

import math
import threading
import time

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from apps.common.cachekeys import make_key
from apps.common.redisconn import redis_client

_LOCK = threading.Lock()
_EPSILON = 1e-9

_LUA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local wanted = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local allowed = 0
if tat - now <= tolerance + 1e-9 then
  allowed = math.min(wanted, math.floor((tolerance - (tat - now)) / interval + 1e-9) + 1)
end
tat = tat + allowed * interval
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
return allowed
"""


def rate_key(user_id: str) -> str:
    return make_key("rl:send", user_id)


def _params() -> tuple[float, float] | None:
    rate = float(settings.IM_SEND_RATE_PER_SECOND)
    if rate <= 0:
        return None
    interval = 1.0 / rate
    return interval, max(0, settings.IM_SEND_RATE_BURST) * interval


def _take(tat: float, now: float, interval: float, tolerance: float, wanted: int) -> tuple[int, float]:
    tat = max(tat, now)
    allowed = 0
    if tat - now <= tolerance + _EPSILON:
        allowed = min(wanted, math.floor((tolerance - (tat - now)) / interval + _EPSILON) + 1)
    return allowed, tat + allowed * interval


def _cache_redis() -> redis.Redis | None:
    """The Redis the cache lives in (the buckets are cache keys), or None for another cache."""
    if not isinstance(caches["default"], RedisCache):
        return None
    return redis_client(settings.CACHES["default"]["LOCATION"])


def send_allowance(wanted: dict[str, int]) -> dict[str, int]:
    """How many of ``wanted[user_id]`` new sends each user may make now (the rest are refused)."""
    params = _params()
    if params is None or not wanted:
        return dict(wanted)
    interval, tolerance = params
    now = time.time()
    users = list(wanted)
    client = _cache_redis()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        for user_id in users:
            key = cache.make_key(rate_key(user_id))
            pipe.eval(_LUA, 1, key, f"{now:.6f}", repr(interval), repr(tolerance), wanted[user_id])
        return {u: int(n) for u, n in zip(users, pipe.execute(), strict=True)}
    out: dict[str, int] = {}
    with _LOCK:
        keys = {rate_key(u): u for u in users}
        state = cache.get_many(list(keys))
        updates: dict[str, float] = {}
        for key, user_id in keys.items():
            allowed, tat = _take(float(state.get(key, now)), now, interval, tolerance, wanted[user_id])
            out[user_id] = allowed
            updates[key] = tat
        cache.set_many(updates, timeout=math.ceil(tolerance + interval) + 2)
    return out


def retry_after_ms() -> int:
    params = _params()
    return math.ceil(params[0] * 1000) if params else 0
