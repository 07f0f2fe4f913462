"""Celery tasks of messaging: thin wrappers over :mod:`apps.messaging.delivery` and
:mod:`apps.messaging.retention`.

Every task is ``acks_late`` (a worker lost mid-task leaves it on the broker to be
delivered again: after ``IM_CELERY_VISIBILITY_TIMEOUT`` on Redis, at once on RabbitMQ)
and idempotent: a push delivered twice carries the same seq and clients drop seqs
they hold; a purge run twice finds nothing the second time. Failures are retried with
exponential backoff. With no ``CELERY_BROKER_URL`` the tasks run eagerly, in-process.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from apps.common import versionlog
from apps.messaging.delivery import (
    DELIVER_GROUP_CHUNK_TASK,
    DELIVER_GROUP_TASK,
    fanout_group,
    in_worker,
    push_chunk,
    runs_eagerly,
)
from apps.messaging.retention import offline_purge

__all__ = ["deliver_group", "deliver_group_chunk", "in_worker", "purge_offline", "runs_eagerly"]

# retries wait 1, 2, 4 … up to 30 s (well below the broker's visibility timeout)
RETRY = {
    "acks_late": True,
    "autoretry_for": (DatabaseError, ConnectionError, OSError),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name=DELIVER_GROUP_TASK, **RETRY)
def deliver_group(frame: str, group_id: str, send_id: str, skip: str | None = None) -> int:
    """Push a stored group message (its frame) to every member, in chunks."""
    return fanout_group(frame, group_id, send_id, skip, chunk_tasks=not runs_eagerly())


@shared_task(name=DELIVER_GROUP_CHUNK_TASK, **RETRY)
def deliver_group_chunk(frame: str, user_ids: list[str], skip: str | None = None) -> int:
    """Push a frame to one chunk of members."""
    push_chunk(frame, user_ids, skip)
    return len(user_ids)


@shared_task(name="messaging.purge_offline", **RETRY)
def purge_offline() -> dict[str, Any]:
    """The periodic retention purge of the offline store (Celery beat), and the trim of the
    hot lists' version logs (each keeps its newest ``IM_VERSION_LOG_KEEP`` entries)."""
    result = offline_purge(actor=None).as_dict()
    result["version_log_trimmed"] = versionlog.trim()
    return result
