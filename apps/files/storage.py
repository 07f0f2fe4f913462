"""The files storage: Django's storage API, alias ``im_files`` in ``STORAGES``.

Filesystem under ``IM_FILES_DIR`` by default; an S3-compatible bucket through
django-storages when ``IM_FILES_S3_BUCKET`` is set (settings.py builds the alias).
"""

from __future__ import annotations

from django.core.files.storage import Storage, storages

ALIAS = "im_files"


def files_storage() -> Storage:
    return storages[ALIAS]


def original_key(file_id: str) -> str:
    return f"{file_id[:2]}/{file_id}"


def thumbnail_key(file_id: str) -> str:
    return f"{file_id[:2]}/{file_id}.thumb"
