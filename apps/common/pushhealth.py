"""Push health of this server process: counters, push lag, backpressure on sends.

Pushes are doorbells (the log is the mailbox), but a doorbell that is not rung leaves a
user without a message until something makes the client catch up. So this process
counts every push it could not deliver, and slows its own sends down while its pushes
lag, instead of letting the backlog grow until Redis drops it:

- **Counters** (per process, read by the operator dashboard and tests):
  ``pushes_published``, ``pushes_publish_failed`` (a publish to the channel layer
  raised; logged), ``subscription_losses`` (this process's pub/sub connection to Redis
  was closed under it: every push Redis held for it then is dropped, see below),
  ``resyncs_sent`` (``push.resync`` frames sent to local connections after such a
  loss), ``backpressure_waits`` / ``backpressure_wait_ms`` (send batches held back).
- **Push lag**: every 1:1 push event carries its publish time (``"t"``, ms); the channel
  layer (:mod:`apps.common.layer`) samples ``now - t`` as it reads this process's
  subscription. The lag covers Redis' output buffer for this subscriber, the kernel
  buffers and the wait for this event loop, not a slow client's own queue (one slow
  reader must not slow the whole node down).
- **Backpressure**: while the lag observed in the last second is above
  ``IM_PUSH_LAG_LIMIT_MS``, the send batcher waits (at most ``IM_PUSH_BACKPRESSURE_MAX_MS``
  per batch) before storing the next batch, so acks slow down and clients that wait for
  acks send slower. Why: Redis closes a pub/sub subscriber whose output buffer passes
  ``client-output-buffer-limit pubsub`` (32 MB hard, or 8 MB for 60 s by default), and
  whatever it held for that subscriber is gone. A server that reads its subscription
  late because its CPU is saturated must shed load at the door, not in Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

from django.conf import settings

log = logging.getLogger(__name__)

_counts: Counter[str] = Counter()
_lag = {"ms": 0.0, "at": 0.0, "max_ms": 0.0}
_resync_listeners: list[Callable[[], None]] = []

LAG_WINDOW_SECONDS = 1.0


def count(name: str, n: int = 1) -> None:
    _counts[name] += n


def counters() -> dict[str, float]:
    """This process's push counters and its last push lag (ms)."""
    out: dict[str, float] = {
        name: _counts[name]
        for name in ("pushes_published", "pushes_publish_failed", "subscription_losses", "resyncs_sent",
                     "backpressure_waits", "backpressure_wait_ms")
    }
    out["push_lag_ms"] = round(current_lag_ms(), 1)
    out["push_lag_max_ms"] = round(_lag["max_ms"], 1)
    return out


def observe_lag(sent_ms: object) -> None:
    """Note the lag of one push (``sent_ms`` is the event's publish time, ms since the epoch)."""
    if not isinstance(sent_ms, int | float):
        return
    lag = max(0.0, time.time() * 1000 - float(sent_ms))
    _lag["ms"], _lag["at"] = lag, time.monotonic()
    _lag["max_ms"] = max(_lag["max_ms"], lag)


def current_lag_ms() -> float:
    """The last observed push lag, or 0 when none was seen within the last second."""
    if time.monotonic() - _lag["at"] > LAG_WINDOW_SECONDS:
        return 0.0
    return _lag["ms"]


async def wait_for_pushes() -> float:
    """Hold a send batch back while pushes lag (backpressure); returns the ms waited."""
    limit = float(settings.IM_PUSH_LAG_LIMIT_MS)
    if limit <= 0 or current_lag_ms() <= limit:
        return 0.0
    started = time.monotonic()
    budget = float(settings.IM_PUSH_BACKPRESSURE_MAX_MS) / 1000.0
    while current_lag_ms() > limit and time.monotonic() - started < budget:
        await asyncio.sleep(0.01)
    waited = (time.monotonic() - started) * 1000
    count("backpressure_waits")
    count("backpressure_wait_ms", int(waited))
    return waited


def on_subscription_lost(listener: Callable[[], None]) -> None:
    """Call ``listener`` (on the event loop) when the pub/sub subscription was lost and is back."""
    if listener not in _resync_listeners:
        _resync_listeners.append(listener)


def subscription_restored() -> None:
    """The channel layer lost its subscription and has it back: pushes published meanwhile are gone."""
    count("subscription_losses")
    log.warning(
        "pub/sub subscription to Redis was lost and is back: pushes published meanwhile were dropped; "
        "telling this node's connections to catch up (losses so far: %d)", _counts["subscription_losses"],
    )
    for listener in _resync_listeners:
        try:
            listener()
        except Exception:
            log.exception("resync listener failed")
