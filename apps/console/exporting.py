"""Streaming exports: constant memory however many rows (keyset pages of ``chunk_size`` rows).

Keyset paging (``id > last ORDER BY id LIMIT n``) instead of one big cursor: MySQL's client
library buffers a whole result set in memory even under ``QuerySet.iterator()``, keyset pages
do not, on every database.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TextIO

from django.db.models import Model, Q, QuerySet

from apps.messaging.models import Message
from apps.messaging.wire import EXPORT_FIELDS

MESSAGE_FIELDS = EXPORT_FIELDS  # the export columns of a message
FORMATS = ("jsonl", "csv")


def parse_time_ms(value: str) -> int:
    """``2026-01-31``, ``2026-01-31T12:00[:00][+00:00]`` (UTC unless given) or epoch milliseconds."""
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD), an ISO datetime or epoch milliseconds") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


@dataclass
class MessageFilter:
    conversation_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)  # messages sent by these users
    participant_ids: list[str] = field(default_factory=list)  # sent by them, or to them in single chats
    group_ids: list[str] = field(default_factory=list)
    since_ms: int | None = None  # send_time >= since
    until_ms: int | None = None  # send_time < until

    def apply(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        if self.conversation_ids:
            qs = qs.filter(conversation_id__in=self.conversation_ids)
        if self.user_ids:
            qs = qs.filter(send_id__in=self.user_ids)
        if self.participant_ids:
            qs = qs.filter(Q(send_id__in=self.participant_ids) | Q(recv_id__in=self.participant_ids))
        if self.group_ids:
            qs = qs.filter(group_id__in=self.group_ids)
        if self.since_ms is not None:
            qs = qs.filter(send_time__gte=self.since_ms)
        if self.until_ms is not None:
            qs = qs.filter(send_time__lt=self.until_ms)
        return qs


def iter_rows(qs: QuerySet[Any], fields: tuple[str, ...], *, chunk_size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Yield pages (lists of dicts) of ``qs`` in primary-key order, ``chunk_size`` rows at a time."""
    last = None
    while True:
        page_qs = qs if last is None else qs.filter(pk__gt=last)
        page = list(page_qs.order_by("pk").values("pk", *fields)[:chunk_size])
        if not page:
            return
        last = page[-1]["pk"]
        for row in page:
            del row["pk"]
        yield page
        if len(page) < chunk_size:
            return


def messages_queryset(flt: MessageFilter) -> QuerySet[Any]:
    return flt.apply(Message.objects.all())


class RowWriter:
    """Writes dict rows as JSON lines or CSV (JSON-encoded ``content`` column)."""

    def __init__(self, out: TextIO, fmt: str, fields: tuple[str, ...]) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        self.out, self.fmt, self.fields = out, fmt, fields
        self._csv = None
        if fmt == "csv":
            self._csv = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
            self._csv.writeheader()

    def write_many(self, rows: list[dict[str, Any]]) -> None:
        if self._csv is not None:
            for row in rows:
                self._csv.writerow(
                    {k: json.dumps(v, ensure_ascii=False, separators=(",", ":")) if isinstance(v, dict | list) else v
                     for k, v in row.items()}
                )
            return
        self.out.write("".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows))


def read_messages_export(text_or_lines: Any, fmt: str) -> Iterator[dict[str, Any]]:
    """Parse an export back (used by tests and by anyone re-importing it)."""
    if fmt == "jsonl":
        for line in text_or_lines:
            if line.strip():
                yield json.loads(line)
        return
    for row in csv.DictReader(text_or_lines):
        out: dict[str, Any] = dict(row)
        for key in ("seq", "session_type", "content_type", "send_time", "sender_platform_id", "status"):
            out[key] = int(out[key])
        out["content"] = json.loads(out["content"])
        yield out


def model_dict(obj: Model, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A model row as JSON-ready dict of its concrete fields (FKs as their raw value)."""
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.name in exclude:
            continue
        value = getattr(obj, f.attname)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        out[f.attname if f.is_relation else f.name] = value
    return out


def user_filter_q(user_id: str, *fields: str) -> Q:
    q = Q()
    for name in fields:
        q |= Q(**{name: user_id})
    return q
