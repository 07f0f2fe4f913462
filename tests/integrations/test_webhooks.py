"""Webhooks against a real HTTP receiver on 127.0.0.1: signatures, message.sent, retries,
before_send decisions and failures, push.offline."""

from __future__ import annotations

import threading

import orjson
import pytest

from apps.integrations import webhooks
from apps.messaging.models import Message
from tests.integrations.conftest import SECRET
from tests.integrations.receiver import verify

pytestmark = pytest.mark.django_db(transaction=True)


def _send(api, text: str = "hello", cmid: str = "c1", to: str = "bob"):
    return api.post(
        "/api/v1/messages",
        {"client_msg_id": cmid, "session_type": 1, "recv_id": to, "content_type": 101, "content": {"content": text}},
        format="json",
    )


# ------------------------------------------------------------------ message.sent
def test_message_sent_is_posted_signed_after_the_send(receiver, alice_api, bob):
    r = _send(alice_api)
    assert r.status_code == 200
    (got,) = receiver.wait_for("message.sent")
    assert verify(SECRET, got.raw, got.headers["x-im-signature"])
    assert not verify("another-secret", got.raw, got.headers["x-im-signature"])
    env = got.json
    assert env["event_id"] and env["time"] > 0
    assert env["data"]["server_msg_id"] == r.json()["server_msg_id"]
    assert env["data"]["content"] == {"content": "hello"} and env["data"]["seq"] == r.json()["seq"]
    assert got.headers["x-im-event"] == "message.sent" and got.headers["x-im-event-id"] == env["event_id"]


def test_the_send_does_not_wait_for_the_receiver(receiver, alice_api, bob):
    release = threading.Event()

    def slow(env):
        release.wait(10)
        return 200, b"{}", 0.0

    receiver.answer = slow
    r = _send(alice_api)  # answered while the receiver still holds the event
    assert r.status_code == 200
    assert Message.objects.filter(server_msg_id=r.json()["server_msg_id"]).exists()
    receiver.wait_for("message.sent")
    release.set()


def test_a_failed_delivery_is_retried_with_the_same_event_id(receiver, alice_api, bob):
    calls = {"n": 0}

    def flaky(env):
        if env["event"] == "message.sent":
            calls["n"] += 1
            if calls["n"] <= 2:
                return 503, b"busy", 0.0
        return 200, b"{}", 0.0

    receiver.answer = flaky
    assert _send(alice_api).status_code == 200
    got = receiver.wait_for("message.sent", count=3)
    assert len({g.json["event_id"] for g in got}) == 1


def test_the_event_id_is_stable_for_a_message():
    m = {"server_msg_id": "abc"}
    assert webhooks.event_id_for("message.sent", m["server_msg_id"]) == webhooks.event_id_for("message.sent", "abc")
    assert webhooks.event_id_for("message.sent", "abc") != webhooks.event_id_for("push.offline", "abc", 0)


def test_a_refused_send_posts_nothing(receiver, alice_api):
    r = _send(alice_api, to="nobody")
    assert r.status_code == 404
    with pytest.raises(AssertionError):
        receiver.wait_for("message.sent", timeout=0.5)


def test_events_can_be_limited(receiver, settings, alice_api, bob):
    settings.IM_WEBHOOK_EVENTS = ["push.offline"]
    assert _send(alice_api).status_code == 200
    receiver.wait_for("push.offline")
    assert receiver.events("message.sent") == []


# ----------------------------------------------------------------- before_send
@pytest.fixture
def hook(receiver, settings):
    settings.IM_WEBHOOK_BEFORE_SEND = True
    settings.IM_WEBHOOK_TIMEOUT_MS = 300
    settings.IM_WEBHOOK_EVENTS = ["message.before_send"]
    return receiver


def _decide(answer: dict | bytes, delay: float = 0.0, status: int = 200):
    body = answer if isinstance(answer, bytes) else orjson.dumps(answer)
    return lambda env: (status, body, delay) if env["event"] == "message.before_send" else (200, b"{}", 0.0)


