"""The per-process batcher: concurrent sends share transactions, seqs stay gapless and ordered."""

from __future__ import annotations

import asyncio
import threading
import time
import zlib

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.db import close_old_connections, connection

from apps.common.errors import DomainError
from apps.messaging import services
from apps.messaging.batcher import SendBatcher, lane_key
from apps.messaging.models import Conversation, Message, OfflineMessage
from apps.messaging.services.send import SendRequest

pytestmark = pytest.mark.django_db(transaction=True)


def _users(*ids: str) -> None:
    from apps.accounts.models import User

    for uid in ids:
        User.objects.create_user(uid)


def _req(i: int, recv: str = "bob", body: str = "x") -> SendRequest:
    return SendRequest(send_id="alice", session_type=1, recv_id=recv, content_type=101,
                       content={"content": body}, client_msg_id=f"k{i}")


async def test_200_concurrent_sends_share_batches_and_get_200_consecutive_seqs(settings):
    settings.IM_SEND_RATE_PER_SECOND = 0  # one sender, 200 at once: about seqs, not the rate limit
    settings.IM_SEND_BATCH_MAX = 50
    await database_sync_to_async(_users)("alice", "bob")
    batcher = SendBatcher()
    results = await asyncio.gather(*(batcher.submit(_req(i)) for i in range(200)))
    seqs = [r.ack["seq"] for r in results]
    assert seqs == list(range(1, 201))  # submission order is seq order
    assert batcher.largest > 1 and batcher.batches < 200
    assert await database_sync_to_async(Message.objects.count)() == 200
    assert await database_sync_to_async(OfflineMessage.objects.count)() == 200


async def test_a_bad_send_in_a_batch_fails_alone(settings):
    await database_sync_to_async(_users)("alice", "bob")
    batcher = SendBatcher()
    reqs = [_req(0), _req(1, recv="ghost"), _req(2, body=""), _req(3)]
    results = await asyncio.gather(*(batcher.submit(r) for r in reqs))
    assert [r.ack["seq"] for r in (results[0], results[3])] == [1, 2]
    assert isinstance(results[1], DomainError) and results[1].code == 1101
    assert isinstance(results[2], DomainError) and results[2].code == 1001


async def test_content_that_cannot_be_encoded_fails_alone_and_not_its_batch(settings):
    await database_sync_to_async(_users)("alice", "bob")
    deep: list = []
    for _ in range(300):  # a websocket frame may nest deeper than the JSON encoder goes
        deep = [deep]
    nested = SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=110,
                         content={"data": deep}, client_msg_id="deep")
    batcher = SendBatcher()
    results = await asyncio.gather(batcher.submit(_req(0)), batcher.submit(nested), batcher.submit(_req(1)))
    assert isinstance(results[1], DomainError) and results[1].code == 1001
    assert [results[0].ack["seq"], results[2].ack["seq"]] == [1, 2]


async def test_a_single_send_on_an_idle_server_is_not_delayed_by_the_window(settings):
    settings.IM_SEND_BATCH_WINDOW_MS = 1000
    await database_sync_to_async(_users)("alice", "bob")
    batcher = SendBatcher()
    started = time.monotonic()
    result = await batcher.submit(_req(0))
    assert result.ack["seq"] == 1
    assert time.monotonic() - started < 0.5


def test_seqs_continue_from_the_database_after_the_cache_is_flushed():
    _users("alice", "bob")
    services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101, content={"content": "a"})
    cache.clear()  # Redis flushed or restarted
    again = services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101,
                                  content={"content": "b"})
    assert again.ack["seq"] == 2


def test_concurrent_transactions_from_many_threads_never_share_or_skip_a_seq(settings):
    settings.IM_SEND_RATE_PER_SECOND = 0  # one sender, 200 sends at once: about seqs, not the rate limit
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("an in-memory SQLite test database is not shared safely between threads")
    _users("alice", "bob", "carol")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                reqs = [SendRequest(send_id="alice", session_type=1, recv_id=r, content_type=101,
                                    content={"content": "x"}, client_msg_id=f"t{n}-{i}-{r}") for r in ("bob", "carol")]
                results = services.messages_send(reqs)
                assert all(not isinstance(r, DomainError) for r in results), results
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for cid in ("si_alice_bob", "si_alice_carol"):
        seqs = sorted(Message.objects.filter(conversation_id=cid).values_list("seq", flat=True))
        assert seqs == list(range(1, 101))
        assert Conversation.objects.get(conversation_id=cid).max_seq == 100


async def test_two_lanes_write_in_parallel_and_keep_each_conversations_order(settings):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer: it runs one lane")
    settings.IM_SEND_RATE_PER_SECOND = 0
    recipients = [f"r{i}" for i in range(8)]
    await database_sync_to_async(_users)("alice", *recipients)
    batcher = SendBatcher(lanes=2)
    try:
        reqs = [_req(i, recv=recipients[i % 8]) for i in range(160)]
        results = await asyncio.gather(*(batcher.submit(r) for r in reqs))
    finally:
        batcher.close()
    by_conv: dict[str, list[int]] = {}
    for result in results:
        by_conv.setdefault(result.ack["conversation_id"], []).append(result.ack["seq"])
    assert len(by_conv) == 8
    assert all(seqs == list(range(1, 21)) for seqs in by_conv.values())  # submission order per conversation
    lanes_used = {zlib.crc32(lane_key(r).encode()) % 2 for r in reqs}
    assert lanes_used == {0, 1}
    assert await database_sync_to_async(Message.objects.count)() == 160
