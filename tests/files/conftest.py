"""Files tests: each test stores its uploads in its own directory."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.admin.conftest import su_client, superuser  # noqa: F401 - fixtures shared with the admin tests
from tests.messaging.conftest import tokens  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def _files_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "im_files": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                     "OPTIONS": {"location": str(tmp_path / "files")}},
    }
    return tmp_path / "files"


def png_bytes(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def upload(api, data: bytes, name: str = "photo.png", kind: str | None = None, claimed: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = {"file": SimpleUploadedFile(name, data, content_type=claimed)}
    if kind:
        form["kind"] = kind
    return api.post("/api/v1/files", form, format="multipart")