def test_before_send_sees_the_message_and_allow_stores_it(hook, alice_api, bob):
    hook.answer = _decide({"action": "allow"})
    r = _send(alice_api, "hi there")
    assert r.status_code == 200
    (asked,) = hook.events("message.before_send")
    assert verify(SECRET, asked.raw, asked.headers["x-im-signature"])
    data = asked.json["data"]
    assert (data["send_id"], data["recv_id"], data["content"]) == ("alice", "bob", {"content": "hi there"})
    assert data["conversation_id"] == "si_alice_bob"


def test_before_send_reject_refuses_with_1407_and_the_apps_message(hook, alice_api, bob):
    hook.answer = _decide({"action": "reject", "msg": "no swearing here"})
    r = _send(alice_api, "darn")
    assert r.status_code == 403
    assert r.json() == {"code": 1407, "msg": "no swearing here"}
    assert not Message.objects.exists()


def test_before_send_can_replace_the_content(hook, alice_api, bob):
    hook.answer = _decide({"action": "allow", "content": {"content": "h*llo"}})
    r = _send(alice_api, "hello")
    assert r.status_code == 200
    assert Message.objects.get(server_msg_id=r.json()["server_msg_id"]).content == {"content": "h*llo"}


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_decide({"action": "maybe"}), id="unknown-action"),
        pytest.param(_decide(b"<html>oops</html>"), id="not-json"),
        pytest.param(_decide(b"[1, 2]"), id="not-an-object"),
        pytest.param(_decide({"action": "allow", "content": {"nope": 1}}), id="invalid-replacement"),
        pytest.param(_decide({"action": "allow"}, status=500), id="http-500"),
        pytest.param(_decide({"action": "reject"}, delay=1.5), id="timeout"),
    ],
)
def test_a_failed_hook_lets_the_message_through_when_fail_open(hook, settings, alice_api, bob, answer):
    settings.IM_WEBHOOK_FAIL_OPEN = True
    hook.answer = answer
    r = _send(alice_api, "hello")
    assert r.status_code == 200, r.content
    assert Message.objects.get(server_msg_id=r.json()["server_msg_id"]).content == {"content": "hello"}


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_decide({"action": "maybe"}), id="unknown-action"),
        pytest.param(_decide({"action": "allow", "content": {"nope": 1}}), id="invalid-replacement"),
        pytest.param(_decide({"action": "allow"}, delay=1.5), id="timeout"),
    ],
)
def test_a_failed_hook_refuses_with_1408_when_fail_closed(hook, settings, alice_api, bob, answer):
    settings.IM_WEBHOOK_FAIL_OPEN = False
    hook.answer = answer
    r = _send(alice_api, "hello")
    assert r.status_code == 503
    assert r.json()["code"] == 1408
    assert not Message.objects.exists()


def test_an_unreachable_hook_is_a_failure_too(hook, settings, alice_api, bob):
    settings.IM_WEBHOOK_FAIL_OPEN = False
    hook.stop()
    r = _send(alice_api)
    assert r.json()["code"] == 1408


def test_admin_sends_are_not_asked(hook, admin_api, alice, bob):
    hook.answer = _decide({"action": "reject", "msg": "no"})
    r = admin_api.post(
        "/api/v1/messages",
        {"session_type": 1, "send_id": "alice", "recv_id": "bob", "content_type": 101, "content": {"content": "sys"}},
        format="json",
    )
    assert r.status_code == 200
    assert hook.events("message.before_send") == []


async def test_before_send_over_the_websocket_refuses_one_and_keeps_the_batch(hook, settings, tokens):
    from tests.messaging.conftest import connect

    def decide(env):
        if env["data"]["content"].get("content") == "bad":
            return 200, b'{"action": "reject", "msg": "not here"}', 0.0
        return 200, b'{"action": "allow"}', 0.0

    hook.answer = decide
    from asgiref.sync import sync_to_async

    alice_token = await sync_to_async(tokens)("alice")
    await sync_to_async(tokens)("bob")
    a = await connect(alice_token)
    try:
        good = await a.send({"client_msg_id": "g", "session_type": 1, "recv_id": "bob", "content_type": 101,
                             "content": {"content": "good"}})
        bad = await a.send({"client_msg_id": "b", "session_type": 1, "recv_id": "bob", "content_type": 101,
                            "content": {"content": "bad"}})
        assert good["code"] == 0
        assert (bad["code"], bad["msg"]) == (1407, "not here")
    finally:
        await a.close()
    assert await sync_to_async(Message.objects.count)() == 1


