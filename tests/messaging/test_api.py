"""REST: conversations, history, send, revoke, delete-for-me; access refused; query budgets."""

from __future__ import annotations

import pytest

from apps.accounts.constants import Platform
from apps.messaging import selectors, services
from apps.messaging.models import Conversation
from apps.messaging.services.send import SendRequest, messages_send

pytestmark = pytest.mark.django_db


def _send(api, recv_id: str, body: str = "hi", client_msg_id: str = "", **extra):
    return api.post(
        "/api/v1/messages",
        {"client_msg_id": client_msg_id, "session_type": 1, "recv_id": recv_id, "content_type": 101,
         "content": {"content": body}, **extra},
        format="json",
    )


def test_send_then_list_conversations_with_unread_and_last_message(
    alice_api, bob_api, django_capture_on_commit_callbacks, settings
):
    settings.IM_CONVERSATION_LIST_CACHE_SECONDS = 0  # every read rendered: the peer's read mark shows at once
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            resp = _send(alice_api, "bob", f"m{i}", client_msg_id=f"c{i}")
            assert resp.status_code == 200, resp.content
    assert resp.json()["seq"] == 3 and resp.json()["duplicate"] is False
    listing = bob_api.get("/api/v1/conversations").json()
    assert listing["count"] == 1
    conv = listing["results"][0]
    assert conv["conversation_id"] == "si_alice_bob" and conv["peer_id"] == "alice"
    assert (conv["unread_count"], conv["read_seq"], conv["max_seq"]) == (3, 0, 3)
    assert conv["last_message"]["content"] == {"content": "m2"}
    mine = alice_api.get("/api/v1/conversations").json()["results"][0]
    assert mine["unread_count"] == 0 and mine["peer_read_seq"] == 0
    read = bob_api.post("/api/v1/conversations/si_alice_bob/read", {"seq": 2}, format="json")
    assert read.status_code == 200 and read.json()["read_seq"] == 2
    assert bob_api.get("/api/v1/conversations").json()["results"][0]["unread_count"] == 1
    assert alice_api.get("/api/v1/conversations").json()["results"][0]["peer_read_seq"] == 2


def test_duplicate_send_over_rest(alice_api, bob):
    first = _send(alice_api, "bob", client_msg_id="same").json()
    again = _send(alice_api, "bob", "different", client_msg_id="same").json()
    assert again["server_msg_id"] == first["server_msg_id"] and again["duplicate"] is True


def test_history_range_before_and_latest(alice_api, bob_api):
    for i in range(5):
        _send(alice_api, "bob", f"m{i}")
    url = "/api/v1/conversations/si_alice_bob/messages"
    assert [m["seq"] for m in bob_api.get(url).json()["messages"]] == [1, 2, 3, 4, 5]
    assert [m["seq"] for m in bob_api.get(url, {"from_seq": 2, "to_seq": 3}).json()["messages"]] == [2, 3]
    assert [m["seq"] for m in bob_api.get(url, {"before_seq": 5, "limit": 2}).json()["messages"]] == [3, 4]
    bad = bob_api.get(url, {"before_seq": 5, "from_seq": 1})
    assert bad.status_code == 400 and bad.json()["code"] == 1001


