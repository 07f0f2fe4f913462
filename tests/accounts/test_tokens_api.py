from __future__ import annotations

import time

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.accounts.constants import Platform, TokenStatus
from apps.accounts.models import Token
from apps.audit.models import AuditLog

pytestmark = pytest.mark.django_db


def _admin_token(client: APIClient, secret: str = "test-secret-0123456789", user_id: str = "imAdmin", **extra):
    return client.post("/api/v1/auth/admin-token", {"secret": secret, "user_id": user_id}, format="json", **extra)


def test_register_then_admin_token_then_user_token_then_me():
    client = APIClient()
    resp = _admin_token(client)
    assert resp.status_code == 200, resp.content
    admin_token = resp.json()["token"]
    assert resp.json()["expires_in"] == 90 * 24 * 3600

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_token}")
    resp = client.post(
        "/api/v1/users",
        {"users": [{"user_id": "alice", "nickname": "Alice", "face_url": "https://x/a.png", "ex": {"k": 1}}]},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["users"][0]["user_id"] == "alice"

    resp = client.post("/api/v1/auth/user-token", {"user_id": "alice", "platform_id": 1}, format="json")
    assert resp.status_code == 200, resp.content
    user_token = resp.json()["token"]

    alice = APIClient()
    alice.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token}")
    me = alice.get("/api/v1/users/me")
    assert me.status_code == 200
    assert me.json()["nickname"] == "Alice"
    assert me.json()["ex"] == {"k": 1}


def test_admin_token_with_wrong_secret_is_refused():
    resp = _admin_token(APIClient(), secret="nope")
    assert resp.status_code == 403
    assert resp.json()["code"] == 1002


def test_admin_token_for_a_user_outside_the_admin_list_is_refused():
    resp = _admin_token(APIClient(), user_id="mallory")
    assert resp.status_code == 403
    assert resp.json()["code"] == 1002


def test_admin_token_endpoint_is_rate_limited(settings):
    client = APIClient()
    codes = [_admin_token(client, secret=f"guess{i}").status_code for i in range(40)]
    assert 429 in codes
    resp = _admin_token(client, secret="guess-again")
    assert resp.status_code == 429
    assert resp.json()["code"] == 1005
    assert "Retry-After" in resp.headers


def test_a_forged_x_forwarded_for_does_not_escape_the_rate_limit():
    client = APIClient()
    codes = [
        _admin_token(client, secret=f"guess{i}", HTTP_X_FORWARDED_FOR=f"10.0.{i}.1").status_code for i in range(40)
    ]
    assert 429 in codes


def test_expired_token_gives_1501(alice, issue_token, settings):
    token = issue_token(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with time_machine.travel(time.time() + settings.IM_TOKEN_TTL_SECONDS + 10, tick=False):
        resp = client.get("/api/v1/users/me")
    assert resp.status_code == 401
    assert resp.json()["code"] == 1501


@pytest.mark.parametrize("bad", ["garbage", "a.b.c", "Zm9v:bar:baz", "x" * 2000])
def test_malformed_token_gives_1502(bad):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bad}")
    resp = client.get("/api/v1/users/me")
    assert resp.status_code == 401
    assert resp.json()["code"] == 1502


def test_token_signed_with_another_key_gives_1502(alice, issue_token, settings):
    token = issue_token(alice)
    settings.SECRET_KEY = "another-secret-key-" * 4
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/users/me").json()["code"] == 1502


def test_unknown_token_gives_1507(alice, issue_token):
    token = issue_token(alice)
    Token.objects.all().delete()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    from django.core.cache import cache

    cache.clear()
    resp = client.get("/api/v1/users/me")
    assert resp.status_code == 401
    assert resp.json()["code"] == 1507


def test_new_login_on_same_platform_kicks_old_token(alice, issue_token):
    old = issue_token(alice, Platform.IOS)
    other_platform = issue_token(alice, Platform.WEB)
    new = issue_token(alice, Platform.IOS)

    def me(token):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.get("/api/v1/users/me")

    assert me(old).json()["code"] == 1506
    assert me(new).status_code == 200
    assert me(other_platform).status_code == 200


