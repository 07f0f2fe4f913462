"""Per-user send rate limit: 1005 beyond the rate and burst, on every front door; the connection survives."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async

from apps.messaging import ratelimit, services
from apps.messaging.models import Message
from apps.messaging.services.send import SendRequest, messages_send
from tests.messaging.conftest import connect, text


@pytest.fixture
def slow(settings):
    settings.IM_SEND_RATE_PER_SECOND = 5
    settings.IM_SEND_RATE_BURST = 2  # 3 at once, then one every 200 ms
    return settings


def _req(n: int, sender: str = "alice", **extra) -> SendRequest:
    return SendRequest(send_id=sender, session_type=1, recv_id="bob", content_type=101,
                       content={"content": str(n)}, client_msg_id=f"rl{sender}{n}", **extra)


def test_default_is_20_per_second_with_a_small_burst():
    from django.conf import settings

    assert settings.IM_SEND_RATE_PER_SECOND == 20 and 0 < settings.IM_SEND_RATE_BURST <= 20


@pytest.mark.django_db
def test_sends_beyond_rate_and_burst_fail_alone_with_1005(slow, alice, bob, make_user):
    make_user("carol")
    results = messages_send([_req(i) for i in range(5)] + [_req(0, "carol")])
    codes = [getattr(r, "code", 0) for r in results]
    assert codes == [0, 0, 0, 1005, 1005, 0]  # carol has her own bucket
    assert "at most 5 messages per second" in results[3].msg and results[3].data["retry_after_ms"] == 200
    assert Message.objects.filter(send_id="alice").count() == 3
    time.sleep(0.25)  # the bucket refills at the rate
    assert [getattr(r, "code", 0) for r in messages_send([_req(10), _req(11)])] == [0, 1005]


@pytest.mark.django_db
def test_trusted_sends_and_notifications_are_not_limited(slow, alice, bob):
    for i in range(6):
        services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101,
                              content={"content": str(i)}, trusted=True)
        services.notification_send(send_id="alice", session_type=1, recv_id="bob", content_type=1203, content={})
    assert Message.objects.filter(send_id="alice").count() == 12


@pytest.mark.django_db
def test_rest_send_beyond_the_rate_is_429_with_code_1005(slow, alice, bob, alice_api):
    body = {"session_type": 1, "recv_id": "bob", "content_type": 101, "content": {"content": "x"}}
    statuses = [alice_api.post("/api/v1/messages", body, format="json") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[-1].json()["code"] == 1005 and "too fast" in statuses[-1].json()["msg"]


@pytest.mark.django_db(transaction=True)
async def test_websocket_send_beyond_the_rate_gets_1005_and_the_connection_survives(slow, tokens):
    # one send every 2 s after the burst of 3: five sends in a row stay inside one interval even
    # when a loaded machine takes a few hundred milliseconds per send
    slow.IM_SEND_RATE_PER_SECOND = 0.5
    a = await connect(await database_sync_to_async(tokens)("alice"))
    await database_sync_to_async(tokens)("bob")
    codes = [(await a.send(text(f"w{i}", "bob")))["code"] for i in range(5)]
    assert codes == [0, 0, 0, 1005, 1005]
    assert (await a.call("ping"))["code"] == 0
    time.sleep(2.1)  # the bucket refills at the rate
    assert (await a.send(text("w9", "bob")))["code"] == 0
    await a.close()


def test_bucket_arithmetic_allows_the_burst_then_the_rate(slow):
    from django.core.cache import cache

    cache.delete(ratelimit.rate_key("zed"))
    assert ratelimit.send_allowance({"zed": 10}) == {"zed": 3}
    assert ratelimit.send_allowance({"zed": 1}) == {"zed": 0}
    slow.IM_SEND_RATE_PER_SECOND = 0
    assert ratelimit.send_allowance({"zed": 1000}) == {"zed": 1000}
