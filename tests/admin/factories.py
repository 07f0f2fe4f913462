"""Data for console tests: through the domain services where the behaviour matters, bulk rows for volume."""

from __future__ import annotations

import time
import uuid
from typing import Any

from apps.messaging.models import Message
from apps.messaging.wire import single_conversation_id


def send_text(sender: Any, *, to: Any = None, group_id: str = "", text: str = "hello") -> dict[str, Any]:
    from apps.messaging import services

    result = services.message_send(
        send_id=sender.user_id,
        session_type=3 if group_id else 1,
        content_type=101,
        content={"content": text},
        client_msg_id=uuid.uuid4().hex,
        recv_id=to.user_id if to is not None else "",
        group_id=group_id,
    )
    assert result.message is not None
    return result.message


def bulk_messages(count: int, *, a: str = "alice", b: str = "bob", start_ms: int | None = None,
                  step_ms: int = 1000, batch: int = 1000) -> str:
    """``count`` history rows in one single-chat conversation (seq 1..count); returns its id."""
    cid = single_conversation_id(a, b)
    start = start_ms if start_ms is not None else int(time.time() * 1000) - count * step_ms
    rows = []
    for seq in range(1, count + 1):
        sender, recv = (a, b) if seq % 2 else (b, a)
        rows.append(Message(
            server_msg_id=f"{cid[:12]}{seq:010d}", client_msg_id=f"c{seq}", conversation_id=cid, seq=seq, send_id=sender,
            recv_id=recv, session_type=1, content_type=101,
            content={"content": f"message {seq} — ünïcode, \"quotes\", commas", "n": seq},
            send_time=start + seq * step_ms,
        ))
        if len(rows) >= batch:
            Message.objects.bulk_create(rows)
            rows = []
    if rows:
        Message.objects.bulk_create(rows)
    return cid
