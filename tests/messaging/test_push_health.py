"""A push that never came: lag-driven backpressure, counted losses, ``push.resync`` and the ping hint.

The cause found for pushes lost under overload: Redis closes a pub/sub subscriber whose
output buffer passes ``client-output-buffer-limit pubsub``, and drops what it held; the
client library resubscribes silently. The services tests reproduce exactly that on a
private Redis with a small limit.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from apps.common import push, pushhealth
from apps.messaging import housekeeping
from tests.conftest import need_service
from tests.messaging.conftest import connect, text
from tests.support.services import PrivateRedis, binaries_available


async def _tok(tokens, user_id: str, platform_id: int = 5) -> str:
    return await database_sync_to_async(tokens)(user_id, platform_id)


@pytest.mark.django_db(transaction=True)
async def test_ping_names_the_newest_message_pushed_to_the_user(tokens):

    push._latest_local.clear()  # the embedded layer keeps hints per process
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    assert (await b.call("ping"))["data"]["latest"] is None
    for i in range(3):
        assert (await a.send(text(f"h{i}", "bob", f"m{i}")))["code"] == 0
    await b.push()
    reply = await b.call("ping")
    assert reply["code"] == 0
    assert reply["data"]["latest"] == {"conversation_id": "si_alice_bob", "seq": 3}
    assert (await a.call("ping"))["data"]["latest"] == {"conversation_id": "si_alice_bob", "seq": 3}  # sender's devices too
    await a.close()
    await b.close()


@pytest.mark.django_db(transaction=True)
async def test_pushes_are_counted_and_carry_their_publish_time_and_message(tokens):

    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    before = pushhealth.counters()["pushes_published"]
    assert (await a.send(text("l1", "bob")))["code"] == 0
    await b.push()
    assert pushhealth.counters()["pushes_published"] >= before + 1
    event = push.frame_event("{}", None, {"conversation_id": "si_alice_bob", "seq": 7})
    assert abs(event["t"] - time.time() * 1000) < 5000 and event["m"] == "si_alice_bob:7"
    await a.close()
    await b.close()


async def test_sends_wait_while_pushes_lag_and_the_wait_is_counted(settings):
    settings.IM_PUSH_LAG_LIMIT_MS = 500
    settings.IM_PUSH_BACKPRESSURE_MAX_MS = 150
    pushhealth.observe_lag(time.time() * 1000)  # no lag: no wait
    assert await pushhealth.wait_for_pushes() == 0.0
    waits = pushhealth.counters()["backpressure_waits"]
    pushhealth.observe_lag(time.time() * 1000 - 2000)  # pushes arrive 2 s late
    waited = await pushhealth.wait_for_pushes()
    assert 140 <= waited < 1000  # held back, but never for longer than the budget
    assert pushhealth.counters()["backpressure_waits"] == waits + 1
    settings.IM_PUSH_LAG_LIMIT_MS = 0  # off
    pushhealth.observe_lag(time.time() * 1000 - 2000)
    assert await pushhealth.wait_for_pushes() == 0.0


async def test_stale_lag_does_not_hold_sends_back(settings):
    settings.IM_PUSH_LAG_LIMIT_MS = 500
    pushhealth.observe_lag(time.time() * 1000 - 5000)
    pushhealth._lag["at"] -= pushhealth.LAG_WINDOW_SECONDS + 0.1  # seen more than a second ago
    assert pushhealth.current_lag_ms() == 0.0
    assert await pushhealth.wait_for_pushes() == 0.0


class _Conn:
    def __init__(self, name: str, user_id: str) -> None:
        self.channel_name, self.user_id, self.platform_id, self.last_rx = name, user_id, 5, time.monotonic()
        self.frames: list[str] = []

    async def idle_close(self) -> None:  # pragma: no cover - not idle here
        pass

    async def push_local(self, frame: str) -> None:
        self.frames.append(frame)


async def test_a_lost_subscription_is_counted_and_every_local_connection_is_told_to_resync(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    conns = [_Conn(f"c{i}", f"u{i}") for i in range(3)]
    for conn in conns:
        await housekeeping.register(conn)
    losses = pushhealth.counters()["subscription_losses"]
    pushhealth.subscription_restored()
    await asyncio.sleep(0.05)
    assert pushhealth.counters()["subscription_losses"] == losses + 1
    for conn in conns:
        assert conn.frames == [housekeeping.RESYNC_FRAME], conn.frames
        assert '"op":"push.resync"' in conn.frames[0]
        housekeeping.unregister(conn)


# ------------------------------------------------------------ the cause, on a real Redis
@pytest.fixture
def small_buffer_redis(tmp_path):
    need_service("redis-server binary", binaries_available())
    redis = PrivateRedis("redis", tmp_path)
    redis.extra = ["--client-output-buffer-limit", "pubsub 256kb 64kb 1"]
    redis.start()
    yield redis
    redis.kill()


async def test_redis_drops_a_lagging_subscriber_and_the_layer_counts_it_and_recovers(small_buffer_redis):
    """A process that reads its subscription late (its loop busy, as under overload) loses
    what Redis held for it; the layer notices the resubscribe, counts it and calls resync."""
    import redis as redis_sync

    from apps.common.layer import PushLayer

    layer = PushLayer(hosts=[small_buffer_redis.url(0)], prefix="t")
    channel = await layer.new_channel()
    await layer.group_add("user", channel)
    group_channel = layer._get_layer()._get_group_channel_name("user")
    called: list[int] = []
    pushhealth.on_subscription_lost(lambda: called.append(1))
    losses = pushhealth.counters()["subscription_losses"]
    publisher = redis_sync.Redis(port=small_buffer_redis.port)
    payload = layer.serialize({"type": "push.frame", "frame": "x" * 1000, "t": int(time.time() * 1000)})

    def publish_burst() -> None:
        pipe = publisher.pipeline(transaction=False)
        for _ in range(20_000):  # ~20 MB (more than the kernel buffers hold) for a subscriber allowed 256 KB
            pipe.publish(group_channel, payload)
        pipe.execute()

    publish_burst()
    time.sleep(1.0)  # the event loop is blocked: nothing is read, Redis' buffer for us overflows
    received = 0
    with pytest.raises(TimeoutError):
        while True:
            await asyncio.wait_for(layer.receive(channel), 1.0)
            received += 1
    assert received < 20_000  # pushes were dropped by Redis ...
    assert pushhealth.counters()["push_lag_max_ms"] >= 900  # ... after arriving late (the backpressure signal)
    deadline = time.monotonic() + 10
    while pushhealth.counters()["subscription_losses"] == losses and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert pushhealth.counters()["subscription_losses"] == losses + 1  # ... and that was noticed
    assert called
    publisher.publish(group_channel, layer.serialize({"type": "push.frame", "frame": "after"}))
    event = await asyncio.wait_for(layer.receive(channel), 5)  # subscribed again
    assert event["frame"] == "after"
    publisher.close()
    pushhealth._resync_listeners.pop()
    await layer.flush()
