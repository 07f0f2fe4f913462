"""Bearer authentication: the token's status and its user's cached row in one cache read, no query
once warm; every change of the user drops the cached row, so a ban, a profile change or a delete
counts on the very next request."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.tokens import token_decode
from apps.accounts.usercache import user_from_row, user_key, user_row
from apps.common.errors import Code, DomainError


def test_a_warm_request_makes_no_query(alice, alice_api, django_assert_num_queries):
    alice_api.get("/api/v1/users/me")  # warms the token status and the user row
    with django_assert_num_queries(0):
        body = alice_api.get("/api/v1/users/me").json()
    assert body["user_id"] == "alice"
    assert body["nickname"] == alice.nickname and body["created_at"]


def test_a_cold_request_reads_the_user_row_in_one_query(alice, alice_api, django_assert_num_queries):
    alice_api.get("/api/v1/users/me")
    cache.delete(user_key("alice"))
    with django_assert_num_queries(1):
        assert alice_api.get("/api/v1/users/me").json()["user_id"] == "alice"
    assert cache.get(user_key("alice")) is not None


def test_a_ban_is_refused_at_once_even_with_a_live_token(alice, alice_api):
    assert alice_api.get("/api/v1/users/me").status_code == 200
    alice.is_banned = True
    alice.save(update_fields=["is_banned"])  # the token is not revoked: the row says no
    res = alice_api.get("/api/v1/users/me")
    assert res.status_code == 403 and res.json()["code"] == 1103


def test_a_ban_by_the_service_is_seen_on_the_next_request(alice, alice_api):
    assert alice_api.get("/api/v1/users/me").status_code == 200
    services.user_ban(user=User.objects.get(pk=alice.pk), actor=None, reason="spam")
    res = alice_api.get("/api/v1/users/me")
    assert res.status_code == 403 and res.json()["code"] == 1103


def test_an_unban_is_seen_on_the_next_request(alice, api_client_for):
    services.user_ban(user=alice, actor=None)
    services.user_unban(user=User.objects.get(pk=alice.pk), actor=None)
    api = api_client_for(User.objects.get(pk=alice.pk))  # the ban kicked the old tokens
    assert api.get("/api/v1/users/me").json()["is_banned"] is False
    services.user_ban(user=User.objects.get(pk=alice.pk), actor=None)
    services.user_unban(user=User.objects.get(pk=alice.pk), actor=None)
    assert api.get("/api/v1/users/me").status_code == 401  # kicked by the ban; not a stale 1103 either


def test_a_profile_change_is_seen_on_the_next_request(alice, bob, alice_api, bob_api):
    assert alice_api.get("/api/v1/users/me").json()["nickname"] == "Alice"
    services.user_update(user=User.objects.get(pk=alice.pk), data={"nickname": "Ally", "ex": {"k": 1}}, actor=None)
    body = alice_api.get("/api/v1/users/me").json()
    assert body["nickname"] == "Ally" and body["ex"] == {"k": 1}
    # a save anywhere (the admin, a command) counts the same
    row = User.objects.get(pk=alice.pk)
    row.face_url = "https://example.com/a.png"
    row.save()
    assert alice_api.get("/api/v1/users/me").json()["face_url"] == "https://example.com/a.png"


def test_a_row_cached_by_a_reader_during_the_write_is_dropped_at_commit(transactional_db, alice, alice_api):
    assert alice_api.get("/api/v1/users/me").status_code == 200
    stale = user_row(User.objects.get(pk=alice.pk))
    with transaction.atomic():
        services.user_update(user=User.objects.get(pk=alice.pk), data={"nickname": "Later"}, actor=None)
        cache.set(user_key("alice"), stale)  # another connection read the committed (old) row meanwhile
    assert alice_api.get("/api/v1/users/me").json()["nickname"] == "Later"


def test_a_deleted_user_is_refused(alice, alice_api):
    assert alice_api.get("/api/v1/users/me").status_code == 200
    User.objects.filter(pk=alice.pk).delete()
    res = alice_api.get("/api/v1/users/me")
    assert res.status_code == 401 and res.json()["code"] in (1506, 1507)


def test_a_kicked_token_is_refused_at_once(alice, alice_api):
    assert alice_api.get("/api/v1/users/me").status_code == 200
    services.user_force_logout(user_id="alice", platform_id=None, actor=None)
    res = alice_api.get("/api/v1/users/me")
    assert res.status_code == 401 and res.json()["code"] == 1506


def test_decoded_claims_are_remembered_but_expiry_is_checked_each_time(alice):
    issued = services.token_issue(user=alice, platform_id=5, actor=None)
    claims = token_decode(issued.token)
    assert token_decode(issued.token) is claims  # the second decode is the remembered one
    with time_machine.travel(claims.expires_at + 1), pytest.raises(DomainError) as err:
        token_decode(issued.token)
    assert err.value.code == Code.TOKEN_EXPIRED


def test_the_password_hash_stays_out_of_the_cache_and_is_read_when_needed(make_user, api_client_for):
    admin = make_user("opal", password="s3cret-pass")  # noqa: S106 - a test password
    api = api_client_for(admin)
    assert api.get("/api/v1/users/me").status_code == 200
    row = cache.get(user_key("opal"))
    assert admin.password not in row
    user = user_from_row(row)
    assert user.check_password("s3cret-pass")  # the deferred hash is loaded from the database
    user.nickname = "Opal"
    user.save()  # a save of a cached user keeps the password it never loaded
    assert User.objects.get(user_id="opal").check_password("s3cret-pass")


def test_a_renamed_user_is_refused_under_the_old_id_at_once(alice, alice_api):
    assert alice_api.get("/api/v1/users/me").status_code == 200
    row = User.objects.get(pk=alice.pk)
    row.user_id = "alicia"
    row.save()  # as the admin's change form saves
    res = alice_api.get("/api/v1/users/me")
    assert res.status_code == 401 and res.json()["code"] == 1507