def test_policy_one_per_class_kicks_same_class(alice, issue_token, settings):
    settings.IM_MULTI_LOGIN_POLICY = 4
    ios = issue_token(alice, Platform.IOS)
    web = issue_token(alice, Platform.WEB)
    issue_token(alice, Platform.ANDROID)  # same class (mobile) as iOS
    statuses = dict(Token.objects.values_list("platform_id", "status"))
    assert statuses[Platform.IOS] == TokenStatus.KICKED
    assert statuses[Platform.WEB] == TokenStatus.NORMAL
    assert ios != web


def test_policy_keep_many_keeps_tokens_up_to_the_limit(alice, issue_token, settings):
    settings.IM_MULTI_LOGIN_POLICY = 0
    settings.IM_MULTI_LOGIN_MAX_PER_PLATFORM = 2
    for _ in range(3):
        issue_token(alice, Platform.IOS)
    assert Token.objects.filter(status=TokenStatus.NORMAL).count() == 2
    assert Token.objects.filter(status=TokenStatus.KICKED).count() == 1


def test_policy_pc_and_one_other(alice, issue_token, settings):
    settings.IM_MULTI_LOGIN_POLICY = 5
    issue_token(alice, Platform.WINDOWS)
    issue_token(alice, Platform.MACOS)
    issue_token(alice, Platform.IOS)
    issue_token(alice, Platform.WEB)  # kicks iOS, not the PCs
    live = set(Token.objects.filter(status=TokenStatus.NORMAL).values_list("platform_id", flat=True))
    assert live == {Platform.WINDOWS, Platform.MACOS, Platform.WEB}


def test_force_logout_invalidates_tokens_at_once(admin_api, alice, issue_token):
    token = issue_token(alice, Platform.IOS)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/users/me").status_code == 200
    resp = admin_api.post("/api/v1/auth/force-logout", {"user_id": "alice", "platform_id": 1}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"code": 0, "msg": ""}
    assert client.get("/api/v1/users/me").json()["code"] == 1506


def test_ban_invalidates_tokens_and_refuses_new_ones(admin_api, alice, issue_token):
    token = issue_token(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    resp = admin_api.post("/api/v1/users/alice/ban", {"reason": "spam"}, format="json")
    assert resp.status_code == 200
    assert resp.json()["is_banned"] is True
    assert client.get("/api/v1/users/me").json()["code"] == 1103  # banned, whatever became of the token
    resp = admin_api.post("/api/v1/auth/user-token", {"user_id": "alice", "platform_id": 5}, format="json")
    assert resp.status_code == 403
    assert resp.json()["code"] == 1103
    assert admin_api.delete("/api/v1/users/alice/ban").json()["is_banned"] is False
    assert admin_api.post("/api/v1/auth/user-token", {"user_id": "alice", "platform_id": 5}, format="json").status_code == 200


def test_non_admin_cannot_register_or_issue_tokens(alice_api):
    resp = alice_api.post("/api/v1/users", {"users": [{"user_id": "eve"}]}, format="json")
    assert resp.status_code == 403 and resp.json()["code"] == 1002
    resp = alice_api.post("/api/v1/auth/user-token", {"user_id": "alice", "platform_id": 2}, format="json")
    assert resp.status_code == 403 and resp.json()["code"] == 1002
    resp = alice_api.post("/api/v1/auth/force-logout", {"user_id": "alice"}, format="json")
    assert resp.status_code == 403 and resp.json()["code"] == 1002


def test_anonymous_requests_get_1006():
    resp = APIClient().get("/api/v1/users/me")
    assert resp.status_code == 401
    assert resp.json()["code"] == 1006


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "users: This field is required."),
        ({"users": []}, "users"),
        ({"users": [{"user_id": "a:b"}]}, "user_id"),
        ({"users": [{"user_id": ""}]}, "user_id"),
        ({"users": [{"user_id": "x" * 65}]}, "user_id"),
        ({"users": [{"user_id": "ok", "ex": [1, 2]}]}, "ex: must be a JSON object"),
        ({"users": [{"user_id": "ok", "nickname": 5 * "n" * 20}]}, "nickname"),
        ({"users": "nope"}, "users"),
        ({"users": [{"user_id": "dup"}, {"user_id": "dup"}]}, "repeat"),
    ],
)
def test_bad_register_bodies_get_1001_with_readable_message(admin_api, body, fragment):
    resp = admin_api.post("/api/v1/users", body, format="json")
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == 1001
    assert fragment in resp.json()["msg"]


