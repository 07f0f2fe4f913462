"""Retention of the offline store (DESIGN §5): purge what is older than the retention.

:func:`offline_purge` is the one service behind the Celery beat task
(``messaging.purge_offline``) and ``manage.py purge_offline``. It deletes offline rows
sent before the cutoff in batches of ``IM_OFFLINE_PURGE_BATCH`` rows, each batch its
own short transaction that also advances the ``min_seq`` of the conversations it
touched, so sends never wait behind one huge delete and ``min_seq`` always matches
what is stored. History (``Message`` rows) is never touched: the history endpoint and
exports keep serving everything. A pull below ``min_seq`` answers 1406 (SEQ_PURGED)
with ``data.min_seq``.

A real run writes one audit row, action ``offline.purge`` (the operator dashboard shows
the newest as "last purge run"); a dry run only counts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.audit.services import audit_record
from apps.common.errors import Code, DomainError
from apps.messaging import offline
from apps.messaging.models import Conversation

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
AUDIT_ACTION = "offline.purge"


@dataclass(frozen=True)
class PurgeResult:
    cutoff_ms: int  # rows sent before this instant (ms since the epoch) were purged
    older_than_days: int
    rows_deleted: int  # for a dry run: the rows that would be deleted
    conversations_advanced: int  # conversations whose min_seq rose (dry run: that hold such rows)
    batches: int
    dry_run: bool
    elapsed_ms: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _advance_min_seqs(purged: dict[str, int]) -> set[str]:
    """Raise each conversation's ``min_seq`` to its highest purged seq + 1 (never lower it).

    One locking read and one ``UPDATE … CASE`` per 500 conversations, whatever the batch
    holds: the conversation rows stay locked (sends to them wait) only that long.
    """
    if not purged:
        return set()
    rows = list(
        Conversation.objects.select_for_update()
        .filter(conversation_id__in=sorted(purged))
        .order_by("conversation_id")
        .only("id", "conversation_id", "min_seq")
    )
    changed = []
    for conv in rows:
        floor = purged[conv.conversation_id] + 1
        if conv.min_seq < floor:
            conv.min_seq = floor
            changed.append(conv)
    Conversation.objects.bulk_update(changed, ["min_seq"], batch_size=500)
    return {conv.conversation_id for conv in changed}


def offline_purge(
    *,
    older_than_days: int | None = None,
    dry_run: bool = False,
    actor: str | None = None,
    batch_size: int | None = None,
    now_ms: int | None = None,
    source: str = "task",
) -> PurgeResult:
    """Purge offline rows older than ``older_than_days`` (default ``IM_OFFLINE_RETENTION_DAYS``)."""
    days = settings.IM_OFFLINE_RETENTION_DAYS if older_than_days is None else older_than_days
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise DomainError(Code.BAD_ARGS, "older_than_days must be a whole number of days, 0 or more")
    size = batch_size or settings.IM_OFFLINE_PURGE_BATCH
    started = time.monotonic()
    now = int(time.time() * 1000) if now_ms is None else now_ms
    cutoff = now - days * DAY_MS
    if dry_run:
        rows, convs = offline.count_older_than(before_ms=cutoff)
        return PurgeResult(cutoff, days, rows, convs, 0, True, int((time.monotonic() - started) * 1000))
    rows = batches = 0
    advanced: set[str] = set()
    while True:
        with transaction.atomic():
            deleted, purged = offline.purge_batch(before_ms=cutoff, batch_size=size)
            if deleted:
                advanced |= _advance_min_seqs(purged)
        if not deleted:
            break
        rows += deleted
        batches += 1
        if deleted < size:
            break
    result = PurgeResult(cutoff, days, rows, len(advanced), batches, False, int((time.monotonic() - started) * 1000))
    audit_record(
        actor=actor,
        action=AUDIT_ACTION,
        target_type="offline_store",
        target_id="messaging",
        details={
            "rows_deleted": rows,
            "conversations_advanced": len(advanced),
            "cutoff_ms": cutoff,
            "older_than_days": days,
            "batches": batches,
            "elapsed_ms": result.elapsed_ms,
            "source": source,
        },
    )
    log.info("offline purge: %d rows in %d batches, %d conversations advanced", rows, batches, len(advanced))
    return result