def test_patch_conversation_pin_recv_opt_draft_hide(alice_api, bob_api):
    _send(alice_api, "bob")
    resp = bob_api.patch(
        "/api/v1/conversations/si_alice_bob",
        {"is_pinned": True, "recv_opt": 1, "draft": "half a thought", "is_hidden": True},
        format="json",
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["is_pinned"] is True and resp.json()["draft"] == "half a thought"
    assert bob_api.get("/api/v1/conversations").json()["count"] == 0  # hidden
    assert bob_api.get("/api/v1/conversations", {"include_hidden": "true"}).json()["count"] == 1
    rejected = _send(alice_api, "bob")  # bob rejects this conversation now
    assert rejected.status_code == 403 and rejected.json()["code"] == 1306
    bad = bob_api.patch("/api/v1/conversations/si_alice_bob", {"recv_opt": 7}, format="json")
    assert bad.status_code == 400


def test_revoke_and_delete_for_me_over_rest(alice_api, bob_api):
    sent = _send(alice_api, "bob", "oops").json()
    assert bob_api.post(f"/api/v1/messages/{sent['server_msg_id']}/revoke").json()["code"] == 1002
    resp = alice_api.post(f"/api/v1/messages/{sent['server_msg_id']}/revoke")
    assert resp.status_code == 200 and resp.json()["notice"]["content_type"] == 2101
    history = bob_api.get("/api/v1/conversations/si_alice_bob/messages").json()["messages"]
    assert history[0]["status"] == 5 and history[0]["content"] == {}
    other = _send(alice_api, "bob", "keep").json()
    assert bob_api.post(f"/api/v1/messages/{other['server_msg_id']}/delete-for-me").status_code == 200
    bob_seqs = [m["seq"] for m in bob_api.get("/api/v1/conversations/si_alice_bob/messages").json()["messages"]]
    alice_seqs = [m["seq"] for m in alice_api.get("/api/v1/conversations/si_alice_bob/messages").json()["messages"]]
    assert other["seq"] not in bob_seqs and other["seq"] in alice_seqs
    pulled = selectors.messages_pull(user_id="bob", conversation_id="si_alice_bob", from_seq=1, to_seq=10)
    assert pulled.messages[-1]["status"] == 4  # a placeholder for bob


def test_admin_sends_on_behalf_and_users_cannot(admin_api, alice_api, alice, bob):
    resp = admin_api.post(
        "/api/v1/messages",
        {"send_id": "alice", "session_type": 1, "recv_id": "bob", "content_type": 101, "content": {"content": "sys"}},
        format="json",
    )
    assert resp.status_code == 200, resp.content
    forged = _send(alice_api, "bob", send_id="bob")
    assert forged.status_code == 403 and forged.json()["code"] == 1002


def test_users_send_from_their_tokens_platform_and_cannot_send_notifications(alice_api, bob):
    resp = _send(alice_api, "bob", sender_platform_id=1)
    assert resp.status_code == 200, resp.content
    stored = selectors.messages_history(user_id="bob", conversation_id="si_alice_bob")[-1]
    assert stored.sender_platform_id == Platform.WEB  # the token's platform, not the claimed one
    notice = _send(alice_api, "bob", session_type=4)
    assert notice.status_code == 403 and notice.json()["code"] == 1002


def test_admin_sending_on_behalf_of_an_unknown_user_is_1101(admin_api, bob):
    resp = admin_api.post(
        "/api/v1/messages",
        {"send_id": "ghost", "session_type": 1, "recv_id": "bob", "content_type": 101, "content": {"content": "x"}},
        format="json",
    )
    assert resp.status_code == 404 and resp.json()["code"] == 1101
    for body, code in (
        ({"session_type": 1, "recv_id": "ghost"}, 1101),
        ({"session_type": 4, "recv_id": "ghost"}, 1101),
        ({"session_type": 3, "group_id": "no-such-group"}, 1201),
    ):
        resp = admin_api.post(
            "/api/v1/messages", {**body, "content_type": 101, "content": {"content": "x"}}, format="json"
        )
        assert resp.status_code == 404 and resp.json()["code"] == code, (body, resp.content)
    assert not Conversation.objects.exists()  # nothing was stored for addressees that do not exist


def test_another_users_conversation_is_refused_on_every_endpoint(alice_api, bob, make_user, api_client_for):
    sent = _send(alice_api, "bob", "secret").json()
    mallory = api_client_for(make_user("mallory"))
    cid = "si_alice_bob"
    responses = [
        mallory.get(f"/api/v1/conversations/{cid}/messages"),
        mallory.post(f"/api/v1/conversations/{cid}/read", {"seq": 1}, format="json"),
        mallory.patch(f"/api/v1/conversations/{cid}", {"is_pinned": True}, format="json"),
    ]
    for resp in responses:
        assert resp.status_code == 403 and resp.json()["code"] == 1002, resp.content
        assert b"secret" not in resp.content
    for url in (f"/api/v1/messages/{sent['server_msg_id']}/revoke", f"/api/v1/messages/{sent['server_msg_id']}/delete-for-me"):
        resp = mallory.post(url)
        assert resp.status_code == 404 and resp.json()["code"] == 1401
    assert mallory.get("/api/v1/conversations").json()["count"] == 0
    assert mallory.get("/api/v1/conversations/si_nobody_x/messages").json()["code"] == 1004


def test_bad_send_bodies_are_1001_never_500(alice_api, bob):
    for body in (
        {},
        {"session_type": 1, "recv_id": "bob", "content_type": 101, "content": "text"},
        {"session_type": 9, "recv_id": "bob", "content_type": 101, "content": {"content": "x"}},
        {"session_type": 1, "content_type": 101, "content": {"content": "x"}},
        {"session_type": 3, "content_type": 101, "content": {"content": "x"}},
        {"session_type": 1, "recv_id": "bob", "content_type": 109, "content": {"latitude": 200, "longitude": 0}},
    ):
        resp = alice_api.post("/api/v1/messages", body, format="json")
        assert resp.status_code == 400 and resp.json()["code"] == 1001, (body, resp.content)
    for raw in (  # valid JSON that cannot be stored: a lone surrogate, an integer beyond 64 bits
        '{"session_type": 1, "recv_id": "bob", "content_type": 101, "content": {"content": "\\ud800"}}',
        '{"session_type": 1, "recv_id": "bob", "content_type": 110, "content": {"data": 123456789012345678901234567890}}',
    ):
        resp = alice_api.post("/api/v1/messages", raw, content_type="application/json")
        assert resp.status_code == 400 and resp.json()["code"] == 1001, (raw, resp.content)


# ------------------------------------------------------------------ query budgets
def test_query_budget_of_a_single_chat_send(alice, bob, django_assert_num_queries):
    def send(n: int):
        return messages_send([SendRequest(send_id="alice", session_type=1, recv_id="bob", content_type=101,
                                          content={"content": "x"}, client_msg_id=f"q{n}")])

    send(0)  # warms the relation caches
    # idempotency lookup, recipient with their conversation option (one join); savepoint; seq upsert +
    # select; history insert; offline insert; per-user rows upsert; release savepoint
    with django_assert_num_queries(9):
        send(1)


def test_query_budget_of_a_batch_is_the_same_as_of_one_send(alice, bob, make_user, django_assert_num_queries, settings):
    settings.IM_SEND_RATE_PER_SECOND = 0  # 45 sends by one user at once: about the budget, not the rate
    users = [make_user(f"u{i}") for i in range(5)]
    reqs = [SendRequest(send_id="alice", session_type=1, recv_id=u.user_id, content_type=101,
                        content={"content": "x"}, client_msg_id=f"w{u.user_id}") for u in users]
    messages_send(reqs)
    reqs = [SendRequest(send_id="alice", session_type=1, recv_id=u.user_id, content_type=101,
                        content={"content": "x"}, client_msg_id=f"b{i}-{u.user_id}") for i in range(4) for u in users]
    with django_assert_num_queries(9):  # 20 sends into 5 conversations: the same statements
        results = messages_send(reqs)
    assert all(r.ack["seq"] >= 2 for r in results)


def test_query_budget_of_a_pull(alice, bob, django_assert_num_queries, settings):
    settings.IM_SEND_RATE_PER_SECOND = 0
    for i in range(50):
        services.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101,
                              content={"content": str(i)})
    # conversation + access, offline range, deletions-for-me
    with django_assert_num_queries(3):
        result = selectors.messages_pull(user_id="bob", conversation_id="si_alice_bob", from_seq=1, to_seq=50)
    assert len(result.messages) == 50


