"""Media messages (102 picture, 103 voice, 104 video, 105 file) that carry a ``file_id``.

Called by the send path through :mod:`apps.integrations.hooks`: before the write,
:func:`media_resolve` checks that every referenced file exists and belongs to the sender
and merges the file's url, name, size (and width, height, thumbnail) into the content;
inside the write transaction, :func:`media_uses_record` notes which stored message uses
which file (that is what lets the conversation's members download it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from apps.common.errors import Code, DomainError
from apps.files.describe import file_describe
from apps.files.models import FileUse, StoredFile

MEDIA_CONTENT_TYPES = frozenset({102, 103, 104, 105})
_KIND_FOR = {102: "picture", 103: "voice", 104: "video"}


class MediaSend(Protocol):
    send_id: str
    content_type: int
    content: Any


def file_id_of(content_type: int, content: Any) -> str | None:
    if content_type in MEDIA_CONTENT_TYPES and isinstance(content, dict) and "file_id" in content:
        return content["file_id"] if isinstance(content["file_id"], str) else ""
    return None


def media_resolve(reqs: list[MediaSend]) -> list[DomainError | None]:
    """Check and enrich the sends that reference a file (one query for the whole batch);
    one result per request: None (fine, content enriched in place) or a 1001 error."""
    wanted = {fid for r in reqs if (fid := file_id_of(r.content_type, r.content))}
    out: list[DomainError | None] = [None] * len(reqs)
    if not any(file_id_of(r.content_type, r.content) is not None for r in reqs):
        return out
    files = {f.file_id: f for f in StoredFile.objects.filter(file_id__in=sorted(wanted))} if wanted else {}
    for i, r in enumerate(reqs):
        fid = file_id_of(r.content_type, r.content)
        if fid is None:
            continue
        f = files.get(fid)
        if f is None or f.owner_id != r.send_id:
            out[i] = DomainError(Code.BAD_ARGS, f"file {fid!r} does not exist or is not yours (upload it first)")
            continue
        want = _KIND_FOR.get(r.content_type)
        if want and f.kind != want:
            out[i] = DomainError(Code.BAD_ARGS, f"file {fid} is a {f.kind}, not a {want}")
            continue
        described = file_describe(f)
        enriched = {**r.content, **described}
        enriched.pop("content_type", None)  # the message has its own content_type; the file's is its mime type
        enriched["mime_type"] = f.content_type
        if r.content_type == 105:
            enriched.setdefault("file_name", f.name)
        r.content = enriched
    return out


def media_uses_record(messages: Sequence[Mapping[str, Any]]) -> None:
    """Inside the send transaction: one row per (file, stored message)."""
    rows = []
    for m in messages:
        fid = file_id_of(m["content_type"], m["content"])
        if fid:
            rows.append((fid, m))
    if not rows:
        return
    ids = dict(StoredFile.objects.filter(file_id__in={fid for fid, _ in rows}).values_list("file_id", "id"))
    FileUse.objects.bulk_create(
        [
            FileUse(file_id=ids[fid], conversation_id=m["conversation_id"], server_msg_id=m["server_msg_id"],
                    seq=m["seq"], send_id=m["send_id"], send_time=m["send_time"])
            for fid, m in rows
            if fid in ids
        ],
        ignore_conflicts=True,
    )
