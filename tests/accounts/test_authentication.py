"""Bearer authentication: one user-row query per request, read fresh, so a ban counts at once."""

from __future__ import annotations

from apps.accounts.models import User


def test_the_user_comes_whole_in_one_query(alice, alice_api, django_assert_num_queries):
    alice_api.get("/api/v1/users/me")  # warm the token status cache
    with django_assert_num_queries(1):
        body = alice_api.get("/api/v1/users/me").json()
    assert body["user_id"] == "alice"
    assert body["nickname"] == alice.nickname and body["created_at"]


def test_a_ban_is_refused_at_once_even_with_a_live_token(alice, alice_api):
    assert alice_api.get("/api/v1/users/me").status_code == 200
    User.objects.filter(pk=alice.pk).update(is_banned=True)  # the token is not revoked: the row says no
    res = alice_api.get("/api/v1/users/me")
    assert res.status_code == 403 and res.json()["code"] == 1103


def test_a_deleted_user_is_refused(alice, alice_api):
    assert alice_api.get("/api/v1/users/me").status_code == 200
    User.objects.filter(pk=alice.pk).delete()
    res = alice_api.get("/api/v1/users/me")
    assert res.status_code == 401 and res.json()["code"] in (1506, 1507)
