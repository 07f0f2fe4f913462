"""The one push path: channel-layer events to every live connection of some users.

Every push of every app goes through here: messages and notices (pre-serialized
``push.frame`` events, :func:`push_to_users`), and the connection events of accounts
(``session.kick``, ``presence.change``, :func:`send_to_users`). A push is a doorbell: the
channel layer delivers at most once, and a failed ring loses nothing stored (clients
catch up by seq), so nothing here raises.

On channels-redis' pub/sub layer several events for many users are published in one
pipelined round trip per Redis shard (:func:`_publish_pipelined`), instead of one
``group_send`` (a round trip and a serialization) per user. That layer has no public API
for it, so the fast path uses its internals; ``tests/messaging/test_fanout_task.py`` fails
against a real Redis if it is not taken.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from apps.common import pushhealth
from apps.common.metrics import PUSHES
from apps.common.sideeffects import user_group

log = logging.getLogger(__name__)

PUSH_EVENT = "push.frame"

Event = dict[str, Any]


def push_frame(op: str, data: Any) -> str:
    """A server push frame, ``{"op", "data"}``, as text (serialized once for every recipient)."""
    return orjson.dumps({"op": op, "data": data}).decode()


def frame_event(frame: str, skip: str | None, message: Any = None) -> Event:
    """The channel-layer event carrying a frame; ``skip`` is a connection that must not get it.

    ``t`` (publish time, ms) lets the receiving node measure its push lag
    (:mod:`apps.common.pushhealth`); with a stored ``message``, ``m`` (its
    ``<conversation_id>:<seq>``) updates the recipients' latest-message hint."""
    event: Event = {"type": PUSH_EVENT, "frame": frame, "skip": skip, "t": int(time.time() * 1000)}
    if message is not None and message.get("seq") and message.get("conversation_id"):
        event["m"] = f"{message['conversation_id']}:{message['seq']}"
    return event


# ------------------------------------------------------------ latest-message hint
# Per user, the conversation and seq of the newest message pushed to them, kept in Redis
# next to the push (one SET in the same pipeline) and returned by ``ping``: a client that
# does not hold that seq missed a push and catches up (docs/protocol.md). Without Redis
# (the embedded default, one process) it is kept in this dict.
_latest_local: dict[str, str] = {}


def latest_key(user_id: str) -> str:
    return f"{settings.IM_CACHE_PREFIX}:latest:{user_id}"


def _note_latest_local(items: list[tuple[list[str], Event]]) -> None:
    for user_ids, event in items:
        if event.get("m"):
            for user_id in user_ids:
                _latest_local[user_id] = event["m"]


async def alatest_hint(user_id: str) -> dict[str, Any] | None:
    """``{"conversation_id", "seq"}`` of the newest message pushed to ``user_id``, or None."""
    layer = get_channel_layer()
    raw: Any = None
    if isinstance(layer, RedisPubSubChannelLayer):
        try:
            inner = layer._get_layer()
            shard = inner._get_shard(latest_key(user_id))
            async with shard._lock:
                shard._ensure_redis()
                raw = await shard._redis.get(latest_key(user_id))
        except Exception:  # a hint, not an answer: no hint rather than a failed ping
            log.warning("latest-message hint of %s unavailable", user_id, exc_info=True)
            return None
    else:
        raw = _latest_local.get(user_id)
    if isinstance(raw, bytes):
        raw = raw.decode()
    if not raw or ":" not in raw:
        return None
    cid, _, seq = raw.rpartition(":")
    return {"conversation_id": cid, "seq": int(seq)} if seq.isdigit() else None


async def asend_events(items: list[tuple[list[str], Event]]) -> None:
    """Send each event to its users' groups, in order (a batch's pushes share one round trip)."""
    layer = get_channel_layer()
    if layer is None:
        return
    items = [(list(dict.fromkeys(user_ids)), event) for user_ids, event in items]
    PUSHES.labels("user").inc(sum(len(user_ids) for user_ids, _ in items))
    if sum(len(user_ids) for user_ids, _ in items) > 1 and await _publish_pipelined(layer, items):
        return
    _note_latest_local(items)
    for user_ids, event in items:
        for user_id in user_ids:
            try:
                await layer.group_send(user_group(user_id), event)
                pushhealth.count("pushes_published")
            except Exception:  # a failed ring loses nothing stored
                pushhealth.count("pushes_publish_failed")
                log.exception("push to %s failed", user_id)


async def _publish_pipelined(layer: Any, items: list[tuple[list[str], Event]]) -> bool:
    """channels-redis' pub/sub layer: serialize each event once and publish it to every
    user's group, all events in one pipelined round trip per Redis shard, in order.
    Returns False when the layer is another kind or its internals differ (the caller then
    sends one by one; the test of this path fails in that case)."""
    if not isinstance(layer, RedisPubSubChannelLayer):
        return False
    try:
        inner = layer._get_layer()
        by_shard: dict[int, tuple[Any, list[tuple[bool, str, bytes]]]] = {}  # (is a publish, key, value)
        hints: list[tuple[str, str]] = []
        for user_ids, event in items:
            payload = layer.serialize(event)
            for user_id in user_ids:
                channel = inner._get_group_channel_name(user_group(user_id))
                shard = inner._get_shard(channel)
                by_shard.setdefault(id(shard), (shard, []))[1].append((True, channel, payload))
                if event.get("m"):
                    hints.append((user_id, event["m"]))
        ttl = int(settings.IM_LATEST_HINT_TTL_SECONDS)
        for user_id, marker in dict(hints).items():  # the newest per user, in its own shard's pipeline
            shard = inner._get_shard(latest_key(user_id))
            by_shard.setdefault(id(shard), (shard, []))[1].append((False, latest_key(user_id), marker.encode()))
        for shard, commands in by_shard.values():
            async with shard._lock:
                shard._ensure_redis()
                pipe = shard._redis.pipeline(transaction=False)
                for publish, key, value in commands:
                    if publish:
                        pipe.publish(key, value)
                    else:
                        pipe.set(key, value, ex=ttl)
                await pipe.execute()
        pushhealth.count("pushes_published", sum(len(user_ids) for user_ids, _ in items))
    except AttributeError:
        log.warning("channel layer internals differ; pushing one by one", exc_info=True)
        return False
    except Exception:  # a failed ring loses nothing stored, but is counted: clients catch up by seq
        pushhealth.count("pushes_publish_failed", sum(len(user_ids) for user_ids, _ in items))
        log.exception("pipelined push of %d events failed", len(items))
    return True


async def asend_to_users(user_ids: Iterable[str], event: Event) -> None:
    await asend_events([(list(user_ids), event)])


def send_to_users(user_ids: Iterable[str], event: Event) -> None:
    """One channel-layer event to every connection of these users (sync context)."""
    async_to_sync(asend_to_users)(list(user_ids), event)


async def apush_to_users(user_ids: Iterable[str], op: str, data: Any, skip: str | None = None) -> None:
    await asend_to_users(user_ids, frame_event(push_frame(op, data), skip))


def push_to_users(user_ids: Iterable[str], op: str, data: Any, skip: str | None = None) -> None:
    """Push ``{"op", "data"}`` to every connection of these users (sync context: after commit)."""
    send_to_users(user_ids, frame_event(push_frame(op, data), skip))
