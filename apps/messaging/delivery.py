"""Delivery after commit: ring the doorbell of every online connection of the recipients.

The channel layer delivers at most once; durability comes from the stored,
seq-numbered log and the client's catch-up (``seq.newest`` + ``msg.pull``).

Every push is pre-serialized once into the frame text, and sent to the user groups
(:func:`apps.common.sideeffects.user_group`) as ``{"type": "push.frame", "frame": ...,
"skip": <channel name or None>}``; ``skip`` is the sending connection, which already
has the ack. Group messages go through :func:`deliver_group_message`, the one fan-out
function: it hands the pre-serialized frame to the ``messaging.deliver_group`` Celery
task (:mod:`apps.messaging.tasks`), so the sender's ack never waits for the group size.
The task reads the member list and pushes it in chunks of ``IM_FANOUT_CHUNK_SIZE``;
with a broker, every chunk beyond the first is a task of its own, so several workers
share a large group and a worker lost mid-way costs one chunk's redelivery. Without a
broker (the embedded default) the same tasks run eagerly, in-process. A chunk is one
*node push*: a single ``push.many`` event (frame + user ids) to the ``im.nodes`` group,
which every server process joins; each process rings its own connections of those users
(:mod:`apps.messaging.housekeeping`), so a 500-member chunk is one channel-layer message
per node instead of 500.

Pushes are idempotent: a redelivered chunk rings the same members again with the same
seq, and clients drop seqs they already hold.

Channel-layer capacity: with ``REDIS_URL`` the layer is channels-redis' pub/sub layer,
which has no per-channel capacity (a subscriber's inbox is an unbounded in-process
queue), so a large chunk drops nothing; the core ``RedisChannelLayer`` (capacity 100 per
channel by default) is not used. On that layer a chunk, and the one-to-one pushes of a
websocket send batch, are published in one pipelined round trip: measured here (2 cores, local Redis), 500 users 12-16 ms and 2,000 users
70-77 ms, against 140 ms and 510-530 ms for one ``group_send`` per user.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

import orjson
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from apps.common.sideeffects import user_group
from apps.messaging import pushhealth
from apps.messaging.models import SessionType

log = logging.getLogger(__name__)

PUSH_EVENT = "push.frame"
NODES_GROUP = "im.nodes"  # every server process (node) with live connections is in it
NODE_PUSH_EVENT = "push.many"


def push_frame(op: str, data: Any) -> str:
    return orjson.dumps({"op": op, "data": data}).decode()


def _event(frame: str, skip: str | None, message: dict[str, Any] | None = None) -> dict[str, Any]:
    """A push event; ``t`` (publish time, ms) lets the receiving node measure its push lag, and
    ``m`` (a message's ``<conversation_id>:<seq>``) updates the recipients' latest-message hint."""
    event: dict[str, Any] = {"type": PUSH_EVENT, "frame": frame, "skip": skip, "t": int(time.time() * 1000)}
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


def _note_latest_local(items: list[tuple[list[str], dict[str, Any]]]) -> None:
    for user_ids, event in items:
        if event.get("m"):
            for user_id in user_ids:
                _latest_local[user_id] = event["m"]


async def alatest_hint(user_id: str) -> dict[str, Any] | None:
    """``{"conversation_id", "seq"}`` of the newest message pushed to ``user_id``, or None."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

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


async def _send_many(user_ids: Iterable[str], event: dict[str, Any]) -> None:
    await _send_events([(list(user_ids), event)])


async def _send_events(items: list[tuple[list[str], dict[str, Any]]]) -> None:
    """Send each event to its users' groups, in order (a batch's pushes share one round trip)."""
    layer = get_channel_layer()
    if layer is None:
        return
    items = [(list(dict.fromkeys(user_ids)), event) for user_ids, event in items]
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


async def _publish_pipelined(layer: Any, items: list[tuple[list[str], dict[str, Any]]]) -> bool:
    """channels-redis' pub/sub layer: serialize each event once and publish it to every
    user's group, all events in one pipelined round trip per Redis shard, in order
    (``group_send`` costs a round trip and a serialization per user). Returns False when
    the layer is another kind or its internals differ (the caller then sends one by one)."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

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


def single_recipients(message: dict[str, Any]) -> list[str]:
    """A single chat or notification goes to the recipient and to the sender's other devices."""
    return [u for u in (message.get("recv_id"), message.get("send_id")) if u]


def deliver_group_message(message: dict[str, Any], skip: str | None = None) -> None:
    """Fan a stored group message out to every member, through the group fan-out task.

    Sync context (``on_commit`` callbacks, a worker thread of the event loop). Never
    raises: pushes are doorbells, and a member who misses one catches up by seq.
    """
    from apps.messaging import tasks

    frame = push_frame("push.msg", message)
    group_id, send_id = message["group_id"], message["send_id"]
    try:
        tasks.deliver_group.delay(frame, group_id, send_id, skip)
    except Exception:
        if tasks.runs_eagerly():
            log.exception("group fan-out of %s failed", group_id)
            return
        # the broker is unreachable: ring the members from here rather than not at all
        log.exception("group fan-out task for %s could not be queued; pushing in-process", group_id)
        try:
            fanout_group(frame, group_id, send_id, skip, chunk_tasks=False)
        except Exception:
            log.exception("in-process group fan-out of %s failed", group_id)


def fanout_group(frame: str, group_id: str, send_id: str, skip: str | None = None, *, chunk_tasks: bool) -> int:
    """Push ``frame`` to every member of ``group_id`` (and the sender); returns the member count.

    The first chunk is pushed here; with ``chunk_tasks`` the other chunks are queued as
    ``messaging.deliver_group_chunk`` tasks, else they are pushed here too.
    """
    from apps.messaging import tasks
    from apps.messaging.selectors import group_push_member_ids

    member_ids = group_push_member_ids(group_id=group_id)  # members who do not reject the group
    if send_id and send_id not in member_ids:
        member_ids.append(send_id)
    size = settings.IM_FANOUT_CHUNK_SIZE
    chunks = [member_ids[start : start + size] for start in range(0, len(member_ids), size)]
    for i, chunk in enumerate(chunks):
        if i == 0 or not chunk_tasks:
            push_chunk(frame, chunk, skip)
        else:
            tasks.deliver_group_chunk.delay(frame, chunk, skip)
    return len(member_ids)


def push_chunk(frame: str, user_ids: list[str], skip: str | None = None) -> None:
    """Push one pre-serialized frame to one chunk of users (sync context): one node push."""
    _run(_send_to_nodes(user_ids, frame, skip))


async def _send_to_nodes(user_ids: Iterable[str], frame: str, skip: str | None) -> None:
    """One channel-layer message to every node; each rings its own connections of ``user_ids``
    (:mod:`apps.messaging.housekeeping`)."""
    layer = get_channel_layer()
    if layer is None:
        return
    event = {"type": NODE_PUSH_EVENT, "frame": frame, "users": list(dict.fromkeys(user_ids)), "skip": skip}
    try:
        await layer.group_send(NODES_GROUP, event)
        pushhealth.count("pushes_published")
    except Exception:  # a failed ring loses nothing stored
        pushhealth.count("pushes_publish_failed")
        log.exception("node push to %d users failed", len(event["users"]))


_worker_loop: asyncio.AbstractEventLoop | None = None


async def _await(coro: Any) -> None:
    await coro


def _run(coro: Any) -> None:
    """Run a push coroutine from sync code.

    In a Celery worker process (no event loop, no server) one loop is kept for the
    process, so the channel layer's Redis connection is reused from task to task.
    Anywhere else ``async_to_sync`` (which runs it on the server's loop when called
    from one of its threads; the in-memory layer needs that).
    """
    global _worker_loop
    from apps.messaging.tasks import in_worker

    if not in_worker():
        async_to_sync(_await)(coro)
        return
    if _worker_loop is None or _worker_loop.is_closed():
        _worker_loop = asyncio.new_event_loop()
    _worker_loop.run_until_complete(coro)


def deliver_message(message: dict[str, Any], skip: str | None = None) -> None:
    """Deliver one stored message (sync context: ``transaction.on_commit`` callbacks)."""
    if message["session_type"] == SessionType.GROUP:
        deliver_group_message(message, skip)
        return
    async_to_sync(_send_many)(single_recipients(message), _event(push_frame("push.msg", message), skip, message))


async def adeliver_messages(items: list[tuple[dict[str, Any], str | None]]) -> None:
    """Deliver stored messages from the event loop (the websocket send path), in order."""
    group_items: list[tuple[dict[str, Any], str | None]] = []
    single_items: list[tuple[list[str], dict[str, Any]]] = []
    for message, skip in items:
        if message["session_type"] == SessionType.GROUP:
            group_items.append((message, skip))
        else:
            single_items.append((single_recipients(message), _event(push_frame("push.msg", message), skip, message)))
    if single_items:
        await _send_events(single_items)  # one round trip for the whole batch on the Redis layer
    if group_items:
        # member lists are DB/cache reads: keep them off the event loop and off the DB-writer thread
        await sync_to_async(_deliver_groups, thread_sensitive=False)(group_items)


def _deliver_groups(items: list[tuple[dict[str, Any], str | None]]) -> None:
    from django.db import close_old_connections

    try:
        for message, skip in items:
            deliver_group_message(message, skip)
    finally:
        close_old_connections()


async def apush_to_users(user_ids: Iterable[str], op: str, data: Any, skip: str | None = None) -> None:
    await _send_many(user_ids, _event(push_frame(op, data), skip))


def push_to_users(user_ids: Iterable[str], op: str, data: Any, skip: str | None = None) -> None:
    async_to_sync(_send_many)(list(user_ids), _event(push_frame(op, data), skip))
