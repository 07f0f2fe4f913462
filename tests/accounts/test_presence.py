from __future__ import annotations

import time

import pytest
import time_machine
from channels.layers import get_channel_layer
from django.test import override_settings

from apps.accounts import presence
from apps.common.sideeffects import user_group

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["local", "redis"])
def backend(request, settings):
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.REDIS_URL = url
        settings.IM_CACHE_PREFIX = f"imtest{time.time_ns()}"
    else:
        settings.REDIS_URL = ""
        presence.presence_reset_local()
    yield request.param
    presence.presence_reset_local()


def test_connect_and_disconnect_change_online_platforms(backend):
    presence.presence_connect(user_id="alice", conn_id="c1", platform_id=1)
    presence.presence_connect(user_id="alice", conn_id="c2", platform_id=5)
    assert presence.presence_online_platforms(user_id="alice") == [1, 5]
    presence.presence_disconnect(user_id="alice", conn_id="c1", platform_id=1)
    assert presence.presence_online_platforms(user_id="alice") == [5]
    presence.presence_disconnect(user_id="alice", conn_id="c2", platform_id=5)
    assert presence.presence_online_platforms(user_id="alice") == []


def test_a_crashed_node_users_go_offline_after_the_ttl(backend, settings):
    settings.IM_PRESENCE_TTL_SECONDS = 30
    presence.presence_connect(user_id="bob", conn_id="dead-node-conn", platform_id=2)
    assert presence.presence_online_map(user_ids=["bob"]) == {"bob": [2]}
    with time_machine.travel(time.time() + 31, tick=False):
        assert presence.presence_online_map(user_ids=["bob"]) == {"bob": []}


def test_refresh_keeps_a_live_connection_online(backend, settings):
    settings.IM_PRESENCE_TTL_SECONDS = 30
    start = time.time()
    presence.presence_connect(user_id="carol", conn_id="c", platform_id=3)
    with time_machine.travel(start + 20, tick=False):
        presence.presence_refresh_many(entries=[("carol", "c", 3)])
    with time_machine.travel(start + 45, tick=False):
        assert presence.presence_online_platforms(user_id="carol") == [3]


def test_refresh_many_extends_every_connection_in_one_call(backend, settings):
    settings.IM_PRESENCE_TTL_SECONDS = 30
    start = time.time()
    entries = [(f"m{i}", f"conn{i}", 1 + i % 2) for i in range(2500)]
    for user_id, conn_id, platform_id in entries[:3]:
        presence.presence_connect(user_id=user_id, conn_id=conn_id, platform_id=platform_id)
    with time_machine.travel(start + 20, tick=False):
        presence.presence_refresh_many(entries=entries)
    with time_machine.travel(start + 45, tick=False):
        online = presence.presence_online_map(user_ids=[u for u, _c, _p in entries])
    assert online == {u: [p] for u, _c, p in entries}


@pytest.mark.django_db(transaction=True)
async def test_refresh_many_tells_watchers_when_a_lapsed_connection_comes_back(backend, settings):
    import asyncio

    from asgiref.sync import sync_to_async

    settings.IM_PRESENCE_TTL_SECONDS = 30
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(user_group("watcher2"), channel)
    await sync_to_async(presence.presence_watch)(watcher_id="watcher2", user_ids=["erin", "frank"])
    await sync_to_async(presence.presence_connect)(user_id="erin", conn_id="e", platform_id=2)
    first = await asyncio.wait_for(layer.receive(channel), timeout=5)
    assert first["user_id"] == "erin" and first["online"] is True
    # frank's entry is gone (say Redis restarted) while his socket lives on: the refresh restores it
    await sync_to_async(presence.presence_refresh_many)(entries=[("erin", "e", 2), ("frank", "f", 5)])
    event = await asyncio.wait_for(layer.receive(channel), timeout=5)
    assert event == {"type": "presence.change", "user_id": "frank", "online": True, "platform_ids": [5]}
    with pytest.raises(TimeoutError):  # erin never lapsed: nothing to say about her
        await asyncio.wait_for(layer.receive(channel), timeout=0.3)
    await layer.group_discard(user_group("watcher2"), channel)


@pytest.mark.django_db(transaction=True)
async def test_watchers_get_a_change_event_when_status_changes(backend, settings):
    import asyncio

    from asgiref.sync import sync_to_async

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(user_group("watcher"), channel)
    call = sync_to_async

    status = await call(presence.presence_watch)(watcher_id="watcher", user_ids=["dave"])
    assert status == {"dave": []}
    await call(presence.presence_connect)(user_id="dave", conn_id="x", platform_id=5)
    event = await asyncio.wait_for(layer.receive(channel), timeout=5)
    assert event == {"type": "presence.change", "user_id": "dave", "online": True, "platform_ids": [5]}
    await call(presence.presence_connect)(user_id="dave", conn_id="y", platform_id=5)  # same platforms: no event
    await call(presence.presence_disconnect)(user_id="dave", conn_id="x", platform_id=5)
    await call(presence.presence_disconnect)(user_id="dave", conn_id="y", platform_id=5)
    event = await asyncio.wait_for(layer.receive(channel), timeout=5)
    assert event["online"] is False and event["platform_ids"] == []
    await call(presence.presence_unwatch)(watcher_id="watcher", user_ids=["dave"])
    await call(presence.presence_connect)(user_id="dave", conn_id="z", platform_id=1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=0.3)
    await layer.group_discard(user_group("watcher"), channel)


def test_online_count(backend):
    presence.presence_connect(user_id="u1", conn_id="a", platform_id=1)
    presence.presence_connect(user_id="u2", conn_id="b", platform_id=1)
    assert presence.presence_online_count() >= 2


def test_users_status_endpoint(alice_api, backend):
    presence.presence_connect(user_id="bob", conn_id="b1", platform_id=2)
    resp = alice_api.get("/api/v1/users/status?ids=bob,ghost")
    assert resp.status_code == 200
    assert resp.json()["results"] == [
        {"user_id": "bob", "online": True, "platform_ids": [2]},
        {"user_id": "ghost", "online": False, "platform_ids": []},
    ]
    assert alice_api.get("/api/v1/users/status").json()["code"] == 1001
    many = ",".join(f"u{i}" for i in range(501))
    assert alice_api.get(f"/api/v1/users/status?ids={many}").json()["code"] == 1001


@override_settings()
def test_users_status_needs_auth(client):
    assert client.get("/api/v1/users/status?ids=a").json()["code"] == 1006
