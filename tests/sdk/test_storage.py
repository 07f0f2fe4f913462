"""The storage layer alone: idempotent inserts, gaps held back until filled, sticky revokes."""

from __future__ import annotations

import pytest
from imclient import Backoff, Message, Store, StoreError

CID = "si_alice_bob"


def msg(seq: int, text: str = "", status: int = 2, **kw) -> Message:
    if status == 4:
        return Message(conversation_id=CID, seq=seq, status=4)
    return Message(conversation_id=CID, seq=seq, server_msg_id=f"s{seq}", client_msg_id=f"c{seq}", send_id="alice",
                   recv_id="bob", session_type=1, content_type=101, content={"content": text or f"m{seq}"},
                   send_time=1000 + seq, status=status, **kw)


@pytest.fixture
def store() -> Store:
    s = Store()
    s.bind_user("bob")
    return s


def test_the_same_message_twice_is_stored_once(store):
    assert [m.seq for m in store.put_messages([msg(1), msg(2)])] == [1, 2]
    assert store.put_messages([msg(1), msg(2)]) == []
    assert store.count_messages() == 2


def test_a_message_past_a_gap_is_held_until_the_gap_is_filled(store):
    store.put_messages([msg(1)])
    assert store.put_messages([msg(4)]) == []
    assert store.conv_state(CID).local_max == 1
    assert [m.seq for m in store.history(CID)] == [1]  # history shows the contiguous part only
    assert [m.seq for m in store.put_messages([msg(2), msg(3)])] == [2, 3, 4]
    assert store.conv_state(CID).local_max == 4


def test_a_placeholder_counts_as_held_but_is_never_the_last_message(store):
    released = store.put_messages([msg(1), msg(2, status=4)])
    assert [m.seq for m in released] == [1, 2] and released[1].is_placeholder
    (conv,) = store.conversations()
    assert conv.local_max == 2 and conv.last_message.seq == 1 and conv.peer_id == "alice"


def test_a_revoke_is_not_undone_by_an_older_copy(store):
    store.put_messages([msg(1)])
    store.put_messages([msg(1, status=5)])
    assert store.message(CID, 1).is_revoked
    store.put_messages([msg(1)])  # a stale push of the sent message
    assert store.message(CID, 1).is_revoked


def test_purged_seqs_are_skipped(store):
    store.ensure_conversation(CID)
    store.skip_below(CID, 100)
    assert [m.seq for m in store.put_messages([msg(100)])] == [100]


def test_unread_and_history_pages(store):
    store.put_messages([msg(i) for i in range(1, 11)])
    store.update_seqs(CID, max_seq=12, read_seq=4)
    (conv,) = store.conversations()
    assert conv.unread == 8
    assert [m.seq for m in store.history(CID, limit=3)] == [8, 9, 10]
    assert [m.seq for m in store.history(CID, limit=3, before_seq=5)] == [2, 3, 4]
    assert store.history("si_nobody", limit=3) == []


def test_a_store_opened_as_another_user_is_refused(tmp_path):
    path = tmp_path / "s.db"
    s = Store(path)
    s.bind_user("bob")
    s.close()
    s = Store(path)
    with pytest.raises(StoreError):
        s.bind_user("alice")
    s.bind_user("bob")
    s.close()


def test_outbox_keeps_order_and_forgets_acked(store):
    store.outbox_add("c1", {"n": 1})
    store.outbox_add("c2", {"n": 2})
    store.outbox_add("c1", {"n": 1})
    assert store.outbox() == [("c1", {"n": 1}), ("c2", {"n": 2})]
    store.outbox_remove("c1")
    assert store.outbox() == [("c2", {"n": 2})]


def test_backoff_grows_with_jitter_up_to_the_cap():
    backoff = Backoff(base=0.5, cap=8.0)
    delays = [backoff.next_delay() for _ in range(10)]
    assert all(0.25 <= d <= 8.0 for d in delays)
    assert delays[0] <= 0.5 and max(delays[5:]) > 0.5
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_message_text_describes_notifications_revokes_and_placeholders():
    assert msg(1, "hello").text == "hello"
    assert Message(conversation_id="sg_g", seq=1, content_type=1501, content={"group": {}}).text == "(group created)"
    assert msg(2, status=5).text == "(revoked)"
    assert msg(3, status=4).text == "(deleted)"
