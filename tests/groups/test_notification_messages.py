"""Friend and group events land in the message log (with seqs) and reach websockets live."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from apps.accounts.models import User
from apps.common.errors import Code, DomainError
from apps.groups import services as groups
from apps.messaging.models import Message
from apps.relations import services as relations


def _log(conversation_id: str) -> list[tuple[int, int]]:
    return list(Message.objects.filter(conversation_id=conversation_id).order_by("seq").values_list("seq", "content_type"))


@pytest.mark.django_db
def test_group_events_are_stored_as_tips_with_consecutive_seqs(alice, bob, make_user):
    carol = make_user("carol")
    g = groups.group_create(owner=alice, name="t", member_ids=["carol"], admin_ids=["bob"], group_id="gx")
    groups.group_update(group_id="gx", actor=alice, data={"name": "t2"})
    groups.group_member_mute(group_id="gx", actor=bob, user_id="carol", seconds=60)
    groups.group_kick(group_id="gx", actor=alice, user_ids=["carol"])
    groups.group_dismiss(group_id=g.group_id, actor=alice)
    assert _log("sg_gx") == [(1, 1501), (2, 1520), (3, 1512), (4, 1508), (5, 1511)]
    # the kicked member also gets a personal copy, in the 1:1 conversation with the operator
    personal = Message.objects.get(conversation_id="si_alice_carol")
    assert (personal.content_type, personal.recv_id, personal.content["group"]["group_id"]) == (1508, "carol", "gx")
    assert carol.user_id == "carol"


@pytest.mark.django_db
def test_friend_events_are_stored_for_the_users_concerned(alice, bob):
    req = relations.friend_request_send(from_user=alice, to_user_id="bob", message="hi")
    relations.friend_request_accept(request_id=req.pk, by=bob)
    relations.friend_delete(owner=bob, friend_id="alice")
    assert _log("si_alice_bob") == [(1, 1203), (2, 1201), (3, 1205)]
    relations.black_add(owner=alice, user_id="bob")
    assert _log("si_alice_alice") == [(1, 1207)]  # the blocker's own devices, not the blocked user


@pytest.mark.django_db
def test_a_blocked_users_messages_fail_with_1302_through_the_messaging_service(alice, bob):
    from apps.messaging.services import message_send

    relations.black_add(owner=alice, user_id="bob")
    with pytest.raises(DomainError) as err:
        message_send(send_id="bob", session_type=1, recv_id="alice", content_type=101, content={"content": "x"},
                     client_msg_id="c1")
    assert err.value.code == Code.BLOCKED_BY_PEER
    # the other way is fine: blocking is one-directional
    message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101, content={"content": "x"},
                 client_msg_id="c2")
    relations.black_remove(owner=alice, user_id="bob")
    message_send(send_id="bob", session_type=1, recv_id="alice", content_type=101, content={"content": "x"},
                 client_msg_id="c3")


@pytest.mark.django_db
def test_group_rules_apply_to_sends_through_the_messaging_service(alice, bob, make_user):
    from apps.messaging.services import message_send

    make_user("carol")
    make_user("dave")
    groups.group_create(owner=alice, name="t", member_ids=["carol"], admin_ids=["bob"], group_id="gy")

    def send(user_id: str, n: str) -> int:
        try:
            message_send(send_id=user_id, session_type=3, group_id="gy", content_type=101, content={"content": n},
                         client_msg_id=n)
        except DomainError as exc:
            return int(exc.code)
        return 0

    assert send("dave", "d1") == Code.NOT_IN_GROUP
    groups.group_member_mute(group_id="gy", actor=bob, user_id="carol", seconds=60)
    assert send("carol", "c1") == Code.MUTED
    groups.group_member_unmute(group_id="gy", actor=bob, user_id="carol")
    assert send("carol", "c2") == 0
    groups.group_mute(group_id="gy", actor=bob, muted=True)
    assert send("carol", "c3") == Code.GROUP_MUTED
    assert send("bob", "b1") == 0
    groups.group_dismiss(group_id="gy", actor=alice)
    assert send("alice", "a1") == Code.GROUP_DISMISSED


@pytest.mark.django_db(transaction=True)
async def test_events_are_pushed_live_over_the_websocket(tokens):
    from tests.messaging.conftest import connect

    def setup() -> tuple[User, User]:
        a = User.objects.create_user("alice", nickname="Alice")
        b = User.objects.create_user("bob", nickname="Bob")
        User.objects.create_user("carol")
        groups.group_create(owner=a, name="t", member_ids=["bob", "carol"], admin_ids=[], group_id="gz")
        return a, b

    alice, bob = await database_sync_to_async(setup)()
    b = await connect(await database_sync_to_async(tokens)("bob"))
    c = await connect(await database_sync_to_async(tokens)("carol"))
    await database_sync_to_async(groups.group_kick)(group_id="gz", actor=alice, user_ids=["bob"])
    push = await b.push()  # the kicked member learns of it live
    assert push["data"]["content_type"] == 1508 and push["data"]["recv_id"] == "bob"
    tip = await c.push()
    assert (tip["data"]["content_type"], tip["data"]["conversation_id"]) == (1508, "sg_gz")
    await database_sync_to_async(relations.friend_request_send)(from_user=alice, to_user_id="bob", message="hi")
    push = await b.push()
    assert push["data"]["content_type"] == 1203 and push["data"]["content"]["message"] == "hi"
    for client in (b, c):
        await client.close()