# ----------------------------------------------------------------- push.offline
def test_push_offline_names_the_offline_recipient(receiver, alice_api, bob):
    r = _send(alice_api, "are you there?")
    (got,) = receiver.wait_for("push.offline")
    data = got.json["data"]
    assert data["user_ids"] == ["bob"] and data["send_id"] == "alice"
    assert data["server_msg_id"] == r.json()["server_msg_id"] and data["preview"] == "are you there?"
    assert data["conversation_id"] == "si_alice_bob"


async def test_no_push_offline_for_an_online_recipient(receiver, tokens, alice_api):
    from asgiref.sync import sync_to_async

    from tests.messaging.conftest import connect

    b = await connect(await sync_to_async(tokens)("bob"))
    try:
        r = await sync_to_async(_send)(alice_api)
        assert r.status_code == 200
        await sync_to_async(receiver.wait_for)("message.sent")
        await b.push()
    finally:
        await b.close()
    assert receiver.events("push.offline") == []


def test_a_group_message_gets_one_push_offline_event_per_chunk(receiver, settings, make_user, api_client_for):
    settings.IM_FANOUT_CHUNK_SIZE = 2
    owner = make_user("owner")
    for i in range(5):
        make_user(f"m{i}")
    api = api_client_for(owner)
    group = api.post("/api/v1/groups", {"name": "g", "member_ids": [f"m{i}" for i in range(5)]}, format="json")
    assert group.status_code in (200, 201), group.content
    gid = group.json()["group_id"]
    settings.IM_WEBHOOK_EVENTS = ["push.offline"]
    r = api.post("/api/v1/messages", {"session_type": 3, "group_id": gid, "content_type": 101,
                                      "content": {"content": "hi all"}}, format="json")
    assert r.status_code == 200
    got = receiver.wait_for("push.offline", count=3)
    msg_events = [g.json for g in got if g.json["data"]["server_msg_id"] == r.json()["server_msg_id"]]
    assert len(msg_events) == 3  # 5 members, chunks of 2
    users = sorted(u for e in msg_events for u in e["data"]["user_ids"])
    assert users == [f"m{i}" for i in range(5)]
    assert {e["data"]["chunk"] for e in msg_events} == {0, 1, 2}
    assert len({e["event_id"] for e in msg_events}) == 3


# ------------------------------------------------------- friend, group, user events
def test_user_friend_and_group_events(receiver, admin_api, api_client_for):
    from apps.accounts.models import User

    r = admin_api.post("/api/v1/users", {"users": [{"user_id": "ann"}, {"user_id": "ben"}]}, format="json")
    assert r.status_code in (200, 201), r.content
    (reg,) = receiver.wait_for("user.registered")
    assert reg.json["data"] == {"user_ids": ["ann", "ben"]}

    ann, ben = (api_client_for(User.objects.get(user_id=u)) for u in ("ann", "ben"))
    req = ann.post("/api/v1/friend-requests", {"to_user_id": "ben", "message": "hi"}, format="json")
    assert req.status_code in (200, 201), req.content
    receiver.wait_for("friend.request")
    req_id = req.json().get("id") or req.json().get("request_id")
    assert ben.post(f"/api/v1/friend-requests/{req_id}/accept", {}, format="json").status_code == 200
    accepted = receiver.wait_for("friend.request_accepted")[0].json
    assert accepted["data"]["content_type"] == 1201 and accepted["event_id"]

    group = ann.post("/api/v1/groups", {"name": "team", "member_ids": ["ben"]}, format="json")
    assert group.status_code in (200, 201)
    created = receiver.wait_for("group.created")[0].json
    assert created["data"]["group_id"] == group.json()["group_id"]


def test_the_event_names_cover_every_friend_and_group_notification():
    from apps.messaging.notes import FriendNote, GroupNote

    names = {webhooks.notification_event_name(int(n)) for n in [*FriendNote, *GroupNote]}
    assert None not in names and len(names) == len(FriendNote) + len(GroupNote)
    assert "friend.friend_added" in names and "group.dismissed" in names
