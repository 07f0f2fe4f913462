"""What an upload really is: the type sniffed from its bytes, a safe name, picture sizes, a thumbnail.

The client's declared content type and file name are never trusted: the type comes from
the file's magic bytes (``filetype``), pictures must also open in Pillow, and the name is
reduced to a plain file name of safe characters.
"""

from __future__ import annotations

import fnmatch
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import IO

import filetype
from PIL import Image, UnidentifiedImageError

from apps.common.errors import Code, DomainError

PICTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
SNIFF_BYTES = 8192
_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,@]+", re.UNICODE)


def name_sanitise(name: str | None, *, fallback: str = "file") -> str:
    """A plain file name: no directories, no control or shell-special characters, at most 255 bytes."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" ._")
    while len(name.encode()) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:-1] + dot + ext) if dot and len(ext) < 16 and stem else name[:-1]
    return name or fallback


def sniff(head: bytes) -> str:
    """The MIME type of a file from its first bytes; ``application/octet-stream`` when unknown,
    ``text/plain`` for UTF-8 text."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the end of the sample
        if exc.start < len(head) - 4:
            return "application/octet-stream"
        text = head[: exc.start].decode("utf-8")
    if "\x00" not in text:
        return "text/plain"
    return "application/octet-stream"


def type_allowed(mime: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(mime, p) for p in patterns)


def kind_of(mime: str) -> str:
    if mime in PICTURE_TYPES:
        return "picture"
    if mime.startswith("audio/"):
        return "voice"
    if mime.startswith("video/"):
        return "video"
    return "file"


def kind_check(kind: str, mime: str) -> None:
    """Refuse (1001) a declared kind the bytes do not match."""
    ok = {
        "picture": mime in PICTURE_TYPES,
        "voice": mime.startswith("audio/"),
        "video": mime.startswith("video/"),
        "file": True,
    }.get(kind)
    if ok is None:
        raise DomainError(Code.BAD_ARGS, "kind must be one of picture, voice, video, file")
    if not ok:
        raise DomainError(Code.BAD_ARGS, f"the file is {mime}, not a {kind}")


@dataclass
class Picture:
    width: int
    height: int
    thumbnail: bytes  # JPEG or PNG
    thumbnail_type: str


def picture_inspect(fh: IO[bytes], *, thumb_px: int, max_pixels: int) -> Picture:
    """Sizes and a thumbnail of a picture; 1001 when it does not decode or is too large."""
    fh.seek(0)
    try:
        with Image.open(fh) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise DomainError(Code.BAD_ARGS, f"picture is {width}x{height}; at most {max_pixels} pixels")
            img.draft("RGB", (thumb_px, thumb_px))  # JPEG: decode at a reduced scale
            img.thumbnail((thumb_px, thumb_px))
            has_alpha = img.mode in ("RGBA", "LA", "P")
            out = io.BytesIO()
            if has_alpha:
                img.convert("RGBA").save(out, "PNG", optimize=True)
                return Picture(width, height, out.getvalue(), "image/png")
            img.convert("RGB").save(out, "JPEG", quality=80)
            return Picture(width, height, out.getvalue(), "image/jpeg")
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DomainError(Code.BAD_ARGS, f"picture cannot be decoded: {exc}") from exc
    finally:
        fh.seek(0)
