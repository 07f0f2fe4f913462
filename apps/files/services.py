"""Writes for files: upload and operator delete."""

from __future__ import annotations

import hashlib
import uuid
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction

from apps.audit.services import audit_record
from apps.common.errors import Code, DomainError
from apps.common.sideeffects import on_commit
from apps.files import inspect
from apps.files.models import FileKind, StoredFile
from apps.files.storage import files_storage, original_key, thumbnail_key


def _sha256(fh: IO[bytes]) -> str:
    fh.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: fh.read(1 << 16), b""):
        digest.update(chunk)
    fh.seek(0)
    return digest.hexdigest()


def file_upload(*, owner_id: str, fh: IO[bytes], size: int, client_name: str | None, kind: str | None = None) -> StoredFile:
    """Store an uploaded file of ``owner_id``: sniff its type, check it against the declared
    ``kind`` and ``IM_UPLOAD_ALLOWED_TYPES``, measure pictures and make their thumbnails."""
    if size <= 0:
        raise DomainError(Code.BAD_ARGS, "the file is empty")
    if size > settings.IM_UPLOAD_MAX_BYTES:
        raise DomainError(Code.FILE_TOO_LARGE, f"the file is larger than {settings.IM_UPLOAD_MAX_BYTES} bytes")
    fh.seek(0)
    mime = inspect.sniff(fh.read(inspect.SNIFF_BYTES))
    fh.seek(0)
    if kind:
        inspect.kind_check(kind, mime)
    else:
        kind = inspect.kind_of(mime)
    if not inspect.type_allowed(mime, settings.IM_UPLOAD_ALLOWED_TYPES):
        raise DomainError(Code.BAD_ARGS, f"files of type {mime} are not accepted")
    picture = None
    if kind == FileKind.PICTURE:
        picture = inspect.picture_inspect(
            fh, thumb_px=settings.IM_THUMBNAIL_PX, max_pixels=settings.IM_PICTURE_MAX_PIXELS
        )
    file_id = uuid.uuid4().hex
    storage = files_storage()
    key = storage.save(original_key(file_id), File(fh))
    thumb = ""
    if picture is not None:
        thumb = storage.save(thumbnail_key(file_id), ContentFile(picture.thumbnail))
    try:
        return StoredFile.objects.create(
            file_id=file_id,
            owner_id=owner_id,
            kind=kind,
            name=inspect.name_sanitise(client_name, fallback=f"{kind}-{file_id[:8]}"),
            size=size,
            content_type=mime,
            sha256=_sha256(fh),
            storage_key=key,
            thumbnail_key=thumb,
            width=picture.width if picture else None,
            height=picture.height if picture else None,
        )
    except Exception:
        _blobs_delete([key, thumb])
        raise


def _blobs_delete(keys: list[str]) -> None:
    storage = files_storage()
    for key in keys:
        if key:
            storage.delete(key)


@transaction.atomic
def file_delete(*, file_id: str, actor: str | None, reason: str = "", ip: str | None = None) -> None:
    """Delete a file and its bytes (operators). Messages that used it keep their content;
    its URLs answer 404 from then on."""
    f = StoredFile.objects.select_for_update().filter(file_id=file_id).first()
    if f is None:
        raise DomainError(Code.NOT_FOUND, f"file {file_id} not found")
    uses = list(f.uses.values_list("server_msg_id", flat=True)[:100])
    audit_record(
        actor=actor,
        action="file.delete",
        target_type="file",
        target_id=f.file_id,
        details={"owner_id": f.owner_id, "name": f.name, "size": f.size, "content_type": f.content_type,
                 "reason": reason, "messages": uses},
        ip=ip,
    )
    keys = [f.storage_key, f.thumbnail_key]
    f.delete()
    on_commit(lambda: _blobs_delete(keys))
