"""How a file is described to clients (the API and media message content); no access rules here."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.files.models import StoredFile

__all__ = ["file_describe", "file_url", "thumbnail_url"]


def file_url(file_id: str) -> str:
    return f"{settings.IM_FILES_URL_BASE}/api/v1/files/{file_id}/content"


def thumbnail_url(file_id: str) -> str:
    return f"{settings.IM_FILES_URL_BASE}/api/v1/files/{file_id}/thumbnail"


def file_describe(f: StoredFile) -> dict[str, Any]:
    """The fields a client needs to render a file (also merged into media message content)."""
    out: dict[str, Any] = {
        "file_id": f.file_id,
        "url": file_url(f.file_id),
        "name": f.name,
        "size": f.size,
        "content_type": f.content_type,
        "kind": f.kind,
    }
    if f.width is not None:
        out["width"], out["height"] = f.width, f.height
    if f.thumbnail_key:
        out["thumbnail_url"] = thumbnail_url(f.file_id)
    return out
