"""Per-content-type validation of message content (DESIGN §3 content types)."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings

from apps.common.errors import Code, DomainError
from apps.messaging.models import ContentType

# content types an ordinary user may send
USER_CONTENT_TYPES = frozenset({101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 114, 115})
# notification ranges (friend 1201-1210, group 1501-1520, revoke 2101, read receipt 2200, custom 1400-1499)
_NOTIFICATION_RANGES = ((1200, 1299), (1400, 1599), (2100, 2299))

_URL_KEYS = ("url", "source_url", "sourceUrl", "video_url", "videoUrl")


def is_notification_type(content_type: int) -> bool:
    return any(lo <= content_type <= hi for lo, hi in _NOTIFICATION_RANGES)


def _bad(msg: str) -> DomainError:
    return DomainError(Code.BAD_ARGS, msg)


def _nonempty_str(content: dict[str, Any], key: str, *, max_chars: int | None = None) -> str:
    value = content.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"content.{key} must be a non-empty string")
    limit = max_chars or settings.IM_TEXT_MAX_CHARS
    if len(value) > limit:
        raise _bad(f"content.{key} is longer than {limit} characters")
    return value


def _has_url(content: dict[str, Any]) -> bool:
    for key in _URL_KEYS:
        if isinstance(content.get(key), str) and content[key]:
            return True
    for nested in ("source_picture", "sourcePicture", "big_picture", "snapshot_picture"):
        value = content.get(nested)
        if isinstance(value, dict) and isinstance(value.get("url"), str) and value["url"]:
            return True
    return False


def _media(content: dict[str, Any], what: str) -> None:
    if "file_id" in content:  # an uploaded file: checked and filled in by apps.files.media before the write
        if not isinstance(content["file_id"], str) or not 1 <= len(content["file_id"]) <= 64:
            raise _bad("content.file_id must be the file_id of an upload (POST /api/v1/files)")
        return
    if not _has_url(content):
        raise _bad(f"{what} content needs a non-empty url (url, source_url or source_picture.url) or a file_id")


def _number(content: dict[str, Any], key: str, lo: float, hi: float) -> None:
    value = content.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise _bad(f"content.{key} must be a number between {lo} and {hi}")


def _id_list(content: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if key in content:
            value = content[key]
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or len(value) > 1000:
                raise _bad(f"content.{key} must be a list of user ids")


def content_validate(*, content_type: int, content: Any, allow_notifications: bool = False) -> None:
    """Raise 1001 with a readable message unless ``content`` fits ``content_type``."""
    if isinstance(content_type, bool) or not isinstance(content_type, int):
        raise _bad("content_type must be an integer")
    if not isinstance(content, dict):
        raise _bad("content must be a JSON object")
    try:
        size = len(orjson.dumps(content))
    except orjson.JSONEncodeError as exc:  # lone surrogates, integers beyond 64 bits, nesting too deep
        raise _bad(f"content cannot be stored as JSON: {exc}") from exc
    if size > settings.IM_CONTENT_MAX_BYTES:
        raise _bad(f"content is {size} bytes; the limit is {settings.IM_CONTENT_MAX_BYTES}")
    if content_type not in USER_CONTENT_TYPES:
        if allow_notifications and is_notification_type(content_type):
            return
        raise _bad(f"content_type {content_type} cannot be sent; use one of {sorted(USER_CONTENT_TYPES)}")
    if content_type == ContentType.TEXT:
        _nonempty_str(content, "content")
    elif content_type == ContentType.PICTURE:
        _media(content, "picture")
    elif content_type == ContentType.VOICE:
        _media(content, "voice")
    elif content_type == ContentType.VIDEO:
        _media(content, "video")
    elif content_type == ContentType.FILE:
        _media(content, "file")
        if "file_id" not in content or "file_name" in content:
            _nonempty_str(content, "file_name", max_chars=255)
    elif content_type == ContentType.AT_TEXT:
        _nonempty_str(content, "text")
        _id_list(content, "at_user_ids", "atUserList")
    elif content_type == ContentType.MERGED:
        if not isinstance(content.get("messages", content.get("multiMessage")), list):
            raise _bad("merged content needs a messages list")
    elif content_type == ContentType.CARD:
        _nonempty_str(content, "user_id", max_chars=64)
    elif content_type == ContentType.LOCATION:
        _number(content, "latitude", -90, 90)
        _number(content, "longitude", -180, 180)
    elif content_type == ContentType.CUSTOM:
        if "data" not in content:
            raise _bad("custom content needs a data field")
    elif content_type == ContentType.QUOTE:
        _nonempty_str(content, "text")
        if not isinstance(content.get("quote_message"), dict):
            raise _bad("content.quote_message must be an object (the quoted message)")
    elif content_type == ContentType.FACE:
        if not isinstance(content.get("index"), int) and not isinstance(content.get("data"), str):
            raise _bad("face content needs an integer index or a data string")
