"""The write path: seqs, idempotency, rules, notifications, the offline store."""

from __future__ import annotations

import pytest

from apps.common.errors import Code, DomainError
from apps.messaging import offline, services
from apps.messaging.models import Conversation, Message, OfflineMessage, UserConversation
from apps.messaging.services.send import SendRequest, messages_send

pytestmark = pytest.mark.django_db


def _text(text: str = "hi") -> dict:
    return {"content": text}


def test_first_send_creates_the_conversation_with_seq_1_and_both_user_rows(alice, bob):
    result = services.message_send(
        send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(), client_msg_id="c1"
    )
    assert result.ack["seq"] == 1
    assert result.ack["conversation_id"] == "si_alice_bob"
    conv = Conversation.objects.get(conversation_id="si_alice_bob")
    assert (conv.max_seq, conv.user_a, conv.user_b) == (1, "alice", "bob")
    rows = dict(UserConversation.objects.values_list("owner_id", "read_seq"))
    assert rows == {"alice": 1, "bob": 0}
    assert Message.objects.get().seq == 1
    assert OfflineMessage.objects.get().seq == 1


def test_seqs_are_consecutive_per_conversation_across_a_batch(alice, bob, make_user):
    carol = make_user("carol")
    reqs = [
        SendRequest(send_id="alice", session_type=1, recv_id="bob" if i % 2 else carol.user_id,
                    content_type=101, content=_text(str(i)), client_msg_id=f"m{i}")
        for i in range(10)
    ]
    results = messages_send(reqs)
    by_conv: dict[str, list[int]] = {}
    for r in results:
        by_conv.setdefault(r.ack["conversation_id"], []).append(r.ack["seq"])
    assert by_conv == {"si_alice_bob": [1, 2, 3, 4, 5], "si_alice_carol": [1, 2, 3, 4, 5]}


def test_a_failing_send_fails_alone_in_its_batch(alice, bob):
    reqs = [
        SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(), client_msg_id="a"),
        SendRequest(send_id="alice", session_type=1, recv_id="nobody", content_type=101, content=_text(), client_msg_id="b"),
        SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=101, content={"content": ""}, client_msg_id="c"),
        SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(), client_msg_id="d"),
    ]
    results = messages_send(reqs)
    assert results[0].ack["seq"] == 1
    assert isinstance(results[1], DomainError) and results[1].code == Code.USER_NOT_FOUND
    assert isinstance(results[2], DomainError) and results[2].code == Code.BAD_ARGS
    assert results[3].ack["seq"] == 2


def test_duplicate_client_msg_id_returns_the_original_and_stores_nothing(alice, bob):
    first = services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101,
                                  content=_text(), client_msg_id="same")
    again = services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101,
                                  content=_text("changed"), client_msg_id="same")
    assert again.duplicate and again.ack == first.ack
    in_batch = messages_send([
        SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(), client_msg_id="x"),
        SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(), client_msg_id="x"),
    ])
    assert in_batch[0].ack == in_batch[1].ack and in_batch[1].duplicate
    assert Message.objects.count() == 2
    assert Conversation.objects.get().max_seq == 2


def test_notification_send_runs_in_the_callers_transaction_and_takes_the_next_seq(alice, bob):
    services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text())
    msg = services.notification_send(send_id="bob", session_type=1, recv_id="alice", content_type=1201,
                                      content={"detail": "friend added"})
    assert msg["seq"] == 2 and msg["conversation_id"] == "si_alice_bob" and msg["content_type"] == 1201
    assert OfflineMessage.objects.filter(seq=2).exists()


def test_recipient_rejecting_messages_gets_1306(alice, bob):
    bob.global_recv_msg_opt = 1
    bob.save()
    with pytest.raises(DomainError) as err:
        services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text())
    assert err.value.code == Code.RECIPIENT_REJECTS


