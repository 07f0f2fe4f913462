"""Celery tasks of the integrations: webhook deliveries (thin wrappers over :mod:`.webhooks`).

``acks_late`` and retried with exponential backoff (1, 2, 4 … s, at most
``IM_WEBHOOK_RETRY_BACKOFF_MAX_SECONDS``, ``IM_WEBHOOK_MAX_RETRIES`` times). A retried event
keeps its ``event_id``.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from apps.integrations import webhooks


@shared_task(
    name=webhooks.WEBHOOK_DELIVER_TASK,
    acks_late=True,
    autoretry_for=(webhooks.WebhookError, OSError),
    retry_backoff=1,
    retry_backoff_max=settings.IM_WEBHOOK_RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
    max_retries=settings.IM_WEBHOOK_MAX_RETRIES,
)
def webhook_deliver(env: dict[str, Any]) -> None:
    webhooks.deliver(env)


@shared_task(
    name=webhooks.MESSAGE_EVENTS_TASK,
    acks_late=True,
    autoretry_for=(DatabaseError, ConnectionError, OSError),
    retry_backoff=1,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=5,
)
def message_events(messages: list[dict[str, Any]]) -> int:
    """Work out the events of stored messages (who is offline) and queue each delivery."""
    envs = webhooks.message_envelopes(messages)
    webhooks.dispatch(envs)
    return len(envs)
