"""An operator's delete reaches online clients as ``push.msg.deleted``; pulls then return a placeholder."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from apps.accounts.models import User
from apps.messaging import services
from tests.messaging.conftest import connect, text
from tests.messaging.test_group_and_revoke import _group, _tok, gtext

pytestmark = pytest.mark.django_db(transaction=True)


def _delete(server_msg_id: str) -> dict:
    root = User.objects.filter(user_id="root").first() or User.objects.create_user("root", is_staff=True)
    return services.message_delete(server_msg_id=server_msg_id, actor=root, reason="spam")


async def test_single_chat_participants_drop_a_deleted_message(tokens):
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    ack = (await a.send(text("d-1", "bob", "spam")))["data"]
    await b.push()
    notice = await database_sync_to_async(_delete)(ack["server_msg_id"])
    for client in (a, b):
        push = await client.push("push.msg.deleted")
        assert push["data"] == notice == {
            "conversation_id": ack["conversation_id"], "seq": ack["seq"], "server_msg_id": ack["server_msg_id"]
        }
    pulled = await b.call("msg.pull", {"conversation_id": ack["conversation_id"], "seqs": [ack["seq"]]})
    (stub,) = pulled["data"]["messages"]
    assert (stub["status"], stub["content"], stub["server_msg_id"]) == (4, {}, ack["server_msg_id"])
    for client in (a, b):
        await client.close()


async def test_group_members_drop_a_deleted_message(tokens):
    await database_sync_to_async(_group)("alice", ["bob", "carol"])
    a = await connect(await _tok(tokens, "alice"))
    c = await connect(await _tok(tokens, "carol"))
    ack = (await a.send(gtext("gd-1")))["data"]
    await c.push()
    await database_sync_to_async(_delete)(ack["server_msg_id"])
    assert (await c.push("push.msg.deleted"))["data"]["seq"] == ack["seq"]
    for client in (a, c):
        await client.close()
