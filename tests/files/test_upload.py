"""POST /api/v1/files: sniffed types, pictures measured and thumbnailed, names sanitised, limits."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from apps.files.inspect import name_sanitise
from apps.files.models import StoredFile
from tests.files.conftest import png_bytes, upload

pytestmark = pytest.mark.django_db

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200


def test_a_picture_upload_answers_201_with_size_dimensions_and_a_thumbnail(alice_api, _files_dir):
    data = png_bytes(640, 480)
    r = upload(alice_api, data, claimed="text/plain")  # the client's claim is ignored
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["content_type"] == "image/png" and body["kind"] == "picture"
    assert (body["size"], body["width"], body["height"]) == (len(data), 640, 480)
    assert body["url"] == f"/api/v1/files/{body['file_id']}/content"
    assert body["thumbnail_url"] == f"/api/v1/files/{body['file_id']}/thumbnail"
    assert body["name"] == "photo.png"
    stored = StoredFile.objects.get(file_id=body["file_id"])
    assert (_files_dir / stored.storage_key).read_bytes() == data
    thumb = Image.open(io.BytesIO((_files_dir / stored.thumbnail_key).read_bytes()))
    assert max(thumb.size) <= 320 and thumb.size[0] > thumb.size[1]

    got = alice_api.get(body["thumbnail_url"])
    assert got.status_code == 200 and got["Content-Type"] in ("image/jpeg", "image/png")


def test_a_plain_file_gets_its_kind_from_the_bytes(alice_api):
    r = upload(alice_api, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", name="report.pdf", claimed="image/png")
    assert r.status_code == 201, r.content
    assert (r.json()["content_type"], r.json()["kind"]) == ("application/pdf", "file")
    assert "width" not in r.json() and "thumbnail_url" not in r.json()


def test_bytes_that_are_not_a_picture_are_refused_as_a_picture(alice_api):
    r = upload(alice_api, b"just some text pretending", name="x.png", kind="picture", claimed="image/png")
    assert r.status_code == 400
    assert r.json()["code"] == 1001 and "text/plain" in r.json()["msg"]
    assert not StoredFile.objects.exists()


def test_a_corrupt_picture_is_refused(alice_api):
    broken = png_bytes()[:60]  # PNG signature and header, no image data
    r = upload(alice_api, broken, kind="picture")
    assert r.status_code == 400 and r.json()["code"] == 1001


def test_a_type_outside_the_allowed_list_is_refused(alice_api):
    r = upload(alice_api, ELF, name="tool", claimed="application/pdf")
    assert r.status_code == 400
    assert r.json()["code"] == 1001 and "application/x-executable" in r.json()["msg"]


def test_the_allowed_list_is_a_setting(alice_api, settings):
    settings.IM_UPLOAD_ALLOWED_TYPES = ["image/*"]
    assert upload(alice_api, b"hello text", name="a.txt").status_code == 400
    assert upload(alice_api, png_bytes(8, 8)).status_code == 201


def test_an_unknown_kind_and_a_missing_file_are_1001(alice_api):
    assert upload(alice_api, png_bytes(), kind="sticker").json()["code"] == 1001
    r = alice_api.post("/api/v1/files", {"kind": "file"}, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == 1001


def test_an_oversized_upload_is_413_json(alice_api, settings):
    settings.IM_UPLOAD_MAX_BYTES = 1000
    r = upload(alice_api, b"a" * 1001, name="big.txt")
    assert r.status_code == 413
    assert r.json()["code"] == 1701
    assert not StoredFile.objects.exists()


def test_a_declared_length_past_the_limit_is_refused_before_parsing(alice_api, settings):
    settings.IM_UPLOAD_MAX_BYTES = 1000
    r = upload(alice_api, b"a" * 200_000, name="big.txt")
    assert r.status_code == 413 and r.json()["code"] == 1701


def test_uploading_needs_a_token(client):
    r = client.post("/api/v1/files", {})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\evil.exe", "evil.exe"),
        ("a\x00b\r\nc.txt", "abc.txt"),
        ("<script>.html", "script_.html"),
        ("...", "file"),
        ("", "file"),
        ("résumé 2024.pdf", "résumé 2024.pdf"),
        ("x" * 300 + ".txt", "x" * 251 + ".txt"),
    ],
)
def test_file_names_are_sanitised(given, expected):
    assert name_sanitise(given) == expected


def test_the_stored_name_is_sanitised(alice_api):
    r = upload(alice_api, b"hello", name="../../secret/notes.txt")
    assert r.status_code == 201 and r.json()["name"] == "notes.txt"


def _wav(frames: int = 800) -> bytes:
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * frames)
    return out.getvalue()


def test_audio_is_a_voice_and_cannot_pass_as_a_video_or_picture(alice_api):
    r = upload(alice_api, _wav(), name="note.wav", kind="voice", claimed="application/octet-stream")
    assert r.status_code == 201, r.content
    assert r.json()["kind"] == "voice" and r.json()["content_type"].startswith("audio/")
    assert upload(alice_api, _wav(), name="v.mp4", kind="video").json()["code"] == 1001
    assert upload(alice_api, _wav(), name="p.png", kind="picture").json()["code"] == 1001
