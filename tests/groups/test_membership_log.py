"""Joining and leaving a group set the member's view of the group's message log.

New members start with nothing unread and read the whole history; former members
(kicked, quit) read up to the seq frozen when they left and nothing after; members of a
dismissed group keep reading everything.
"""

from __future__ import annotations

import orjson
import pytest

from apps.accounts.models import User
from apps.common.errors import Code, DomainError
from apps.groups import services as groups
from apps.groups.models import Verification
from apps.messaging import selectors, services
from apps.messaging.models import UserConversation

pytestmark = pytest.mark.django_db
CID = "sg_g1"


@pytest.fixture
def team(alice, bob, make_user):
    for u in ("carol", "dave", "erin"):
        make_user(u)
    groups.group_create(owner=alice, name="team", member_ids=["bob"], admin_ids=[], group_id="g1")
    return "g1"


def _say(user_id: str, n: int, group_id: str = "g1") -> list[int]:
    return [
        services.message_send(
            send_id=user_id, session_type=3, group_id=group_id, content_type=101, content={"content": f"m{i}"}
        ).ack["seq"]
        for i in range(n)
    ]


def _newest(user_id: str) -> dict[str, int] | None:
    return selectors.seq_newest(user_id=user_id).get(CID)


def _pull(user_id: str, lo: int = 1, hi: int = 1000) -> list[dict]:
    result = selectors.messages_pull(user_id=user_id, conversation_id=CID, from_seq=lo, to_seq=hi)
    return orjson.loads(orjson.dumps(result.messages))


def _code(fn, *args, **kwargs) -> int:
    with pytest.raises(DomainError) as err:
        fn(*args, **kwargs)
    return err.value.code


def test_members_of_a_new_group_start_with_nothing_unread(team):
    for user_id in ("alice", "bob"):
        state = _newest(user_id)
        assert state is not None and state["read_seq"] == state["max_seq"] >= 1
    (item,) = selectors.conversations_list(user_id="bob")
    assert item["unread_count"] == 0 and item["is_member"] is True


def test_invited_member_has_no_unread_backlog_but_reads_the_whole_history(team, alice):
    _say("alice", 3)
    groups.group_invite(group_id="g1", actor=alice, user_ids=["carol"])
    state = _newest("carol")
    assert state["read_seq"] == state["max_seq"]
    pulled = _pull("carol")
    assert [m["seq"] for m in pulled] == list(range(1, state["max_seq"] + 1))
    assert [m["content"]["content"] for m in pulled if m["content_type"] == 101] == ["m0", "m1", "m2"]
    # later messages are unread as usual
    _say("alice", 2)
    (item,) = selectors.conversations_list(user_id="carol")
    assert item["unread_count"] == 2


def test_direct_join_and_approved_request_start_read_at_the_current_seq(team, alice):
    groups.group_update(group_id="g1", actor=alice, data={"need_verification": Verification.DIRECT})
    _say("alice", 2)
    groups.group_join(group_id="g1", user=User.objects.get(user_id="dave"))
    assert _newest("dave")["read_seq"] == _newest("dave")["max_seq"]
    groups.group_update(group_id="g1", actor=alice, data={"need_verification": Verification.ALL_NEED_APPROVAL})
    req = groups.group_join(group_id="g1", user=User.objects.get(user_id="erin"))["request"]
    _say("alice", 2)
    groups.group_request_accept(request_id=req.pk, actor=alice)
    state = _newest("erin")
    assert state["read_seq"] == state["max_seq"]


def test_a_kicked_member_reads_up_to_the_kick_and_nothing_after(team, alice, api_client_for, bob):
    _say("bob", 2)
    groups.group_kick(group_id="g1", actor=alice, user_ids=["bob"])
    frozen = _newest("alice")["max_seq"]  # the kick tip is the last message bob sees
    later = _say("alice", 3)
    state = _newest("bob")
    assert state["max_seq"] == frozen
    pulled = _pull("bob")
    assert [m["seq"] for m in pulled] == list(range(1, frozen + 1))
    assert pulled[-1]["content_type"] == 1508
    # asking for later seqs by range or by list yields nothing
    assert _pull("bob", later[0], later[-1]) == []
    by_list = selectors.messages_pull(user_id="bob", conversation_id=CID, seqs=later).messages
    assert by_list == []
    # history stops at the same seq
    history = selectors.messages_history(user_id="bob", conversation_id=CID, limit=100)
    assert max(m.seq for m in history) == frozen
    resp = api_client_for(bob).get(f"/api/v1/conversations/{CID}/messages", {"limit": 100})
    assert resp.status_code == 200 and max(m["seq"] for m in resp.json()["messages"]) == frozen
    # the conversation is still listed, marked as left, with the frozen max seq
    (item,) = [c for c in selectors.conversations_list(user_id="bob") if c["conversation_id"] == CID]
    assert (item["is_member"], item["max_seq"]) == (False, frozen)
    # reading clamps to the frozen seq; sending is refused
    assert services.conversation_read(user_id="bob", conversation_id=CID, seq=later[-1])["read_seq"] == frozen
    assert _code(services.message_send, send_id="bob", session_type=3, group_id="g1", content_type=101,
                 content={"content": "let me in"}) == Code.NOT_IN_GROUP
    # nor can a former member revoke or delete-for-me what came after
    later_msg = selectors.messages_history(user_id="alice", conversation_id=CID, limit=1)[0]
    assert _code(services.message_delete_for_me, user_id="bob",
                 server_msg_id=later_msg.server_msg_id) == Code.MESSAGE_NOT_FOUND
    assert _code(services.message_revoke, user_id="bob", server_msg_id=later_msg.server_msg_id) == Code.MESSAGE_NOT_FOUND


def test_a_member_who_quits_is_frozen_at_the_quit_tip(team):
    bob = User.objects.get(user_id="bob")
    groups.group_quit(group_id="g1", user=bob)
    frozen = _newest("alice")["max_seq"]
    _say("alice", 2)
    assert _newest("bob")["max_seq"] == frozen
    assert _pull("bob")[-1]["content_type"] == 1504


def test_coming_back_clears_the_freeze_and_opens_the_whole_history(team, alice):
    groups.group_kick(group_id="g1", actor=alice, user_ids=["bob"])
    _say("alice", 3)
    groups.group_invite(group_id="g1", actor=alice, user_ids=["bob"])
    state = _newest("bob")
    assert state["max_seq"] == _newest("alice")["max_seq"] and state["read_seq"] == state["max_seq"]
    assert [m["seq"] for m in _pull("bob")] == list(range(1, state["max_seq"] + 1))
    assert UserConversation.objects.get(owner_id="bob", conversation_id=CID).frozen_max_seq == 0


def test_someone_never_in_the_group_reads_nothing(team):
    assert _newest("carol") is None
    assert _code(selectors.messages_pull, user_id="carol", conversation_id=CID, from_seq=1, to_seq=10) == Code.NO_PERMISSION
    assert _code(selectors.messages_history, user_id="carol", conversation_id=CID) == Code.NO_PERMISSION


def test_members_of_a_dismissed_group_keep_reading_everything(team, alice):
    _say("bob", 2)
    groups.group_dismiss(group_id="g1", actor=alice)
    state = _newest("bob")
    assert state["max_seq"] == _newest("alice")["max_seq"]
    assert _pull("bob")[-1]["content_type"] == 1511
    assert _code(services.message_send, send_id="bob", session_type=3, group_id="g1", content_type=101,
                 content={"content": "x"}) == Code.GROUP_DISMISSED
