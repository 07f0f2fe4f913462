"""Storage layer: the local SQLite database of one user.

Messages are keyed by ``(conversation_id, seq)``, so writing a message twice (pushed and
pulled, pulled again after a restart) stores it once. Each conversation keeps
``local_max``, the highest seq held without a gap; everything above it is pulled before it
counts. The store also keeps the read seq, the server's ``max_seq``/``min_seq``, the outbox
of unacked sends (so they survive a restart of the app), and per-list sync versions.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imclient.models import STATUS_SENT, Conversation, Message

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    conversation_id TEXT PRIMARY KEY,
    session_type INTEGER NOT NULL DEFAULT 0,
    peer_id TEXT NOT NULL DEFAULT '',
    group_id TEXT NOT NULL DEFAULT '',
    max_seq INTEGER NOT NULL DEFAULT 0,
    min_seq INTEGER NOT NULL DEFAULT 0,
    read_seq INTEGER NOT NULL DEFAULT 0,
    local_max INTEGER NOT NULL DEFAULT 0,
    peer_read_seq INTEGER NOT NULL DEFAULT 0,
    is_pinned INTEGER NOT NULL DEFAULT 0,
    recv_opt INTEGER NOT NULL DEFAULT 0,
    is_member INTEGER NOT NULL DEFAULT 1,
    last_time INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    server_msg_id TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    send_id TEXT NOT NULL,
    recv_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    session_type INTEGER NOT NULL,
    content_type INTEGER NOT NULL,
    content TEXT NOT NULL,
    send_time INTEGER NOT NULL,
    status INTEGER NOT NULL,
    sender_platform_id INTEGER NOT NULL,
    sender_nickname TEXT NOT NULL,
    sender_face_url TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_server_msg_id ON messages (server_msg_id) WHERE server_msg_id != '';
CREATE TABLE IF NOT EXISTS outbox (
    client_msg_id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_state (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0,
    synced_at REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS list_items (
    list_name TEXT NOT NULL,
    item_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (list_name, item_id)
) WITHOUT ROWID;
"""

_MSG_COLUMNS = (
    "conversation_id, seq, server_msg_id, client_msg_id, send_id, recv_id, group_id, session_type, content_type, "
    "content, send_time, status, sender_platform_id, sender_nickname, sender_face_url"
)

# A message already held is only overwritten by a later state of the same seq: revoked (5) or
# deleted (4). A plain "sent" copy never overwrites, so a stale push cannot undo a revoke.
_UPSERT = f"""
INSERT INTO messages ({_MSG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (conversation_id, seq) DO UPDATE SET
    status = excluded.status, content = excluded.content,
    server_msg_id = CASE WHEN excluded.server_msg_id != '' THEN excluded.server_msg_id ELSE messages.server_msg_id END
WHERE excluded.status != {STATUS_SENT} AND excluded.status != messages.status
"""  # noqa: S608 - fixed column list, values bound

_CONV_COLUMNS = (
    "conversation_id, session_type, peer_id, group_id, max_seq, min_seq, read_seq, local_max, peer_read_seq, "
    "is_pinned, recv_opt, is_member"
)


class StoreError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ConvState:
    conversation_id: str
    local_max: int
    max_seq: int
    min_seq: int
    read_seq: int


