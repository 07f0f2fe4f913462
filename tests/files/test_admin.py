"""Operators see files (who, size, type, which messages) and delete them, audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.audit.models import AuditLog
from apps.files.models import StoredFile
from tests.admin.conftest import OPERATOR_IP, action_post
from tests.files.conftest import png_bytes, upload

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:files_storedfile_changelist")


@pytest.fixture
def shared(alice_api, bob) -> StoredFile:
    body = upload(alice_api, png_bytes(20, 20), name="cat.png").json()
    r = alice_api.post("/api/v1/messages", {"session_type": 1, "recv_id": "bob", "content_type": 102,
                                            "content": {"file_id": body["file_id"]}}, format="json")
    assert r.status_code == 200
    return StoredFile.objects.get(file_id=body["file_id"])


def test_the_list_shows_uploader_size_type_and_message_count(su_client, shared):
    page = su_client.get(CHANGELIST).content.decode()
    assert shared.file_id in page and "alice" in page and "image/png" in page and str(shared.size) in page
    detail = su_client.get(reverse("admin:files_storedfile_change", args=[shared.pk])).content.decode()
    assert "si_alice_bob" in detail  # which messages use it


def test_an_operator_deletes_a_file_and_it_is_audited_and_gone(
    su_client, shared, _files_dir, bob_api, django_capture_on_commit_callbacks
):
    key = shared.storage_key
    assert (_files_dir / key).exists()
    with django_capture_on_commit_callbacks(execute=True):
        action_post(su_client, CHANGELIST, "delete_files", [shared.pk], reason="copyright")
    assert not StoredFile.objects.exists()
    assert not (_files_dir / key).exists()
    row = AuditLog.objects.get(action="file.delete")
    assert (row.actor, row.target_id, row.ip) == ("root", shared.file_id, OPERATOR_IP)
    assert row.details["reason"] == "copyright" and row.details["owner_id"] == "alice"
    assert len(row.details["messages"]) == 1
    assert bob_api.get(f"/api/v1/files/{shared.file_id}/content").status_code == 404
