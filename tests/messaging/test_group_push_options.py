"""Group fan-out honours each member's receive option; typing reaches the group's members, unstored."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from apps.messaging import selectors, services
from apps.messaging.models import Message
from tests.messaging.conftest import connect
from tests.messaging.test_group_and_revoke import _group, _tok, gtext

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_member_who_rejects_the_group_gets_no_push_but_the_message_is_stored(tokens):
    await database_sync_to_async(_group)("alice", ["bob", "carol"])
    await database_sync_to_async(services.conversation_update)(user_id="carol", conversation_id="sg_g1", recv_opt=1)
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    c = await connect(await _tok(tokens, "carol"))
    reply = await a.send(gtext("g-1"))
    seq = reply["data"]["seq"]
    assert (await b.push())["data"]["seq"] == seq
    assert await c.nothing(0.3)
    pulled = await c.call("msg.pull", {"conversation_id": "sg_g1", "seqs": [seq]})
    assert pulled["data"]["messages"][0]["content"] == {"content": "hi all"}
    # back to normal: pushed again (the cached option is dropped on change)
    await database_sync_to_async(services.conversation_update)(user_id="carol", conversation_id="sg_g1", recv_opt=0)
    reply = await a.send(gtext("g-2"))
    assert (await c.push())["data"]["seq"] == reply["data"]["seq"]
    for client in (a, b, c):
        await client.close()


def test_the_fan_out_member_list_costs_the_same_queries_for_any_group_size(django_assert_num_queries, make_user):
    from django.core.cache import cache

    for size, gid in ((3, "small"), (60, "big")):
        members = [make_user(f"{gid}{i}").user_id for i in range(size)]
        _group(members[0], members[1:], group_id=gid)
        rejecting = members[1:3]
        for uid in rejecting:
            services.conversation_update(user_id=uid, conversation_id=f"sg_{gid}", recv_opt=1)
        cache.clear()
        with django_assert_num_queries(2):  # rejecters of the conversation, member ids
            targets = selectors.group_push_member_ids(group_id=gid)
        assert len(targets) == size - 2 and not set(targets) & set(rejecting)
        with django_assert_num_queries(0):
            selectors.group_push_member_ids(group_id=gid)


async def test_typing_in_a_group_reaches_the_online_members_and_is_never_stored(tokens):
    await database_sync_to_async(_group)("alice", ["bob", "carol"])
    await database_sync_to_async(tokens)("dave")
    a = await connect(await _tok(tokens, "alice"))
    b = await connect(await _tok(tokens, "bob"))
    c = await connect(await _tok(tokens, "carol"))
    before = await database_sync_to_async(Message.objects.count)()
    for _ in range(2):  # the second one takes the cached path
        reply = await a.call("typing", {"conversation_id": "sg_g1", "typing": True})
        assert reply["code"] == 0, reply
        for client in (b, c):
            push = await client.push("push.typing")
            assert push["data"] == {"conversation_id": "sg_g1", "user_id": "alice", "typing": True}
    assert await a.nothing(0.2)  # not echoed to the typing connection
    assert await database_sync_to_async(Message.objects.count)() == before
    # a non-member cannot type into the group; the connection stays up
    d = await connect(await _tok(tokens, "dave"))
    reply = await d.call("typing", {"conversation_id": "sg_g1", "typing": True})
    assert reply["code"] == 1002
    assert (await d.call("ping"))["code"] == 0
    # a member who leaves stops being able to type there
    from apps.accounts.models import User
    from apps.groups import services as groups

    assert (await b.call("typing", {"conversation_id": "sg_g1", "typing": True}))["code"] == 0
    bob = await database_sync_to_async(User.objects.get)(user_id="bob")
    await database_sync_to_async(groups.group_quit)(group_id="g1", user=bob)
    reply = await b.call("typing", {"conversation_id": "sg_g1", "typing": False})
    assert reply["code"] == 1203
    for client in (a, b, c, d):
        await client.close()
