"""Seq allocation: gapless per conversation, owned by the database.

One call allocates seqs for every conversation of a batch with two statements: an
upsert that creates missing conversation rows and bumps ``max_seq`` by the number of
new messages (taking the row locks, in conversation-id order so concurrent batches
cannot deadlock on each other), then one ``SELECT … FOR UPDATE`` that reads the new
values back. The caller must be inside ``transaction.atomic``: a rollback gives the
seqs back, so a committed log never has a gap, and nothing here reads Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from apps.messaging.models import Conversation, UserConversation


@dataclass(frozen=True)
class SeqRequest:
    conversation_id: str
    session_type: int
    count: int
    last_msg_time: int
    group_id: str = ""
    user_a: str = ""
    user_b: str = ""


@dataclass(frozen=True)
class SeqGrant:
    conversation_id: str
    first_seq: int
    max_seq: int
    min_seq: int
    user_a: str
    user_b: str


def _sql(*parts: str) -> str:
    """Statements are assembled from constants and quoted table names only; values go in as parameters."""
    return "".join(parts)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def seq_allocate(requests: list[SeqRequest]) -> dict[str, SeqGrant]:
    """Reserve ``count`` consecutive seqs in each conversation; returns the grants by conversation id."""
    if not requests:
        return {}
    requests = sorted(requests, key=lambda r: r.conversation_id)
    table = _quote(Conversation._meta.db_table)
    cols = ("conversation_id", "session_type", "group_id", "user_a", "user_b", "max_seq", "last_msg_time", "create_time")
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(cols)) + ")"] * len(requests))
    params: list[Any] = []
    for r in requests:
        params.extend(
            (r.conversation_id, r.session_type, r.group_id, r.user_a, r.user_b, r.count, r.last_msg_time, r.last_msg_time)
        )
    col_sql = ", ".join(_quote(c) for c in cols)
    if connection.vendor == "mysql":
        upsert = _sql(
            "INSERT INTO ", table, " (", col_sql, ") VALUES ", placeholders, " ON DUPLICATE KEY UPDATE ",
            "max_seq = max_seq + VALUES(max_seq), last_msg_time = GREATEST(last_msg_time, VALUES(last_msg_time))",
        )
    else:
        greatest = "max" if connection.vendor == "sqlite" else "GREATEST"
        upsert = _sql(
            "INSERT INTO ", table, " (", col_sql, ") VALUES ", placeholders,
            " ON CONFLICT (conversation_id) DO UPDATE SET max_seq = ", table, ".max_seq + excluded.max_seq, ",
            "last_msg_time = ", greatest, "(", table, ".last_msg_time, excluded.last_msg_time)",
        )
    ids = [r.conversation_id for r in requests]
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = _sql(
        "SELECT conversation_id, max_seq, min_seq, user_a, user_b FROM ", table,
        " WHERE conversation_id IN (", ", ".join(["%s"] * len(ids)), ")", lock,
    )
    with connection.cursor() as cursor:
        cursor.execute(upsert, params)
        cursor.execute(select, ids)
        rows = cursor.fetchall()
    counts = {r.conversation_id: r.count for r in requests}
    return {
        cid: SeqGrant(
            conversation_id=cid,
            first_seq=int(max_seq) - counts[cid] + 1,
            max_seq=int(max_seq),
            min_seq=int(min_seq),
            user_a=user_a,
            user_b=user_b,
        )
        for cid, max_seq, min_seq, user_a, user_b in rows
    }


def user_conversations_touch(rows: list[tuple[str, str, int, int]], *, unhide: bool = True) -> None:
    """Create or refresh per-user conversation rows: ``(owner_id, conversation_id, session_type, read_seq)``.

    ``read_seq`` only ever rises (a sender has read its own message); a new message
    un-hides the conversation. One statement for the whole batch.
    """
    if not rows:
        return
    merged: dict[tuple[str, str], tuple[int, int]] = {}
    for owner, cid, session_type, read_seq in rows:
        old = merged.get((owner, cid))
        merged[(owner, cid)] = (session_type, max(read_seq, old[1] if old else 0))
    table = _quote(UserConversation._meta.db_table)
    cols = ("owner_id", "conversation_id", "session_type", "read_seq")
    placeholders = ", ".join(["(%s, %s, %s, %s)"] * len(merged))
    params: list[Any] = []
    for (owner, cid), (session_type, read_seq) in sorted(merged.items()):
        params.extend((owner, cid, session_type, read_seq))
    col_sql = ", ".join(_quote(c) for c in cols)
    if connection.vendor == "mysql":
        sql = _sql(
            "INSERT INTO ", table, " (", col_sql, ") VALUES ", placeholders, " ON DUPLICATE KEY UPDATE ",
            "read_seq = GREATEST(read_seq, VALUES(read_seq))", ", is_hidden = 0" if unhide else "",
        )
    else:
        greatest = "max" if connection.vendor == "sqlite" else "GREATEST"
        sql = _sql(
            "INSERT INTO ", table, " (", col_sql, ") VALUES ", placeholders,
            " ON CONFLICT (owner_id, conversation_id) DO UPDATE SET ",
            "read_seq = ", greatest, "(", table, ".read_seq, excluded.read_seq)", ", is_hidden = FALSE" if unhide else "",
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def bulk_insert(table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """One multi-row ``INSERT`` (the ORM's per-field preparation costs more than the statement)."""
    if not rows:
        return
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    # SQLite caps bound parameters per statement (32766 in current versions; 999 in old ones)
    per = max(1, 900 // len(cols)) if connection.vendor == "sqlite" else len(rows)
    col_sql = ", ".join(_quote(c) for c in cols)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            params: list[Any] = [v for row in chunk for v in row]
            cursor.execute(_sql("INSERT INTO ", _quote(table), " (", col_sql, ") VALUES ", ", ".join([one] * len(chunk))), params)


def read_seq_raise(*, owner_id: str, conversation_id: str, session_type: int, seq: int) -> None:
    """Raise one user's read seq (never lowers it)."""
    user_conversations_touch([(owner_id, conversation_id, session_type, seq)], unhide=False)
