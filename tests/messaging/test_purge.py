"""Retention purge of the offline store, with controlled time (time-machine)."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditLog
from apps.common.errors import Code, DomainError
from apps.messaging import retention, selectors, services, tasks
from apps.messaging.models import Conversation, Message, OfflineMessage

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
CID = "si_alice_bob"


def _send(n: int, start: int = 0, sender: str = "alice", recv: str = "bob") -> None:
    for i in range(start, start + n):
        services.message_send(
            send_id=sender, recv_id=recv, session_type=1, content_type=101, client_msg_id=f"{sender}-{recv}-{i}",
            content={"content": f"m{i}"},
        )


@pytest.fixture
def old_and_new(alice, bob, make_user):
    """20 days ago: 7 alice→bob and 3 alice→carol; 1 day ago: 3 more alice→bob (seqs 8-10)."""
    make_user("carol")
    with time_machine.travel(NOW - dt.timedelta(days=20), tick=False):
        _send(7)
        _send(3, sender="alice", recv="carol")
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        _send(3, start=7)


def _purge(**kw):
    with time_machine.travel(NOW, tick=False):
        return retention.offline_purge(**kw)


def test_rows_older_than_retention_leave_the_offline_store_in_batches(old_and_new, settings):
    settings.IM_OFFLINE_RETENTION_DAYS = 14
    result = _purge(batch_size=4)
    assert result.rows_deleted == 10 and result.batches == 3 and not result.dry_run
    assert result.conversations_advanced == 2
    assert result.cutoff_ms == int((NOW - dt.timedelta(days=14)).timestamp() * 1000)
    assert sorted(OfflineMessage.objects.filter(conversation_id=CID).values_list("seq", flat=True)) == [8, 9, 10]
    assert not OfflineMessage.objects.filter(conversation_id="si_alice_carol").exists()
    assert Conversation.objects.get(conversation_id=CID).min_seq == 8
    assert Conversation.objects.get(conversation_id="si_alice_carol").min_seq == 4
    # history keeps everything
    assert Message.objects.filter(conversation_id=CID).count() == 10
    assert Message.objects.filter(conversation_id="si_alice_carol").count() == 3


def test_each_batch_is_its_own_transaction(old_and_new):
    with CaptureQueriesContext(connection) as ctx:
        _purge(batch_size=4)
    sql = [q["sql"].upper() for q in ctx.captured_queries]
    begins = [s for s in sql if s.startswith(("SAVEPOINT", "BEGIN"))]
    assert len(begins) >= 3  # one atomic block per batch (savepoints inside the test's transaction)


def test_second_run_finds_nothing_and_min_seq_never_goes_back(old_and_new):
    _purge()
    again = _purge()
    assert again.rows_deleted == 0 and again.conversations_advanced == 0 and again.batches == 0
    assert Conversation.objects.get(conversation_id=CID).min_seq == 8


def test_pull_below_min_seq_is_told_1406_and_history_still_serves_it(old_and_new, alice_api):
    _purge()
    with pytest.raises(DomainError) as err:
        selectors.messages_pull(user_id="bob", conversation_id=CID, from_seq=1, to_seq=7)
    assert err.value.code == Code.SEQ_PURGED and err.value.data == {"min_seq": 8}
    # a range reaching into what is kept starts at min_seq, and says min_seq
    kept = selectors.messages_pull(user_id="bob", conversation_id=CID, from_seq=1, to_seq=10)
    assert [orjson.loads(orjson.dumps(m))["seq"] for m in kept.messages] == [8, 9, 10]
    assert kept.min_seq == 8 and kept.is_end
    # by seq list: purged seqs are dropped (not returned as "deleted"); all purged → 1406
    by_list = selectors.messages_pull(user_id="bob", conversation_id=CID, seqs=[2, 8, 9])
    assert [orjson.loads(orjson.dumps(m))["seq"] for m in by_list.messages] == [8, 9]
    with pytest.raises(DomainError) as err:
        selectors.messages_pull(user_id="bob", conversation_id=CID, seqs=[1, 2])
    assert err.value.code == Code.SEQ_PURGED and err.value.data == {"min_seq": 8}
    # seq.newest tells clients where the offline store starts
    assert selectors.seq_newest(user_id="bob")[CID]["min_seq"] == 8
    # REST history still has seqs 1-7
    resp = alice_api.get(f"/api/v1/conversations/{CID}/messages", {"from_seq": 1, "to_seq": 7})
    assert resp.status_code == 200, resp.content
    assert [m["seq"] for m in resp.json()["messages"]] == [1, 2, 3, 4, 5, 6, 7]
    assert resp.json()["messages"][0]["content"] == {"content": "m0"}


def test_a_run_writes_one_audit_row_the_dashboard_reads(old_and_new):
    _purge(actor="opsadmin")
    rows = list(AuditLog.objects.filter(action="offline.purge"))
    assert len(rows) == 1
    row = rows[0]
    assert row.actor == "opsadmin"
    assert row.details["rows_deleted"] == 10 and row.details["conversations_advanced"] == 2
    assert row.details["cutoff_ms"] == int((NOW - dt.timedelta(days=14)).timestamp() * 1000)
    _purge()
    assert AuditLog.objects.filter(action="offline.purge").count() == 2  # one per run, even an empty one


def test_dry_run_counts_and_changes_nothing(old_and_new):
    result = _purge(dry_run=True)
    assert result.dry_run and result.rows_deleted == 10 and result.conversations_advanced == 2
    assert OfflineMessage.objects.count() == 13
    assert Conversation.objects.get(conversation_id=CID).min_seq == 0
    assert not AuditLog.objects.filter(action="offline.purge").exists()


def test_older_than_overrides_the_retention(old_and_new):
    result = _purge(older_than_days=0)
    assert result.rows_deleted == 13
    assert Conversation.objects.get(conversation_id=CID).min_seq == 11
    with pytest.raises(DomainError) as err:
        _purge(older_than_days=-1)
    assert err.value.code == Code.BAD_ARGS


def test_management_command_dry_run_and_real_run(old_and_new, capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("purge_offline", "--dry-run")
        assert "would delete 10 offline rows older than 14 days" in capsys.readouterr().out
        assert OfflineMessage.objects.count() == 13
        call_command("purge_offline", "--older-than", "30")
        assert "deleted 0 offline rows" in capsys.readouterr().out
        call_command("purge_offline", "--batch-size", "2")
        out = capsys.readouterr().out
    assert "deleted 10 offline rows" in out and "2 conversations advanced" in out and "5 batches" in out
    assert AuditLog.objects.filter(action="offline.purge").first().details["source"] == "command"


def test_command_rejects_bad_arguments(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("purge_offline", "--older-than", "-3")
    with pytest.raises(CommandError):
        call_command("purge_offline", "--batch-size", "0")


def test_beat_task_runs_the_same_purge_and_is_scheduled(old_and_new, settings):
    assert settings.CELERY_BEAT_SCHEDULE["offline-purge"]["task"] == tasks.purge_offline.name
    assert settings.CELERY_BEAT_SCHEDULE["offline-purge"]["schedule"] == settings.IM_OFFLINE_PURGE_INTERVAL_SECONDS
    with time_machine.travel(NOW, tick=False):
        out = tasks.purge_offline.delay().get()
    assert out["rows_deleted"] == 10 and out["conversations_advanced"] == 2
    assert AuditLog.objects.filter(action="offline.purge").first().details["source"] == "task"


def test_sending_after_a_purge_continues_the_seq(old_and_new):
    _purge()
    with time_machine.travel(NOW, tick=False):
        _send(1, start=100)
    conv = Conversation.objects.get(conversation_id=CID)
    assert conv.max_seq == 11 and conv.min_seq == 8
    pulled = selectors.messages_pull(user_id="bob", conversation_id=CID, from_seq=8, to_seq=11)
    assert len(pulled.messages) == 4 and pulled.is_end


def test_a_batch_advances_min_seq_with_the_same_statements_for_any_number_of_conversations(
    alice, make_user, django_assert_num_queries, settings
):
    settings.IM_SEND_RATE_PER_SECOND = 0
    peers = [make_user(f"p{i}").user_id for i in range(12)]
    for peer in peers:
        _send(2, sender="alice", recv=peer)
    purged = {f"si_alice_{peer}": 1 for peer in peers}
    purged["si_alice_p0"] = 2
    Conversation.objects.filter(conversation_id="si_alice_p1").update(min_seq=5)  # never lowered
    # one locking read, one UPDATE … CASE
    with django_assert_num_queries(2):
        advanced = retention._advance_min_seqs(purged)
    assert advanced == set(purged) - {"si_alice_p1"}
    mins = dict(Conversation.objects.filter(conversation_id__in=purged).values_list("conversation_id", "min_seq"))
    assert (mins["si_alice_p0"], mins["si_alice_p1"], mins["si_alice_p2"]) == (3, 5, 2)
