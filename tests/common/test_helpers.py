"""Shared helpers in apps.common: channel group names and id lists from query strings."""

from __future__ import annotations

import re

import pytest

from apps.common.api import split_ids
from apps.common.errors import Code, DomainError
from apps.common.sideeffects import user_group

VALID_GROUP = re.compile(r"^[A-Za-z0-9._-]{1,99}$")


def test_user_group_keeps_plain_ids_readable():
    assert user_group("alice") == "u.alice"
    assert user_group("a.b-c_9") == "u.a.b-c_9"


@pytest.mark.parametrize(
    "a, b",
    [
        ("a/b", "a_2f_b"),  # an escaped form another id could spell
        ("x" * 63 + "é", "x" * 63 + "è"),  # differ only past any truncation point
        ("日本" * 32, "日本" * 31 + "日"),
        ("uh.0", "uh 0"),
    ],
)
def test_user_group_never_gives_two_users_the_same_group(a, b):
    assert user_group(a) != user_group(b)
    assert VALID_GROUP.match(user_group(a)) and VALID_GROUP.match(user_group(b))


def test_user_group_is_a_valid_channel_group_name_for_any_user_id():
    for user_id in ["a b", "x" * 64, "€" * 64, "名前", "tab\there", "q?&="]:
        assert VALID_GROUP.match(user_group(user_id)), user_id


def test_split_ids_trims_and_drops_blanks_and_repeats():
    assert split_ids(" a, b,,a ,c ", most=10) == ["a", "b", "c"]
    assert split_ids(",,", most=10) == []


def test_split_ids_refuses_too_many_with_1001():
    with pytest.raises(DomainError) as err:
        split_ids(",".join(f"u{i}" for i in range(11)), most=10)
    assert err.value.code == Code.BAD_ARGS and "at most 10" in err.value.msg


def _request(**meta: str) -> object:
    return type("Req", (), {"META": meta})()


def test_client_ip_is_the_peer_unless_behind_our_proxy(settings):
    from apps.common.api import client_ip

    settings.IM_BEHIND_TLS_PROXY = False
    assert client_ip(_request(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "203.0.113.7"
    settings.IM_BEHIND_TLS_PROXY = True
    # the proxy appends the peer it saw; what the client put before it is not believed
    forged = _request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    assert client_ip(forged) == "198.51.100.9"
    assert client_ip(_request(REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_client_ip_is_none_when_the_address_is_not_one(settings):
    from apps.common.api import client_ip

    settings.IM_BEHIND_TLS_PROXY = True
    assert client_ip(_request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="x" * 300)) is None
    assert client_ip(_request()) is None


def test_cache_key_parts_of_different_ids_never_collide():
    from apps.common.cachekeys import key_part, make_key

    odd = "bob smith"
    assert key_part("alice") == "alice"
    assert key_part(odd) != key_part(odd.replace(" ", "_"))
    # a plain id cannot spell the hashed form of another id
    assert key_part(key_part(odd)) != key_part(odd)
    assert key_part(key_part(odd)[1:]) != key_part(odd)
    assert make_key("rel:fr", "a", odd) != make_key("rel:fr", "a", odd + " ")