class Store:
    """One user's local database; ``path`` None keeps it in memory."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else ":memory:"
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._set_meta_default("schema_version", str(SCHEMA_VERSION))
        self.user_id = self.meta("user_id") or ""

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ meta
    def _set_meta_default(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def bind_user(self, user_id: str) -> None:
        """A store belongs to one user: opening it as another is an error, not a mix-up."""
        owner = self.meta("user_id")
        if owner is None:
            self.db.execute("INSERT INTO meta (key, value) VALUES ('user_id', ?)", (user_id,))
        elif owner != user_id:
            raise StoreError(f"{self.path} holds the messages of {owner!r}, not {user_id!r}")
        self.user_id = user_id

    # ------------------------------------------------------------------ conversations
    def conv_state(self, conversation_id: str) -> ConvState | None:
        row = self.db.execute(
            "SELECT conversation_id, local_max, max_seq, min_seq, read_seq FROM conversations WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        return None if row is None else ConvState(*row)

    def conv_states(self) -> dict[str, ConvState]:
        rows = self.db.execute("SELECT conversation_id, local_max, max_seq, min_seq, read_seq FROM conversations")
        return {r[0]: ConvState(*r) for r in rows}

    def ensure_conversation(self, conversation_id: str, *, session_type: int = 0, peer_id: str = "",
                            group_id: str = "") -> None:
        self.db.execute(
            "INSERT INTO conversations (conversation_id, session_type, peer_id, group_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (conversation_id) DO UPDATE SET "
            "session_type = CASE WHEN conversations.session_type = 0 THEN excluded.session_type ELSE conversations.session_type END, "
            "peer_id = CASE WHEN conversations.peer_id = '' THEN excluded.peer_id ELSE conversations.peer_id END, "
            "group_id = CASE WHEN conversations.group_id = '' THEN excluded.group_id ELSE conversations.group_id END",
            (conversation_id, session_type, peer_id, group_id),
        )

    def update_seqs(self, conversation_id: str, *, max_seq: int | None = None, min_seq: int | None = None,
                    read_seq: int | None = None, peer_read_seq: int | None = None) -> None:
        """Raise the conversation's known seqs (they never go down)."""
        self.ensure_conversation(conversation_id)
        self.db.execute(
            "UPDATE conversations SET max_seq = MAX(max_seq, ?), min_seq = MAX(min_seq, ?), "
            "read_seq = MAX(read_seq, ?), peer_read_seq = MAX(peer_read_seq, ?) WHERE conversation_id = ?",
            (max_seq or 0, min_seq or 0, read_seq or 0, peer_read_seq or 0, conversation_id),
        )

    def update_settings(self, conversation_id: str, *, is_pinned: bool, recv_opt: int, is_member: bool) -> None:
        self.db.execute(
            "UPDATE conversations SET is_pinned = ?, recv_opt = ?, is_member = ? WHERE conversation_id = ?",
            (int(is_pinned), recv_opt, int(is_member), conversation_id),
        )

    def skip_below(self, conversation_id: str, min_seq: int) -> None:
        """Seqs below ``min_seq`` were purged from the server's offline store: count them as held."""
        self.db.execute(
            "UPDATE conversations SET local_max = MAX(local_max, ?) WHERE conversation_id = ?",
            (min_seq - 1, conversation_id),
        )

    def conversation(self, conversation_id: str) -> Conversation | None:
        rows = self._conversations("WHERE c.conversation_id = ?", (conversation_id,))
        return rows[0] if rows else None

    def conversations(self) -> list[Conversation]:
        return self._conversations("", ())

    def _conversations(self, where: str, args: tuple[Any, ...]) -> list[Conversation]:
        rows = self.db.execute(
            f"SELECT {', '.join('c.' + c.strip() for c in _CONV_COLUMNS.split(','))}, m.* FROM conversations c "  # noqa: S608
            "LEFT JOIN messages m ON m.conversation_id = c.conversation_id AND m.seq = ("
            "  SELECT MAX(seq) FROM messages x WHERE x.conversation_id = c.conversation_id AND x.seq <= c.local_max"
            "  AND x.content_type != 0) "
            f"{where} ORDER BY c.is_pinned DESC, COALESCE(m.send_time, 0) DESC, c.conversation_id",
            args,
        ).fetchall()
        out = []
        for row in rows:
            values = tuple(row)
            conv, msg = values[:12], values[12:]
            last = _message(msg) if msg[0] is not None else None
            out.append(
                Conversation(
                    conversation_id=conv[0], session_type=conv[1], peer_id=conv[2], group_id=conv[3],
                    max_seq=conv[4], min_seq=conv[5], read_seq=conv[6], local_max=conv[7], peer_read_seq=conv[8],
                    is_pinned=bool(conv[9]), recv_opt=conv[10], is_member=bool(conv[11]), last_message=last,
                )
            )
        return out

    # ------------------------------------------------------------------ messages
    def put_messages(self, messages: Iterable[Message]) -> list[Message]:
        """Store messages idempotently and advance ``local_max`` over what is now contiguous.

        Returns the messages that became contiguous with this call, in seq order per
        conversation (the ones an app has not been told about yet).
        """
        batch = list(messages)
        if not batch:
            return []
        convs: dict[str, Message] = {}
        with self._tx():
            for msg in batch:
                if msg.conversation_id not in convs or convs[msg.conversation_id].is_placeholder:
                    convs[msg.conversation_id] = msg
            for cid, sample in convs.items():
                peer = ""
                if sample.session_type == 1:
                    peer = sample.recv_id if sample.send_id == self.user_id else sample.send_id
                self.ensure_conversation(cid, session_type=sample.session_type, group_id=sample.group_id,
                                         peer_id=peer)
            self.db.executemany(_UPSERT, [_row(m) for m in batch])
            released: list[Message] = []
            for cid in convs:
                released.extend(self._advance(cid))
        return released

    def _advance(self, conversation_id: str) -> list[Message]:
        row = self.db.execute("SELECT local_max FROM conversations WHERE conversation_id = ?", (conversation_id,)).fetchone()
        start = int(row[0])
        held = self.db.execute(
            f"SELECT {_MSG_COLUMNS} FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq",  # noqa: S608
            (conversation_id, start),
        ).fetchall()
        released = []
        top = start
        for r in held:
            if r[1] != top + 1:
                break
            top += 1
            released.append(_message(tuple(r)))
        if top != start:
            self.db.execute(
                "UPDATE conversations SET local_max = ?, max_seq = MAX(max_seq, ?), "
                "last_time = MAX(last_time, ?) WHERE conversation_id = ?",
                (top, top, released[-1].send_time, conversation_id),
            )
        return released

    def mark_status(self, conversation_id: str, seq: int, status: int) -> bool:
        cur = self.db.execute(
            "UPDATE messages SET status = ?, content = '{}' WHERE conversation_id = ? AND seq = ? AND status != ?",
            (status, conversation_id, seq, status),
        )
        return cur.rowcount > 0

    def message(self, conversation_id: str, seq: int) -> Message | None:
        row = self.db.execute(
            f"SELECT {_MSG_COLUMNS} FROM messages WHERE conversation_id = ? AND seq = ?",  # noqa: S608
            (conversation_id, seq),
        ).fetchone()
        return None if row is None else _message(tuple(row))

    def message_by_server_id(self, server_msg_id: str) -> Message | None:
        row = self.db.execute(
            f"SELECT {_MSG_COLUMNS} FROM messages WHERE server_msg_id = ?", (server_msg_id,)  # noqa: S608
        ).fetchone()
        return None if row is None else _message(tuple(row))

    def history(self, conversation_id: str, limit: int = 50, before_seq: int | None = None) -> list[Message]:
        """Up to ``limit`` held messages below ``before_seq`` (contiguous part only), oldest first."""
        state = self.conv_state(conversation_id)
        if state is None:
            return []
        top = state.local_max if before_seq is None else min(state.local_max, before_seq - 1)
        rows = self.db.execute(
            f"SELECT {_MSG_COLUMNS} FROM messages WHERE conversation_id = ? AND seq <= ? "  # noqa: S608
            "ORDER BY seq DESC LIMIT ?",
            (conversation_id, top, max(0, int(limit))),
        ).fetchall()
        return [_message(tuple(r)) for r in reversed(rows)]

    def count_messages(self, conversation_id: str | None = None) -> int:
        if conversation_id is None:
            return int(self.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        return int(
            self.db.execute("SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,)).fetchone()[0]
        )

    # ------------------------------------------------------------------ outbox
    def outbox_add(self, client_msg_id: str, payload: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO outbox (client_msg_id, payload, created_at) VALUES (?, ?, ?)",
            (client_msg_id, json.dumps(payload), time.time()),
        )

    def outbox_remove(self, client_msg_id: str) -> None:
        self.db.execute("DELETE FROM outbox WHERE client_msg_id = ?", (client_msg_id,))

    def outbox(self) -> list[tuple[str, dict[str, Any]]]:
        rows = self.db.execute("SELECT client_msg_id, payload FROM outbox ORDER BY created_at, rowid")
        return [(r[0], json.loads(r[1])) for r in rows]

    # ------------------------------------------------------------------ lists (friends, groups, ...)
    def sync_version(self, name: str) -> int:
        row = self.db.execute("SELECT version FROM sync_state WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def replace_list(self, name: str, items: dict[str, dict[str, Any]], version: int = 0) -> None:
        """A full list from the server replaces the local copy."""
        with self._tx():
            self.db.execute("DELETE FROM list_items WHERE list_name = ?", (name,))
            self._put_items(name, items, version)

    def apply_list_changes(self, name: str, changed: dict[str, dict[str, Any]], deleted: Iterable[str],
                           version: int) -> None:
        """An incremental answer (``since_version``) changes only what changed."""
        with self._tx():
            self.db.executemany(
                "DELETE FROM list_items WHERE list_name = ? AND item_id = ?", [(name, i) for i in deleted]
            )
            self._put_items(name, changed, version)

    def _put_items(self, name: str, items: dict[str, dict[str, Any]], version: int) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO list_items (list_name, item_id, body) VALUES (?, ?, ?)",
            [(name, k, json.dumps(v)) for k, v in items.items()],
        )
        self.db.execute(
            "INSERT OR REPLACE INTO sync_state (name, version, synced_at) VALUES (?, ?, ?)", (name, version, time.time())
        )

    def list_items(self, name: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT body FROM list_items WHERE list_name = ? ORDER BY item_id", (name,))
        return [json.loads(r[0]) for r in rows]

    # ------------------------------------------------------------------ helpers
    def _tx(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.outer = False

    def __enter__(self) -> None:
        self.outer = not self.db.in_transaction
        if self.outer:
            self.db.execute("BEGIN")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self.outer:
            return
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _row(m: Message) -> tuple[Any, ...]:
    return (
        m.conversation_id, m.seq, m.server_msg_id, m.client_msg_id, m.send_id, m.recv_id, m.group_id, m.session_type,
        m.content_type, json.dumps(m.content, ensure_ascii=False, separators=(",", ":")), m.send_time, m.status,
        m.sender_platform_id, m.sender_nickname, m.sender_face_url,
    )


def _message(r: tuple[Any, ...]) -> Message:
    return Message(
        conversation_id=r[0], seq=r[1], server_msg_id=r[2], client_msg_id=r[3], send_id=r[4], recv_id=r[5],
        group_id=r[6], session_type=r[7], content_type=r[8], content=json.loads(r[9]), send_time=r[10], status=r[11],
        sender_platform_id=r[12], sender_nickname=r[13], sender_face_url=r[14],
    )
