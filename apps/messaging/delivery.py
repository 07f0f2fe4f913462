"""Delivery after commit: ring the doorbell of every online connection of the recipients.

The channel layer delivers at most once; durability comes from the stored,
seq-numbered log and the client's catch-up (``seq.newest`` + ``msg.pull``).

Every push is pre-serialized once into the frame text, and sent to the user groups
(:func:`apps.common.sideeffects.user_group`) as ``{"type": "push.frame", "frame": ...,
"skip": <channel name or None>}``; ``skip`` is the sending connection, which already
has the ack. Group messages go through :func:`deliver_group_message`, the one fan-out
function.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import orjson
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from apps.common.sideeffects import user_group
from apps.messaging.models import SessionType

log = logging.getLogger(__name__)

PUSH_EVENT = "push.frame"


def push_frame(op: str, data: Any) -> str:
    return orjson.dumps({"op": op, "data": data}).decode()


def _event(frame: str, skip: str | None) -> dict[str, Any]:
    return {"type": PUSH_EVENT, "frame": frame, "skip": skip}


async def _send_many(user_ids: Iterable[str], event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for user_id in dict.fromkeys(user_ids):
        try:
            await layer.group_send(user_group(user_id), event)
        except Exception:  # a failed ring loses nothing stored
            log.exception("push to %s failed", user_id)


def single_recipients(message: dict[str, Any]) -> list[str]:
    """A single chat or notification goes to the recipient and to the sender's other devices."""
    return [u for u in (message.get("recv_id"), message.get("send_id")) if u]


def deliver_group_message(message: dict[str, Any], skip: str | None = None) -> None:
    """Fan a stored group message out to every member (sync; moves to a Celery task later)."""
    from apps.groups.selectors import group_member_ids

    member_ids = group_member_ids(group_id=message["group_id"])
    if message["send_id"] not in member_ids:
        member_ids.append(message["send_id"])
    event = _event(push_frame("push.msg", message), skip)
    chunk = settings.IM_FANOUT_CHUNK_SIZE
    for start in range(0, len(member_ids), chunk):
        async_to_sync(_send_many)(member_ids[start : start + chunk], event)


def deliver_message(message: dict[str, Any], skip: str | None = None) -> None:
    """Deliver one stored message (sync context: ``transaction.on_commit`` callbacks)."""
    if message["session_type"] == SessionType.GROUP:
        deliver_group_message(message, skip)
        return
    async_to_sync(_send_many)(single_recipients(message), _event(push_frame("push.msg", message), skip))


async def adeliver_messages(items: list[tuple[dict[str, Any], str | None]]) -> None:
    """Deliver stored messages from the event loop (the websocket send path), in order."""
    group_items: list[tuple[dict[str, Any], str | None]] = []
    for message, skip in items:
        if message["session_type"] == SessionType.GROUP:
            group_items.append((message, skip))
        else:
            await _send_many(single_recipients(message), _event(push_frame("push.msg", message), skip))
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
