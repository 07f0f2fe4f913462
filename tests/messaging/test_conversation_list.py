"""The conversation list (one joined query, plain rows) lists what the model-based listing did,
renders as its OpenAPI serializer says, and pages like DRF's paginator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.renderers import JSONRenderer

from apps.messaging import selectors, services
from apps.messaging.api.views import ConversationOutput
from apps.messaging.models import Conversation, SessionType, UserConversation
from apps.messaging.services.send import SendRequest, messages_send

pytestmark = pytest.mark.django_db


def _reference_list(user_id: str, include_hidden: bool) -> list[dict[str, Any]]:
    """The listing as it was written before: model instances, state by state."""
    states = selectors._user_conversations(user_id)
    items = []
    for conv in Conversation.objects.filter(conversation_id__in=list(states), max_seq__gt=0):
        state = states[conv.conversation_id]
        if state.get("is_hidden") and not include_hidden:
            continue
        conv.max_seq = selectors._visible_max(conv.max_seq, state)
        read_seq = min(state["read_seq"], conv.max_seq)
        items.append({
            "conversation_id": conv.conversation_id, "session_type": conv.session_type, "group_id": conv.group_id,
            "peer_id": next(iter(selectors.peers_of(conv, user_id)), user_id)
            if conv.session_type != SessionType.GROUP else "",
            "max_seq": conv.max_seq, "min_seq": conv.min_seq, "read_seq": read_seq,
            "unread_count": max(0, conv.max_seq - read_seq), "last_msg_time": conv.last_msg_time,
            "is_pinned": bool(state.get("is_pinned", False)), "recv_opt": state.get("recv_opt", 0),
            "draft": state.get("draft", ""), "draft_time": state.get("draft_time", 0),
            "is_hidden": bool(state.get("is_hidden", False)),
            "is_member": conv.session_type != SessionType.GROUP or not state.get("limit"),
        })
    items.sort(key=lambda c: (not c["is_pinned"], -c["last_msg_time"], c["conversation_id"]))
    return items


def _send(send_id: str, *, recv_id: str = "", group_id: str = "", text: str = "hi") -> None:
    st = SessionType.GROUP if group_id else SessionType.SINGLE
    [result] = messages_send([SendRequest(send_id=send_id, session_type=st, recv_id=recv_id, group_id=group_id,
                                          content_type=101, content={"content": text})])
    assert not isinstance(result, Exception), result


@pytest.fixture
def world(alice, bob, make_user, settings) -> None:
    """alice: single chats (one pinned with a draft, one hidden, one with a revoked last message), a group
    she is in without a state row, a group she left, and a state row of a group she never joined."""
    from apps.groups.services import group_create, group_quit

    settings.IM_FRIENDS_ONLY_CHAT = False
    settings.IM_SEND_RATE_PER_SECOND = 0
    carol, dave, erin = (make_user(u) for u in ("carol", "dave", "erin"))
    _send("bob", recv_id="alice")
    _send("alice", recv_id="bob", text="back")
    services.conversation_read(user_id="bob", conversation_id="si_alice_bob", seq=2)
    _send("carol", recv_id="alice")
    services.conversation_update(user_id="alice", conversation_id="si_alice_carol", is_pinned=True, draft="d")
    _send("dave", recv_id="alice")
    services.conversation_update(user_id="alice", conversation_id="si_alice_dave", is_hidden=True)
    _send("erin", recv_id="alice")
    msg = services.message_send(send_id="erin", session_type=1, recv_id="alice", content_type=101,
                                content={"content": "oops"})
    services.message_revoke(user_id="erin", server_msg_id=msg.ack["server_msg_id"], as_app_admin=False)
    group_create(owner=bob, name="in", member_ids=["alice", "carol"], admin_ids=[], group_id="gin")
    _send("bob", group_id="gin")
    group_create(owner=bob, name="left", member_ids=["alice", "carol"], admin_ids=[], group_id="gleft")
    _send("bob", group_id="gleft")
    group_quit(group_id="gleft", user=alice)
    _send("bob", group_id="gleft", text="after alice left")
    group_create(owner=bob, name="never", member_ids=["carol"], admin_ids=[], group_id="gnever")
    _send("bob", group_id="gnever")
    UserConversation.objects.create(owner_id="alice", conversation_id="sg_gnever", session_type=SessionType.GROUP)
    UserConversation.objects.filter(owner_id="alice", conversation_id="sg_gin").delete()


@pytest.mark.parametrize("include_hidden", [False, True])
def test_the_list_is_what_the_model_based_listing_gave(world, include_hidden):
    items = selectors.conversations_list(user_id="alice", include_hidden=include_hidden)
    assert items == _reference_list("alice", include_hidden)
    ids = [c["conversation_id"] for c in items]
    assert ids[0] == "si_alice_carol" and "sg_gin" in ids and "sg_gnever" not in ids
    assert ("si_alice_dave" in ids) is include_hidden
    left = next(c for c in items if c["conversation_id"] == "sg_gleft")
    assert left["is_member"] is False and left["max_seq"] < Conversation.objects.get(conversation_id="sg_gleft").max_seq


def test_the_api_renders_as_the_schema_serializer_does(world, alice_api):
    body = alice_api.get("/api/v1/conversations", {"include_hidden": "true"}).json()
    assert body["count"] == 7 and body["next"] is None and body["previous"] is None
    results = body["results"]
    # the same keys and values (the list puts last_message before peer_read_seq; the schema the other way)
    assert results == json.loads(JSONRenderer().render(ConversationOutput(results, many=True).data))
    by_id = {c["conversation_id"]: c for c in results}
    assert by_id["si_alice_bob"]["last_message"]["content"] == {"content": "back"}
    assert by_id["si_alice_bob"]["peer_read_seq"] == 2
    assert all(c["last_message"]["seq"] == c["max_seq"] for c in results)
    assert "peer_read_seq" not in by_id["sg_gin"] and by_id["sg_gin"]["last_message"]["group_id"] == "gin"


def test_pages_and_links(world, alice_api):
    full = alice_api.get("/api/v1/conversations").json()["results"]
    page = alice_api.get("/api/v1/conversations", {"limit": 2, "offset": 2}).json()
    assert page["count"] == 6 and page["results"] == full[2:4]
    assert page["next"] == "http://testserver/api/v1/conversations?limit=2&offset=4"
    assert page["previous"] == "http://testserver/api/v1/conversations?limit=2"
    past = alice_api.get("/api/v1/conversations", {"offset": 10}).json()
    assert past["count"] == 6 and past["results"] == []


def test_the_last_message_is_the_history_row_as_the_wire_renders_it(world, alice_api):
    from apps.messaging.models import Message, MsgStatus
    from apps.messaging.wire import message_wire

    conv = Conversation.objects.get(conversation_id="si_alice_bob")
    Message.objects.filter(conversation_id=conv.conversation_id, seq=conv.max_seq).update(status=MsgStatus.REVOKED)
    results = alice_api.get("/api/v1/conversations", {"include_hidden": "true"}).json()["results"]
    for item in results:
        row = Message.objects.get(conversation_id=item["conversation_id"], seq=item["max_seq"])
        assert item["last_message"] == json.loads(JSONRenderer().render(message_wire(row)))
    revoked = next(c for c in results if c["conversation_id"] == "si_alice_bob")["last_message"]
    assert revoked["status"] == MsgStatus.REVOKED and revoked["content"] == {}
