"""Reads for files: who may download a file, its public description, signed links.

Access rule: the uploader, and every user who may read a conversation holding a message
that references the file (group members, including former members for what they could
read, and both users of a single chat). Anyone else is told 404, as for a file that
does not exist. A signed link (``?sig=``, ``django.core.signing``, valid
``IM_FILE_URL_TTL_SECONDS``) carries the access of the user it was made for, so a
browser can load it without an Authorization header.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from apps.common.errors import Code, DomainError
from apps.files.describe import file_url, thumbnail_url
from apps.files.models import StoredFile
from apps.messaging.selectors import conversation_for_user

_SALT = "im.files.link"


def _not_found(file_id: str) -> DomainError:
    return DomainError(Code.NOT_FOUND, f"file {file_id} not found")


def file_may_read(*, f: StoredFile, user_id: str) -> bool:
    if f.owner_id == user_id:
        return True
    first_seq: dict[str, int] = {}  # conversation -> the first message there that used the file
    for cid, seq in f.uses.values_list("conversation_id", "seq").order_by("seq")[:200]:
        first_seq.setdefault(cid, seq)
    for cid, seq in first_seq.items():
        try:
            conv, _role = conversation_for_user(user_id=user_id, conversation_id=cid, former=True)
        except DomainError:
            continue
        if seq <= conv.max_seq:  # a former group member: only files of messages they could read
            return True
    return False


def file_for_user(*, file_id: str, user_id: str) -> StoredFile:
    """The file if ``user_id`` may read it; 1004 otherwise (whether it exists or not)."""
    f = StoredFile.objects.filter(file_id=file_id).first()
    if f is None or not file_may_read(f=f, user_id=user_id):
        raise _not_found(file_id)
    return f


def file_signed_link(*, file_id: str, user_id: str, thumbnail: bool = False) -> str:
    sig = signing.TimestampSigner(salt=_SALT).sign(f"{file_id}:{user_id}")
    base = thumbnail_url(file_id) if thumbnail else file_url(file_id)
    return f"{base}?sig={sig}"


def file_for_signature(*, file_id: str, sig: str) -> StoredFile:
    """The file a signed link points at, if the link is genuine, unexpired and its user may still read it."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(sig, max_age=settings.IM_FILE_URL_TTL_SECONDS)
    except signing.BadSignature as exc:
        raise DomainError(Code.NO_PERMISSION, "the link is invalid or has expired") from exc
    signed_file_id, _, user_id = value.partition(":")
    if signed_file_id != file_id:
        raise DomainError(Code.NO_PERMISSION, "the link is for another file")
    return file_for_user(file_id=file_id, user_id=user_id)
