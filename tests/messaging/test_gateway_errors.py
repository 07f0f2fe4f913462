"""Connection errors, kicks, bad frames and the idle timeout of the websocket gateway."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.messaging import protocol
from tests.messaging.conftest import Client, connect, open_ws, text

pytestmark = pytest.mark.django_db(transaction=True)


async def _tok(tokens, user_id: str, platform_id: int = 5) -> str:
    return await database_sync_to_async(tokens)(user_id, platform_id)


async def _refused(path: str, subprotocols=None) -> tuple[dict, int]:
    comm, _ = await open_ws(path, subprotocols)
    frame = await comm.receive_json_from()
    closed = await comm.receive_output()
    assert closed["type"] == "websocket.close"
    return frame, closed["code"]


@pytest.mark.parametrize(
    ("token", "code"),
    [("", 1602), ("garbage", 1502)],
)
async def test_bad_tokens_get_an_error_frame_and_a_close_code(token, code):
    frame, close = await _refused(f"/ws/?token={token}&platform_id=5")
    assert frame["op"] == "connect" and frame["code"] == code and frame["msg"]
    assert close == (protocol.CLOSE_BAD_CONNECTION_ARGS if code == 1602 else protocol.CLOSE_AUTH_FAILED)


async def test_expired_unknown_and_kicked_tokens_are_refused_with_their_codes(tokens, settings):
    from django.core import signing

    from apps.accounts.tokens import SALT

    expired = signing.dumps({"u": "alice", "p": 5, "j": "x" * 32, "e": 1}, salt=SALT, compress=False)
    frame, close = await _refused(f"/ws/?token={expired}")
    assert (frame["code"], close) == (1501, protocol.CLOSE_AUTH_FAILED)
    unknown = signing.dumps({"u": "alice", "p": 5, "j": "y" * 32, "e": 2**40}, salt=SALT, compress=False)
    frame, close = await _refused(f"/ws/?token={unknown}")
    assert (frame["code"], close) == (1507, protocol.CLOSE_AUTH_FAILED)
    old = await _tok(tokens, "alice")
    await _tok(tokens, "alice")  # a new login on the same platform kicks the old token
    frame, close = await _refused(f"/ws/?token={old}")
    assert (frame["code"], close) == (1506, protocol.CLOSE_AUTH_FAILED)


async def test_a_banned_user_gets_1103_at_connect_as_over_rest(tokens, make_user):
    from rest_framework.test import APIClient

    token = await _tok(tokens, "alice")
    await database_sync_to_async(User.objects.filter(user_id="alice").update)(is_banned=True)  # token left as is
    frame, close = await _refused(f"/ws/?token={token}")
    assert (frame["code"], close) == (1103, protocol.CLOSE_AUTH_FAILED)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    rest = await database_sync_to_async(api.get)("/api/v1/users/me")
    assert rest.json()["code"] == 1103

    # banned through the service: the token is kicked too, and both transports still say 1103
    token = await _tok(tokens, "bob")
    bob = await database_sync_to_async(User.objects.get)(user_id="bob")
    await database_sync_to_async(account_services.user_ban)(user=bob, actor=None, reason="spam")
    frame, close = await _refused(f"/ws/?token={token}")
    assert (frame["code"], close) == (1103, protocol.CLOSE_AUTH_FAILED)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    rest = await database_sync_to_async(api.get)("/api/v1/users/me")
    assert (rest.status_code, rest.json()["code"]) == (403, 1103)


async def test_a_ban_kicks_a_live_socket_with_1103(tokens):
    web = await connect(await _tok(tokens, "carol"))
    carol = await database_sync_to_async(User.objects.get)(user_id="carol")
    await database_sync_to_async(account_services.user_ban)(user=carol, actor=None, reason="spam")
    kicked = await web.frame()
    assert kicked["op"] == "kicked" and kicked["code"] == 1103 and kicked["data"]["reason"] == "ban"
    closed = await web.comm.receive_output()
    assert closed["code"] == protocol.CLOSE_KICKED


async def test_platform_mismatch_and_bad_platform_are_1602(tokens):
    token = await _tok(tokens, "alice", 5)
    for platform in ("1", "abc", "99"):
        frame, close = await _refused(f"/ws/?token={token}&platform_id={platform}")
        assert (frame["code"], close) == (1602, protocol.CLOSE_BAD_CONNECTION_ARGS)


async def test_token_in_the_subprotocol_header(tokens):
    token = await _tok(tokens, "alice", 5)
    comm, sub = await open_ws("/ws/", ["imserver.v1", "imtoken." + token.replace(":", "."), "implatform.5"])
    assert sub == "imserver.v1"
    hello = await comm.receive_json_from()
    assert hello["op"] == "connected" and hello["data"]["user_id"] == "alice"
    await comm.disconnect()


async def test_too_many_connections_is_1601(tokens, settings):
    from apps.messaging.consumers import connection_count

    settings.IM_WS_MAX_CONNECTIONS = connection_count() + 1
    a = await connect(await _tok(tokens, "alice"))
    frame, close = await _refused(f"/ws/?token={await _tok(tokens, 'bob')}")
    assert (frame["code"], close) == (1601, protocol.CLOSE_TOO_MANY_CONNECTIONS)
    await a.close()


async def test_force_logout_sends_kicked_and_closes(tokens):
    web = await connect(await _tok(tokens, "alice", 5), 5)
    phone = await connect(await _tok(tokens, "alice", 1), 1)

    def logout():
        account_services.user_force_logout(user_id="alice", platform_id=5, actor=None)

    await database_sync_to_async(logout)()
    kicked = await web.frame()
    assert kicked["op"] == "kicked" and kicked["code"] == 1506 and kicked["data"]["reason"]
    closed = await web.comm.receive_output()
    assert closed["code"] == protocol.CLOSE_KICKED
    assert (await phone.call("ping"))["code"] == 0  # the other platform stays
    await phone.close()


async def test_a_new_login_kicks_the_old_connection(tokens):
    web = await connect(await _tok(tokens, "alice", 5), 5)
    await _tok(tokens, "alice", 5)
    kicked = await web.frame()
    assert kicked["op"] == "kicked"
    assert (await web.comm.receive_output())["code"] == protocol.CLOSE_KICKED


BAD_FRAMES = [
    ("not json", 1604),
    ("[1, 2]", 1604),
    ('{"op": 5}', 1604),
    ('{"op": "ping", "id": [1]}', 1604),
    ('{"op": "ping", "data": "x"}', 1604),
    ('{"op": "nope", "id": "x"}', 1605),
]


@pytest.mark.parametrize(("raw", "code"), BAD_FRAMES)
async def test_bad_frames_get_an_error_and_the_connection_survives(tokens, raw, code):
    a = await connect(await _tok(tokens, "alice"))
    await a.comm.send_to(text_data=raw)
    reply = await a.frame()
    assert reply["code"] == code and reply["msg"]
    assert (await a.call("ping"))["code"] == 0
    await a.close()


async def test_binary_and_oversized_frames_get_errors_and_the_connection_survives(tokens, settings):
    settings.IM_WS_MAX_FRAME_BYTES = 2048
    a = await connect(await _tok(tokens, "alice"))
    await a.comm.send_to(bytes_data=b"\x00\x01")
    assert (await a.frame())["code"] == 1604
    await a.comm.send_to(text_data='{"op": "ping", "data": {"x": "' + "é" * 1500 + '"}}')
    assert (await a.frame())["code"] == 1603
    assert (await a.call("ping"))["code"] == 0
    await a.close()


async def test_wrong_field_types_are_1001_and_do_not_close(tokens):
    a = await connect(await _tok(tokens, "alice"))
    await database_sync_to_async(tokens)("bob")
    cases = [
        {"client_msg_id": "c", "session_type": "1", "recv_id": "bob", "content_type": 101, "content": {"content": "x"}},
        {"client_msg_id": "c", "session_type": 1, "recv_id": "bob", "content_type": 101, "content": "x"},
        {"client_msg_id": "c", "session_type": 1, "recv_id": "bob", "content_type": 101, "content": {"content": ""}},
        {"client_msg_id": 5, "session_type": 1, "recv_id": "bob", "content_type": 101, "content": {"content": "x"}},
        {"session_type": 1, "recv_id": "bob", "content_type": 101, "content": {"content": "x"}},
        text("c", "bob", "x" * 20_000),
        {"client_msg_id": "c", "session_type": 2, "recv_id": "bob", "content_type": 101, "content": {"content": "x"}},
        {"client_msg_id": "c", "session_type": 1, "recv_id": "bob", "content_type": 1201, "content": {}},
    ]
    for data in cases:
        reply = await a.send(data)
        assert reply["code"] == 1001, (data, reply)
    for op, data in [
        ("msg.pull", {"conversation_id": "si_alice_bob", "from_seq": "1", "to_seq": 2}),
        ("msg.pull", {"conversation_id": 5, "from_seq": 1, "to_seq": 2}),
        ("msg.pull", {"conversation_id": "si_alice_bob", "seqs": "1"}),
        ("conv.read", {"conversation_id": "si_alice_bob", "seq": True}),
        ("msg.revoke", {"conversation_id": "si_alice_bob"}),
        ("typing", {"conversation_id": "si_alice_bob", "typing": "yes"}),
    ]:
        reply = await a.call(op, data)
        assert reply["code"] == 1001, (op, data, reply)
    assert (await a.send(text("ok", "bob")))["code"] == 0
    await a.close()


async def test_repeated_bad_frames_close_the_connection(tokens, settings):
    settings.IM_WS_MAX_BAD_FRAMES = 3
    a = await connect(await _tok(tokens, "alice"))
    for _ in range(3):
        await a.comm.send_to(text_data="{{{")
    frames = [await a.frame() for _ in range(4)]
    assert [f["code"] for f in frames[:3]] == [1604, 1604, 1604]
    assert "too many bad frames" in frames[3]["msg"]
    assert (await a.comm.receive_output())["code"] == protocol.CLOSE_TOO_MANY_BAD_FRAMES


async def test_idle_connections_are_closed_and_pings_keep_them_open(tokens, settings):
    settings.IM_WS_IDLE_TIMEOUT_SECONDS = 1.0
    a = await connect(await _tok(tokens, "alice"))
    for _ in range(3):  # 1.5 s in all, each ping well inside the timeout (a loaded CI machine is slow)
        await asyncio.sleep(0.5)
        assert (await a.call("ping"))["code"] == 0
    closed = await a.comm.receive_output(timeout=4)
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_IDLE_TIMEOUT, "reason": "idle timeout"}


async def test_forged_send_id_is_refused(tokens):
    a = await connect(await _tok(tokens, "alice"))
    await database_sync_to_async(tokens)("bob")
    reply = await a.send(text("c1", "alice", send_id="bob"))
    assert reply["code"] == 1002
    ok = await a.send(text("c2", "bob", send_id="alice"))
    assert ok["code"] == 0
    assert await database_sync_to_async(lambda: User.objects.count())() == 2
    await a.close()


async def test_kicked_connection_ignores_later_frames(tokens):
    web = await connect(await _tok(tokens, "alice", 5), 5)
    assert isinstance(web, Client)
    await database_sync_to_async(account_services.user_force_logout)(user_id="alice", platform_id=None, actor=None)
    assert (await web.frame())["op"] == "kicked"