def test_offline_store_range_by_seqs_max_seq_and_purge():
    rows = [offline.OfflineRow("si_a_b", s, 1000 * s, f'{{"seq":{s}}}') for s in range(1, 6)]
    offline.append(rows)
    assert [s for s, _ in offline.range(conversation_id="si_a_b", from_seq=2, to_seq=4, limit=10)] == [2, 3, 4]
    assert [s for s, _ in offline.range(conversation_id="si_a_b", from_seq=1, to_seq=5, limit=2)] == [1, 2]
    assert [p for _, p in offline.by_seqs(conversation_id="si_a_b", seqs=[5, 1, 9])] == ['{"seq":1}', '{"seq":5}']
    assert offline.max_seq(conversation_id="si_a_b") == 5
    assert offline.purge_older_than(before_ms=3500, batch_size=2) == {"si_a_b": 3}
    assert [s for s, _ in offline.range(conversation_id="si_a_b", from_seq=1, to_seq=9, limit=10)] == [4, 5]


def test_a_duplicate_that_slips_past_the_lookup_falls_back_to_the_original(alice, bob, monkeypatch):
    """Two processes storing the same (send_id, client_msg_id) at once: the loser answers with the winner's ack."""
    from apps.messaging.services import send as store

    first = services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101,
                                  content=_text(), client_msg_id="race")
    real = store._existing
    calls = {"n": 0}

    def blind_first_lookup(keys):
        calls["n"] += 1
        return {} if calls["n"] == 1 else real(keys)

    monkeypatch.setattr(store, "_existing", blind_first_lookup)
    results = messages_send([
        SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(), client_msg_id="new"),
        SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(), client_msg_id="race"),
    ])
    assert results[0].ack["seq"] == 2 and not results[0].duplicate
    assert results[1].duplicate and results[1].ack["server_msg_id"] == first.ack["server_msg_id"]
    assert Conversation.objects.get().max_seq == 2  # the rolled-back batch gave its seqs back


def test_pull_skips_purged_seqs_and_a_fully_purged_range_is_1406(alice, bob):
    from apps.messaging import selectors

    for i in range(5):
        services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(str(i)))
    purged = offline.purge_older_than(before_ms=2**62)
    assert purged == {"si_alice_bob": 5}
    services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text("new"))
    Conversation.objects.filter(conversation_id="si_alice_bob").update(min_seq=6)  # what the purge task does
    result = selectors.messages_pull(user_id="bob", conversation_id="si_alice_bob", from_seq=1, to_seq=6)
    assert (len(result.messages), result.min_seq, result.is_end) == (1, 6, True)
    with pytest.raises(DomainError) as err:
        selectors.messages_pull(user_id="bob", conversation_id="si_alice_bob", from_seq=1, to_seq=5)
    assert err.value.code == Code.SEQ_PURGED and err.value.data == {"min_seq": 6}


@pytest.mark.django_db(transaction=True)  # the batcher's sends run outside any transaction
def test_a_database_error_in_the_one_by_one_fallback_fails_only_that_message(alice, bob, monkeypatch):
    """The fallback commits message by message: one that fails there must not turn the acks of the others into errors."""
    from django.db import OperationalError

    from apps.messaging.services import send as store

    services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(),
                          client_msg_id="race")
    real_existing, real_store = store._existing, store._store
    calls = {"n": 0}

    def blind_first_lookup(keys):
        calls["n"] += 1
        return {} if calls["n"] == 1 else real_existing(keys)

    def failing_store(reqs):
        if [r.client_msg_id for r in reqs] == ["boom"]:
            raise OperationalError(2013, "Lost connection to MySQL server during query")
        return real_store(reqs)

    monkeypatch.setattr(store, "_existing", blind_first_lookup)
    monkeypatch.setattr(store, "_store", failing_store)
    results = messages_send([
        SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=101, content=_text(), client_msg_id=c)
        for c in ("a", "race", "boom", "b")
    ])
    assert [results[0].ack["seq"], results[3].ack["seq"]] == [2, 3]
    assert results[1].duplicate
    assert isinstance(results[2], DomainError) and results[2].code == Code.INTERNAL
    assert list(Message.objects.order_by("seq").values_list("client_msg_id", flat=True)) == ["race", "a", "b"]
