"""The offline store: the hot log clients pull from (DESIGN §5).

Rows are keyed ``(conversation_id, seq)`` and hold the message already serialized
for the wire, so a catch-up of thousands of messages is one indexed range read with
no per-row object building. This is the SQL backend (the default); it is written in
the send transaction, next to the history row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Max

from apps.messaging.models import OfflineMessage
from apps.messaging.seq import bulk_insert


@dataclass(frozen=True)
class OfflineRow:
    conversation_id: str
    seq: int
    send_time: int
    payload: str  # the wire JSON of the message


def append(rows: Iterable[OfflineRow]) -> None:
    """Store rows (one bulk insert); runs inside the caller's transaction."""
    bulk_insert(
        OfflineMessage._meta.db_table,
        ("conversation_id", "seq", "send_time", "payload"),
        [(r.conversation_id, r.seq, r.send_time, r.payload) for r in rows],
    )


def replace(*, conversation_id: str, seq: int, payload: str) -> int:
    """Rewrite one stored message (revoke, delete); returns the rows changed (0 when purged)."""
    return OfflineMessage.objects.filter(conversation_id=conversation_id, seq=seq).update(payload=payload)


def range(*, conversation_id: str, from_seq: int, to_seq: int, limit: int) -> list[tuple[int, str]]:  # noqa: A001
    """``(seq, payload)`` for ``from_seq <= seq <= to_seq``, ascending, at most ``limit``."""
    return list(
        OfflineMessage.objects.filter(conversation_id=conversation_id, seq__gte=from_seq, seq__lte=to_seq)
        .order_by("seq")
        .values_list("seq", "payload")[:limit]
    )


def by_seqs(*, conversation_id: str, seqs: Iterable[int]) -> list[tuple[int, str]]:
    """``(seq, payload)`` of the listed seqs that are stored, ascending."""
    wanted = sorted(set(seqs))
    if not wanted:
        return []
    return list(
        OfflineMessage.objects.filter(conversation_id=conversation_id, seq__in=wanted)
        .order_by("seq")
        .values_list("seq", "payload")
    )


def max_seq(*, conversation_id: str) -> int:
    """Highest stored seq of a conversation (0 when none)."""
    return OfflineMessage.objects.filter(conversation_id=conversation_id).aggregate(m=Max("seq"))["m"] or 0


def count_older_than(*, before_ms: int) -> tuple[int, int]:
    """``(rows, conversations)`` sent before ``before_ms`` (what a purge would remove)."""
    qs = OfflineMessage.objects.filter(send_time__lt=before_ms)
    return qs.count(), qs.values("conversation_id").distinct().count()


def purge_batch(*, before_ms: int, batch_size: int = 1000) -> tuple[int, dict[str, int]]:
    """Delete up to ``batch_size`` rows sent before ``before_ms`` (oldest first).

    Returns ``(rows deleted, {conversation_id: highest purged seq})``. Runs in the
    caller's transaction, which should be short: one batch each.
    """
    chunk = list(
        OfflineMessage.objects.filter(send_time__lt=before_ms)
        .order_by("send_time", "id")
        .values_list("id", "conversation_id", "seq")[:batch_size]
    )
    if not chunk:
        return 0, {}
    deleted, _ = OfflineMessage.objects.filter(id__in=[pk for pk, _, _ in chunk]).delete()
    purged: dict[str, int] = {}
    for _, cid, seq in chunk:
        if seq > purged.get(cid, 0):
            purged[cid] = seq
    return deleted, purged


def purge_older_than(*, before_ms: int, batch_size: int = 1000) -> dict[str, int]:
    """Delete rows sent before ``before_ms``, ``batch_size`` at a time so sending never stalls.

    Returns ``{conversation_id: highest purged seq}`` so the caller can advance each
    conversation's ``min_seq`` to ``highest purged seq + 1`` (the oldest seq still pullable;
    pulls skip seqs below it and answer 1406 for ranges entirely below it).
    :func:`apps.messaging.retention.offline_purge` is the service that does both.
    """
    purged: dict[str, int] = {}
    while True:
        deleted, batch = purge_batch(before_ms=before_ms, batch_size=batch_size)
        for cid, seq in batch.items():
            purged[cid] = max(seq, purged.get(cid, 0))
        if deleted < batch_size:
            return purged
