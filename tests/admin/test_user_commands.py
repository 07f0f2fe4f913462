from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import User
from apps.audit.models import AuditLog
from apps.groups import services as group_services
from apps.relations import services as rel
from tests.admin.factories import send_text

pytestmark = pytest.mark.django_db


def _import(path, *args: str) -> str:
    out = StringIO()
    call_command("import_users", str(path), "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_import_jsonl_registers_users_and_is_idempotent(tmp_path):
    path = tmp_path / "users.jsonl"
    path.write_text(
        '{"user_id": "u1", "nickname": "One", "ex": {"tier": 1}}\n\n{"user_id": "u2"}\n{"user_id": "u1"}\n'
    )
    assert _import(path).strip() == "created 2, updated 0, skipped 1"
    assert User.objects.get(user_id="u1").ex == {"tier": 1}
    assert AuditLog.objects.filter(action="user.register").count() == 2
    assert _import(path).strip() == "created 0, updated 0, skipped 3"
    assert User.objects.filter(user_id__in=["u1", "u2"]).count() == 2


def test_import_csv_with_update(tmp_path, make_user):
    make_user("u1", nickname="Old")
    path = tmp_path / "users.csv"
    path.write_text('user_id,nickname,face_url,ex\nu1,New,,\nu3,Three,http://x/a.png,"{""a"": 1}"\n')
    assert _import(path, "--update", "--batch-size", "1").strip() == "created 1, updated 1, skipped 0"
    assert User.objects.get(user_id="u1").nickname == "New"
    assert User.objects.get(user_id="u3").ex == {"a": 1}


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ('{"user_id": "bad:id"}\n', "a.jsonl", "line 1: user_id"),
        ('{"user_id": "ok"}\n{"nick": "x", "user_id": "b"}\n', "a.jsonl", "line 2: unknown field"),
        ("not json\n", "a.jsonl", "line 1: not JSON"),
        ("nickname\nx\n", "a.csv", "must name a user_id column"),
        ('{"user_id": "u", "ex": [1]}\n', "a.jsonl", "ex must be a JSON object"),
        ("user_id,nickname\nalice,Alice,extra\n", "a.csv", "line 2: more cells than the header"),
    ],
)
def test_import_bad_input_says_which_line(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        _import(path)


def test_import_a_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "users.jsonl"
    path.write_bytes(b'{"user_id": "a"}\n\xff\xfe\x00\n')
    with pytest.raises(CommandError, match="is not UTF-8 text"):
        _import(path)


def test_import_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match="cannot read"):
        _import("/nonexistent/users.jsonl")


def test_export_user_writes_one_json_document(alice, bob, admin_user, tmp_path):
    rel.friends_import(owner_id="alice", friend_ids=["bob"], actor=admin_user)
    rel.black_add(owner=alice, user_id="imAdmin")
    group_services.group_create(owner=alice, name="Book club", member_ids=["bob"], admin_ids=[], group_id="books")
    send_text(alice, to=bob, text="hello bob")
    send_text(alice, group_id="books", text="hello club")
    send_text(bob, to=alice, text="bob's own message")
    path = tmp_path / "alice.json"
    call_command("export_user", "alice", "-o", str(path), "--no-progress")
    doc = json.loads(path.read_text())
    assert doc["format"] == "imserver.user_export.v1"
    assert doc["profile"]["user_id"] == "alice" and "password" not in doc["profile"]
    assert [f["friend_id"] for f in doc["friends"]] == ["bob"]
    assert [b["blocked_id"] for b in doc["blacklist"]] == ["imAdmin"]
    assert [g["group_id"] for g in doc["group_memberships"]] == ["books"]
    texts = [m["content"].get("content") for m in doc["messages"] if m["content_type"] == 101]
    assert texts == ["hello bob", "hello club"]
    assert all(m["send_id"] == "alice" for m in doc["messages"])


def test_export_user_to_stdout_and_unknown_user():
    out = StringIO()
    User.objects.create_user("solo")
    call_command("export_user", "solo", "--no-progress", stdout=out)
    assert json.loads(out.getvalue())["messages"] == []
    with pytest.raises(CommandError, match="not found"):
        call_command("export_user", "nobody", stdout=StringIO())
