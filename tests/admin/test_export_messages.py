from __future__ import annotations

import json
import tracemalloc
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.console.exporting import read_messages_export
from apps.messaging.models import Message
from tests.admin.factories import bulk_messages

pytestmark = pytest.mark.django_db
DAY_MS = 24 * 3600 * 1000


def _export(*args: str) -> str:
    out = StringIO()
    call_command("export_messages", *args, "--no-progress", stdout=out)
    return out.getvalue()


def _stored(cid: str | None = None) -> list[tuple]:
    qs = Message.objects.order_by("id")
    if cid:
        qs = qs.filter(conversation_id=cid)
    return list(qs.values_list("server_msg_id", "seq", "content"))


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_round_trips_ids_seqs_and_contents(fmt, tmp_path):
    bulk_messages(2000)
    path = tmp_path / f"out.{fmt}"
    call_command("export_messages", "-o", str(path), "--chunk-size", "300", "--no-progress")
    with path.open(encoding="utf-8", newline="") as fh:
        parsed = list(read_messages_export(fh, fmt))
    assert [(m["server_msg_id"], m["seq"], m["content"]) for m in parsed] == _stored()
    assert len(parsed) == 2000


def test_export_filters_by_conversation_user_group_and_time(tmp_path):
    start = 1_700_000_000_000
    cid_ab = bulk_messages(10, start_ms=start, step_ms=DAY_MS)
    bulk_messages(5, a="carol", b="dave", start_ms=start)
    Message.objects.filter(conversation_id=cid_ab, seq__lte=3).update(group_id="g1")
    assert len(_export("--conversation", cid_ab).splitlines()) == 10
    assert len(_export("--user", "carol").splitlines()) == 3  # carol sends the odd seqs
    assert len(_export("--group", "g1").splitlines()) == 3
    assert len(_export("--participant", "carol").splitlines()) == 5  # sent by carol or to her
    since = str(start + 3 * DAY_MS)
    until = str(start + 6 * DAY_MS)
    rows = [json.loads(line) for line in _export("--conversation", cid_ab, "--since", since, "--until", until).splitlines()]
    assert [r["seq"] for r in rows] == [3, 4, 5]
    assert _export("--since", "2000-01-01", "--until", "2000-01-02") == ""
    csv_text = _export("--conversation", cid_ab, "--format", "csv")
    assert csv_text.splitlines()[0].startswith("server_msg_id,client_msg_id,conversation_id,seq")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last tuesday"], "is not a date"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "--since must be before --until"),
        (["--chunk-size", "0"], "--chunk-size"),
        (["-o", "/nonexistent-dir/x.jsonl"], "cannot write"),
    ],
)
def test_bad_arguments_give_a_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_messages", *args, "--no-progress", stdout=StringIO())


def test_unknown_format_is_refused_by_the_parser():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("export_messages", "--format", "xml", stdout=StringIO())


def test_help_text_names_the_filters(capsys):
    from django.core.management import load_command_class

    cmd = load_command_class("apps.messaging", "export_messages")
    text = cmd.create_parser("manage.py", "export_messages").format_help()
    for option in ("--conversation", "--user", "--group", "--since", "--until", "--format", "--output"):
        assert option in text


def test_progress_goes_to_stderr_not_into_the_export(tmp_path):
    bulk_messages(50)
    out, err = StringIO(), StringIO()
    import sys

    real = sys.stderr
    sys.stderr = err
    try:
        call_command("export_messages", stdout=out)
    finally:
        sys.stderr = real
    assert "export_messages" in err.getvalue() and "50/50" in err.getvalue()
    assert all(line.startswith("{") for line in out.getvalue().splitlines())


def _peak_bytes(rows: int, tmp_path) -> int:
    Message.objects.all().delete()
    bulk_messages(rows)
    tracemalloc.start()
    try:
        call_command("export_messages", "-o", str(tmp_path / f"m{rows}.jsonl"), "--chunk-size", "200", "--no-progress")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_export_memory_does_not_grow_with_the_number_of_rows(tmp_path):
    small = _peak_bytes(500, tmp_path)
    large = _peak_bytes(2500, tmp_path)
    print(f"export peak traced memory: 500 rows {small / 1024:.0f} KiB, 2500 rows {large / 1024:.0f} KiB")
    assert large < small * 1.5 + 256 * 1024
