"""Delivery after commit: ring the doorbell of every online connection of the recipients.

The channel layer delivers at most once; durability comes from the stored,
seq-numbered log and the client's catch-up (``seq.newest`` + ``msg.pull``).

Every push is pre-serialized once into the frame text, and sent through the one push
path, :mod:`apps.common.push`, to the user groups as ``{"type": "push.frame", "frame": ...,
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
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from celery import current_app
from celery.signals import worker_process_init
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections

from apps.common import pushhealth
from apps.common.metrics import FANOUT_SECONDS, PUSHES, timed
from apps.common.push import asend_events, frame_event, push_frame, send_to_users
from apps.messaging.models import SessionType
from apps.messaging.selectors import group_push_member_ids
from apps.messaging.wire import WireMessage

log = logging.getLogger(__name__)

NODES_GROUP = "im.nodes"  # every server process (node) with live connections is in it
NODE_PUSH_EVENT = "push.many"
# the Celery entry points of the fan-out (apps/messaging/tasks.py), queued by name so this
# module does not import the task module that calls it
DELIVER_GROUP_TASK = "messaging.deliver_group"
DELIVER_GROUP_CHUNK_TASK = "messaging.deliver_group_chunk"

_state = {"worker": False}


def _mark_worker(**_: Any) -> None:
    _state["worker"] = True


worker_process_init.connect(_mark_worker)


def in_worker() -> bool:
    """True inside a Celery worker process (not in a server node or an eager call)."""
    return _state["worker"]


def runs_eagerly() -> bool:
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def _task(name: str) -> Any:
    """A registered Celery task (the messaging app registers its tasks when Django loads it)."""
    return current_app.tasks[name]


def single_recipients(message: WireMessage) -> list[str]:
    """A single chat or notification goes to the recipient and to the sender's other devices."""
    return [u for u in (message.get("recv_id"), message.get("send_id")) if u]


def deliver_group_message(message: WireMessage, skip: str | None = None) -> None:
    """Fan a stored group message out to every member, through the group fan-out task.

    Sync context (``on_commit`` callbacks, a worker thread of the event loop). Never
    raises: pushes are doorbells, and a member who misses one catches up by seq.
    """
    frame = push_frame("push.msg", message)
    group_id, send_id = message["group_id"], message["send_id"]
    try:
        _task(DELIVER_GROUP_TASK).delay(frame, group_id, send_id, skip)
    except Exception:
        if runs_eagerly():
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
    with timed(FANOUT_SECONDS):  # metrics hook
        member_ids = group_push_member_ids(group_id=group_id)  # members who do not reject the group
        if send_id and send_id not in member_ids:
            member_ids.append(send_id)
        size = settings.IM_FANOUT_CHUNK_SIZE
        chunks = [member_ids[start : start + size] for start in range(0, len(member_ids), size)]
        for i, chunk in enumerate(chunks):
            if i == 0 or not chunk_tasks:
                push_chunk(frame, chunk, skip)
            else:
                _task(DELIVER_GROUP_CHUNK_TASK).delay(frame, chunk, skip)
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
    users = list(dict.fromkeys(user_ids))
    event = {"type": NODE_PUSH_EVENT, "frame": frame, "users": users, "skip": skip}
    PUSHES.labels("node_chunk").inc()  # metrics hook
    try:
        await layer.group_send(NODES_GROUP, event)
        pushhealth.count("pushes_published")
    except Exception:  # a failed ring loses nothing stored
        pushhealth.count("pushes_publish_failed")
        log.exception("node push to %d users failed", len(users))


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
    if not in_worker():
        async_to_sync(_await)(coro)
        return
    if _worker_loop is None or _worker_loop.is_closed():
        _worker_loop = asyncio.new_event_loop()
    _worker_loop.run_until_complete(coro)


def deliver_message(message: WireMessage, skip: str | None = None) -> None:
    """Deliver one stored message (sync context: ``transaction.on_commit`` callbacks)."""
    if message["session_type"] == SessionType.GROUP:
        deliver_group_message(message, skip)
        return
    send_to_users(single_recipients(message), frame_event(push_frame("push.msg", message), skip, message))


async def adeliver_messages(items: list[tuple[WireMessage, str | None]]) -> None:
    """Deliver stored messages from the event loop (the websocket send path), in order."""
    group_items: list[tuple[WireMessage, str | None]] = []
    single_items: list[tuple[list[str], dict[str, Any]]] = []
    for message, skip in items:
        if message["session_type"] == SessionType.GROUP:
            group_items.append((message, skip))
        else:
            single_items.append((single_recipients(message), frame_event(push_frame("push.msg", message), skip, message)))
    if single_items:
        await asend_events(single_items)  # one round trip for the whole batch on the Redis layer
    if group_items:
        # member lists are DB/cache reads: keep them off the event loop and off the DB-writer thread
        await sync_to_async(_deliver_groups, thread_sensitive=False)(group_items)


def _deliver_groups(items: list[tuple[WireMessage, str | None]]) -> None:
    try:
        for message, skip in items:
            deliver_group_message(message, skip)
    finally:
        close_old_connections()
