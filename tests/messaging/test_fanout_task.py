"""Group fan-out through the Celery task: chunks, eager default, broker hand-off, fallbacks."""

from __future__ import annotations

import orjson
import pytest

from apps.accounts.models import User
from apps.common import push
from apps.messaging import delivery, services, tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def group7(db):
    from apps.groups.services import group_create

    users = [User.objects.create_user(f"m{i}") for i in range(7)]
    group_create(owner=users[0], name="seven", member_ids=[u.user_id for u in users[1:]], admin_ids=[], group_id="g7")
    return [u.user_id for u in users]


@pytest.fixture
def pushed(monkeypatch):
    calls: list[tuple[list[str], str]] = []
    monkeypatch.setattr(delivery, "push_chunk", lambda frame, ids, skip=None: calls.append((list(ids), frame)))
    return calls


@pytest.fixture
def send_group(django_capture_on_commit_callbacks):
    def send(text: str = "hello") -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            result = services.message_send(
                send_id="m0", group_id="g7", session_type=3, content_type=101, client_msg_id=text,
                content={"content": text},
            )
        return result.message

    return send


def test_without_a_broker_the_task_runs_in_process_in_chunks(group7, pushed, send_group, settings):
    settings.IM_FANOUT_CHUNK_SIZE = 3
    assert settings.CELERY_TASK_ALWAYS_EAGER
    pushed.clear()
    message = send_group()
    chunks = [ids for ids, frame in pushed if f'"seq":{message["seq"]}' in frame]
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert sorted(u for c in chunks for u in c) == sorted(group7)


def test_with_a_broker_the_first_chunk_is_pushed_and_the_rest_queued(group7, pushed, monkeypatch, settings):
    settings.IM_FANOUT_CHUNK_SIZE = 2
    queued: list[list[str]] = []
    monkeypatch.setattr(tasks.deliver_group_chunk, "delay", lambda frame, ids, skip=None: queued.append(ids))
    count = delivery.fanout_group('{"op":"push.msg"}', "g7", "m0", None, chunk_tasks=True)
    assert count == 7
    assert [len(ids) for ids, _ in pushed] == [2]
    assert [len(ids) for ids in queued] == [2, 2, 1]
    assert sorted([*pushed[0][0], *(u for ids in queued for u in ids)]) == sorted(group7)


def test_the_sender_path_only_queues_the_task(group7, pushed, send_group, monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued: list[tuple] = []
    monkeypatch.setattr(tasks.deliver_group, "delay", lambda *args: queued.append(args))
    message = send_group("queued")
    assert pushed == [] and len(queued) == 1
    frame, group_id, send_id, skip = queued[0]
    assert group_id == "g7" and send_id == "m0" and skip is None and f'"seq":{message["seq"]}' in frame


def test_an_unreachable_broker_falls_back_to_pushing_in_process(group7, pushed, send_group, monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def down(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.deliver_group, "delay", down)
    send_group("fallback")
    assert sorted(u for ids, _ in pushed for u in ids) == sorted(group7)


def test_tasks_are_acks_late_and_retry_with_backoff():
    for task in (tasks.deliver_group, tasks.deliver_group_chunk, tasks.purge_offline):
        assert task.acks_late is True
        assert task.max_retries == 5 and task.retry_backoff and task.autoretry_for


def test_redis_broker_redelivers_after_the_visibility_timeout(settings):
    opts = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert opts["visibility_timeout"] == settings.IM_CELERY_VISIBILITY_TIMEOUT
    assert opts["unacked_restore_interval"] <= opts["visibility_timeout"]
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST and settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


async def test_pipelined_pushes_reach_subscribers_of_the_redis_pubsub_layer(redis_url, monkeypatch):
    import asyncio
    import secrets

    from channels_redis.pubsub import RedisPubSubChannelLayer

    from apps.common.sideeffects import user_group

    layer = RedisPubSubChannelLayer(hosts=[redis_url], prefix=f"fan{secrets.token_hex(3)}")
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    try:
        channels = {u: await layer.new_channel() for u in ("u1", "u2")}
        for user_id, channel in channels.items():
            await layer.group_add(user_group(user_id), channel)
        await push.asend_to_users(["u1", "u2", "u3", "u1"], push.frame_event('{"op":"push.msg"}', "skip-me"))
        for channel in channels.values():
            event = await asyncio.wait_for(layer.receive(channel), 5)
            assert isinstance(event.pop("t"), int)  # the publish time, for the receiving node's push lag
            assert event == {"type": "push.frame", "frame": '{"op":"push.msg"}', "skip": "skip-me"}
        with pytest.raises(TimeoutError):  # once per user, however often listed
            await asyncio.wait_for(layer.receive(channels["u1"]), 0.3)
    finally:
        await layer.flush()


async def test_the_pipelined_fast_path_is_taken_on_the_redis_pubsub_layer(redis_url):
    """Fails when channels-redis' internals change under the fast path (it would fall back silently)."""
    import asyncio
    import secrets

    from channels_redis.pubsub import RedisPubSubChannelLayer

    from apps.common.sideeffects import user_group

    layer = RedisPubSubChannelLayer(hosts=[redis_url], prefix=f"fan{secrets.token_hex(3)}")
    try:
        channel = await layer.new_channel()
        await layer.group_add(user_group("u1"), channel)
        sent = push.frame_event('{"op":"x"}', None)
        taken = await push._publish_pipelined(layer, [(["u1", "u2"], sent)])
        assert taken is True
        event = await asyncio.wait_for(layer.receive(channel), 5)
        assert event == sent and event["type"] == "push.frame" and event["frame"] == '{"op":"x"}'
    finally:
        await layer.flush()


async def test_a_batch_of_one_to_one_pushes_is_published_together_in_seq_order(redis_url, monkeypatch):
    import asyncio
    import secrets

    from channels_redis.pubsub import RedisPubSubChannelLayer

    from apps.common.sideeffects import user_group

    layer = RedisPubSubChannelLayer(hosts=[redis_url], prefix=f"fan{secrets.token_hex(3)}")
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    executed = []
    real_pipelined = push._publish_pipelined

    async def counting(layer_, items):
        taken = await real_pipelined(layer_, items)
        executed.append((len(items), taken))
        return taken

    monkeypatch.setattr(push, "_publish_pipelined", counting)
    try:
        channel = await layer.new_channel()
        await layer.group_add(user_group("bob"), channel)
        batch = [
            ({"session_type": 1, "send_id": f"s{i}", "recv_id": "bob", "seq": i, "group_id": ""}, None)
            for i in range(1, 6)
        ]
        await delivery.adeliver_messages(batch)
        # the whole batch in one pipelined publish, and the fast path was taken: False would mean
        # channels-redis' internals changed and every push fell back to one group_send per user
        assert executed == [(5, True)]
        got = [orjson.loads((await asyncio.wait_for(layer.receive(channel), 5))["frame"])["data"]["seq"]
               for _ in batch]
        assert got == [1, 2, 3, 4, 5]
    finally:
        await layer.flush()
