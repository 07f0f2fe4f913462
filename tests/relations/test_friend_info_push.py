"""A new nickname or face reaches the user's friends live (1209, push only, never stored)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from apps.accounts.models import User
from apps.messaging.models import Message
from apps.relations import services
from tests.messaging.conftest import connect

pytestmark = pytest.mark.django_db(transaction=True)


def _setup(issue_token, make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    services.friends_import(owner_id="alice", friend_ids=["bob"], actor=alice)
    return {u.user_id: issue_token(u, 5) for u in (alice, bob, carol)}


async def test_friends_learn_of_a_new_nickname_and_face(issue_token, make_user, api_client_for):
    tokens = await database_sync_to_async(_setup)(issue_token, make_user)
    before = await database_sync_to_async(Message.objects.count)()
    b = await connect(tokens["bob"])
    c = await connect(tokens["carol"])
    alice = await database_sync_to_async(User.objects.get)(user_id="alice")
    api = await database_sync_to_async(api_client_for)(alice)
    resp = await database_sync_to_async(api.patch)(
        "/api/v1/users/me", {"nickname": "Alice B.", "face_url": "https://x.example/a.png"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    push = await b.push("push.notification")
    assert push["data"]["content_type"] == 1209
    assert push["data"]["content"] == {
        "user_id": "alice", "nickname": "Alice B.", "face_url": "https://x.example/a.png",
        "changed": ["nickname", "face_url"],
    }
    assert await c.nothing(0.2)  # not a friend
    assert await database_sync_to_async(Message.objects.count)() == before  # nothing stored
    # other profile fields do not concern friends
    resp = await database_sync_to_async(api.patch)("/api/v1/users/me", {"ex": {"k": 1}}, format="json")
    assert resp.status_code == 200
    assert await b.nothing(0.2)
    for client in (b, c):
        await client.close()


@pytest.mark.django_db
def test_the_hook_reads_the_friends_once_logs_one_update_per_list_and_tells_only_friends(
    make_user, django_assert_num_queries
):
    alice = make_user("alice")
    for u in ("bob", "carol"):
        make_user(u)
    services.friends_import(owner_id="alice", friend_ids=["bob", "carol"], actor=alice)
    # the friends, then the version log: bump the heads, read their versions, insert the entries
    with django_assert_num_queries(4):
        assert sorted(services.friend_info_changed(user=alice, fields=["nickname"])) == ["bob", "carol"]
    assert services.friend_info_changed(user=alice, fields=["ex"]) == []