def test_query_budget_of_the_conversation_list(alice, make_user, django_assert_num_queries):
    for i in range(5):
        peer = make_user(f"peer{i}")
        services.message_send(send_id=peer.user_id, session_type=1, recv_id="alice", content_type=101,
                              content={"content": "x"})
    selectors.conversations_list(user_id="alice")  # warms the group-membership cache
    # state rows joined with conversations; last messages, peers' read seqs
    with django_assert_num_queries(3):
        items = selectors.conversations_decorate(user_id="alice", items=selectors.conversations_list(user_id="alice"))
    assert len(items) == 5 and all(c["unread_count"] == 1 and c["last_message"] for c in items)


def test_query_budget_of_a_group_send(alice, make_user, django_assert_num_queries, settings):
    settings.IM_SEND_RATE_PER_SECOND = 0
    from apps.groups.services import group_create

    members = [make_user(f"m{i}").user_id for i in range(30)]
    group = group_create(owner=alice, name="team", member_ids=members, admin_ids=[], group_id="gq")

    def send(tag: str):
        return messages_send([SendRequest(send_id="alice", session_type=3, group_id=group.group_id,
                                          content_type=101, content={"content": "x"}, client_msg_id=tag)])

    send("warm")  # group status and membership come from the cache from now on
    # idempotency lookup; savepoint; seq upsert + select; history insert; offline insert;
    # the sender's conversation row upsert; release savepoint (nothing per member)
    with django_assert_num_queries(8):
        (result,) = send("q")
    assert result.ack["seq"] >= 2
