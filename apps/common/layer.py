"""The channel layer with Redis: channels-redis' pub/sub layer that notices lost subscriptions.

A pub/sub subscriber that Redis disconnects (its output buffer passed
``client-output-buffer-limit pubsub``, Redis restarted, a network blip) loses every
message published to it until it has resubscribed; redis-py reconnects and
resubscribes by itself, so without this the loss is silent. Here the subscription's
connection callback notices every reconnect, and once the subscription
is back :func:`apps.common.pushhealth.subscription_restored` logs it, counts it and
lets this node tell its connections to catch up (``push.resync``). The receive loop
logs a lost connection as one warning line instead of a traceback per second, and
samples the push lag for the send backpressure (:mod:`apps.common.pushhealth`): it is
measured where the subscription is read, so it is the backlog that Redis would drop,
not one slow client's own queue.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close, create_pool
from redis import asyncio as aioredis
from redis.asyncio.client import PubSub

from apps.common import pushhealth

log = logging.getLogger(__name__)

LAG_SAMPLE = 16  # one push in this many is decoded here to measure the lag


class _PubSub(PubSub):
    """redis-py's PubSub, noticing its reconnects: each one means a lost subscription.

    redis-py calls ``on_connect`` only on a reconnect (the first connection is made before
    the callback is registered)."""

    async def on_connect(self, connection: Any) -> None:
        had = bool(self.channels or self.patterns)
        await super().on_connect(connection)  # resubscribes every channel and group
        if had:
            pushhealth.subscription_restored()


class _Shard(RedisSingleShardConnection):
    _lost = False
    _received = 0

    def _receive_message(self, message: Any) -> None:
        """Hand the message to its channels; every ``LAG_SAMPLE``-th one also gives the push lag
        (publish time to here: Redis' buffer for this subscriber, the kernel, this event loop)."""
        if message is not None:
            self._received += 1
            if self._received % LAG_SAMPLE == 1:
                try:
                    pushhealth.observe_lag(self.channel_layer.channel_layer.deserialize(message["data"]).get("t"))
                except Exception:  # a sample, never a reason to drop the message
                    log.debug("push lag sample failed", exc_info=True)
        super()._receive_message(message)

    def _ensure_redis(self) -> None:
        if self._redis is None:
            self._redis = aioredis.Redis(connection_pool=create_pool(self.host))
            self._pubsub = _PubSub(self._redis.connection_pool)

    async def _do_receiving(self) -> None:
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    self._lost = False
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except Exception as exc:
                if not self._lost:
                    log.warning("pub/sub connection to Redis lost (%s: %s); reconnecting", type(exc).__name__, exc)
                self._lost = True
                await asyncio.sleep(0.5)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]


class PushLayer(RedisPubSubChannelLayer):
    """``channels_redis.pubsub.RedisPubSubChannelLayer`` with lost subscriptions counted and announced."""

    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
