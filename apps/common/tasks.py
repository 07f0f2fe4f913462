"""Celery tasks of the deployment itself (no domain rules)."""

from __future__ import annotations

from celery import shared_task

from apps.common.health import beat_heartbeat_record


@shared_task(name="common.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> float:
    """Sent by beat every ``IM_BEAT_HEARTBEAT_SECONDS``; a worker records when it ran.

    A fresh heartbeat proves beat, the broker, a worker and the shared cache all work;
    ``manage.py check_deployment`` reads its age.
    """
    return beat_heartbeat_record()