def test_malformed_json_gets_1001(admin_api):
    resp = admin_api.post("/api/v1/users", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["code"] == 1001


def test_bad_user_token_bodies_get_1001(admin_api, alice):
    for body in ({}, {"user_id": "alice"}, {"user_id": "alice", "platform_id": 99}, {"user_id": "alice", "platform_id": "x"}):
        resp = admin_api.post("/api/v1/auth/user-token", body, format="json")
        assert resp.status_code == 400 and resp.json()["code"] == 1001, body


def test_registering_an_existing_user_gives_1102(admin_api, alice):
    resp = admin_api.post("/api/v1/users", {"users": [{"user_id": "alice"}, {"user_id": "newbie"}]}, format="json")
    assert resp.status_code == 409
    assert resp.json()["code"] == 1102
    assert "alice" in resp.json()["msg"]
    from apps.accounts.models import User

    assert not User.objects.filter(user_id="newbie").exists()


def test_user_token_for_unknown_user_gives_1101(admin_api):
    resp = admin_api.post("/api/v1/auth/user-token", {"user_id": "ghost", "platform_id": 1}, format="json")
    assert resp.status_code == 404 and resp.json()["code"] == 1101


def test_every_audited_action_leaves_exactly_one_row(admin_api, admin_user, alice):
    def rows(action):
        return AuditLog.objects.filter(action=action)

    before = AuditLog.objects.count()
    admin_api.post("/api/v1/users", {"users": [{"user_id": "carol"}]}, format="json")
    assert rows("user.register").count() == 1
    assert rows("user.register").get().target_id == "carol"
    assert rows("user.register").get().actor == "imAdmin"

    n = rows("token.issue").count()
    admin_api.post("/api/v1/auth/user-token", {"user_id": "carol", "platform_id": 2}, format="json")
    assert rows("token.issue").count() == n + 1

    admin_api.post("/api/v1/auth/force-logout", {"user_id": "carol"}, format="json")
    assert rows("user.force_logout").count() == 1

    admin_api.post("/api/v1/users/carol/ban", {"reason": "spam"}, format="json")
    assert rows("user.ban").count() == 1
    assert rows("user.ban").get().details["reason"] == "spam"
    assert rows("user.ban").get().ip == "127.0.0.1"

    admin_api.delete("/api/v1/users/carol/ban")
    assert rows("user.unban").count() == 1
    assert AuditLog.objects.count() == before + 5


def test_users_by_ids_returns_public_profiles(alice_api, bob):
    resp = alice_api.get("/api/v1/users?ids=bob,ghost,alice")
    assert resp.status_code == 200
    ids = [u["user_id"] for u in resp.json()["results"]]
    assert sorted(ids) == ["alice", "bob"]
    assert "is_banned" not in resp.json()["results"][0]


def test_users_by_ids_refuses_more_than_1000_ids_with_1001(alice_api):
    many = ",".join(f"u{i}" for i in range(1001))
    resp = alice_api.get(f"/api/v1/users?ids={many}")
    assert resp.status_code == 400 and resp.json()["code"] == 1001 and "at most 1000" in resp.json()["msg"]
    assert alice_api.get("/api/v1/users?ids=,,").json() == {"count": 0, "results": []}


def test_user_search_is_admin_only_and_paged(admin_api, alice_api, make_user):
    for i in range(5):
        make_user(f"zed{i}", nickname=f"Zed {i}")
    assert alice_api.get("/api/v1/users?keyword=zed").json()["code"] == 1002
    resp = admin_api.get("/api/v1/users?keyword=zed&limit=2&offset=2")
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == 5
    assert [u["user_id"] for u in body["results"]] == ["zed2", "zed3"]


def test_patch_me_updates_profile(alice_api):
    resp = alice_api.patch("/api/v1/users/me", {"nickname": "Al", "ex": {"color": "red"}}, format="json")
    assert resp.status_code == 200
    assert resp.json()["nickname"] == "Al"
    assert alice_api.get("/api/v1/users/me").json()["ex"] == {"color": "red"}
    bad = alice_api.patch("/api/v1/users/me", {"global_recv_msg_opt": 9}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == 1001
