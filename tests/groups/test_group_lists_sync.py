"""Incremental sync and ETags of the joined-groups list and of a group's member list."""

from __future__ import annotations

import pytest

from apps.accounts import services as account_services
from apps.common import versionlog
from apps.groups import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(alice, bob, make_user, notes):
    """g1 owned by alice with bob and carol; alice also owns g2."""
    carol = make_user("carol")
    services.group_create(owner=alice, name="one", member_ids=["bob", "carol"], admin_ids=[], group_id="g1")
    services.group_create(owner=alice, name="two", member_ids=[], admin_ids=[], group_id="g2")
    return carol


def _get(api, url, since):
    r = api.get(url, {"since_version": since})
    assert r.status_code == 200, r.content
    return r.json()


def test_joined_groups_sync_reports_joins_info_changes_and_leaving(alice, bob, bob_api, group):
    start = bob_api.get("/api/v1/users/me/groups").json()
    assert start["count"] == 1 and start["version"] > 0
    services.group_invite(group_id="g2", actor=alice, user_ids=["bob"])  # insert g2
    services.group_update(group_id="g1", actor=alice, data={"name": "renamed"})  # update g1
    body = _get(bob_api, "/api/v1/users/me/groups", start["version"])
    assert body["full"] is False and body["deleted"] == []
    assert {i["group"]["group_id"]: i["group"]["name"] for i in body["changed"]} == {"g1": "renamed", "g2": "two"}
    services.group_quit(group_id="g2", user=bob)
    services.group_member_mute(group_id="g1", actor=alice, user_id="bob", seconds=60)  # my mute: my row
    later = _get(bob_api, "/api/v1/users/me/groups", body["version"])
    assert later["deleted"] == ["g2"]
    assert [(i["group"]["group_id"], i["mute_end_time"] is not None) for i in later["changed"]] == [("g1", True)]
    assert _get(bob_api, "/api/v1/users/me/groups", later["version"])["changed"] == []


def test_joined_groups_full_answer_and_bad_version(bob_api, group):
    body = _get(bob_api, "/api/v1/users/me/groups", 0)
    assert body["full"] is True and [i["group"]["group_id"] for i in body["changed"]] == ["g1"]
    r = bob_api.get("/api/v1/users/me/groups", {"since_version": "-3"})
    assert r.status_code == 400 and r.json()["code"] == 1001


def test_joined_groups_dismissal_is_an_update_with_the_status(alice, bob_api, group):
    start = bob_api.get("/api/v1/users/me/groups").json()["version"]
    services.group_dismiss(group_id="g1", actor=alice)
    body = _get(bob_api, "/api/v1/users/me/groups", start)
    assert [(i["group"]["group_id"], i["group"]["status"]) for i in body["changed"]] == [("g1", 2)]


def test_joined_groups_etag_answers_not_modified_until_a_change(alice, bob_api, group):
    etag = bob_api.get("/api/v1/users/me/groups")["ETag"]
    assert bob_api.get("/api/v1/users/me/groups", HTTP_IF_NONE_MATCH=etag).status_code == 304
    services.group_update(group_id="g1", actor=alice, data={"introduction": "hello"})
    fresh = bob_api.get("/api/v1/users/me/groups", HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and fresh.json()["results"][0]["group"]["introduction"] == "hello"


def test_member_list_sync_reports_joins_roles_nicknames_and_leaving(alice, bob, alice_api, group, make_user):
    make_user("dave")
    start = alice_api.get("/api/v1/groups/g1/members").json()
    assert start["count"] == 3 and start["version"] > 0
    services.group_invite(group_id="g1", actor=alice, user_ids=["dave"])
    services.group_member_set_role(group_id="g1", actor=alice, user_id="bob", role_level=60)
    services.group_member_update(group_id="g1", actor=alice, user_id="carol", data={"nickname": "C"})
    services.group_kick(group_id="g1", actor=alice, user_ids=["carol"])  # nickname then kick: deleted
    body = _get(alice_api, "/api/v1/groups/g1/members", start["version"])
    assert body["full"] is False and body["deleted"] == ["carol"]
    assert {i["user_id"]: i["role_level"] for i in body["changed"]} == {"dave": 20, "bob": 60}


def test_a_members_profile_change_is_an_update_in_each_of_their_groups(alice, alice_api, bob, group):
    start = alice_api.get("/api/v1/groups/g1/members").json()["version"]
    account_services.user_update(user=bob, data={"face_url": "https://x/bob.png"}, actor=None)
    body = _get(alice_api, "/api/v1/groups/g1/members", start)
    assert [(i["user_id"], i["user"]["face_url"]) for i in body["changed"]] == [("bob", "https://x/bob.png")]


def test_member_list_sync_keeps_the_membership_rule(group, make_user, api_client_for):
    outsider = api_client_for(make_user("eve"))
    r = outsider.get("/api/v1/groups/g1/members", {"since_version": 1})
    plain = outsider.get("/api/v1/groups/g1/members")
    assert r.status_code == plain.status_code == 403
    assert r.json()["code"] == plain.json()["code"] == 1203


def test_member_list_full_answer_after_trimming(alice, alice_api, group, settings):
    settings.IM_VERSION_LOG_KEEP = 1
    old = alice_api.get("/api/v1/groups/g1/members").json()["version"]
    for seconds in (10, 20, 30):
        services.group_member_mute(group_id="g1", actor=alice, user_id="bob", seconds=seconds)
    versionlog.trim()
    body = _get(alice_api, "/api/v1/groups/g1/members", old)
    assert body["full"] is True and sorted(i["user_id"] for i in body["changed"]) == ["alice", "bob", "carol"]


def test_member_page_cache_and_etag_follow_the_version(alice, alice_api, group):
    first = alice_api.get("/api/v1/groups/g1/members")
    assert alice_api.get("/api/v1/groups/g1/members", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    services.group_member_update(group_id="g1", actor=alice, user_id="bob", data={"nickname": "B"})
    after = alice_api.get("/api/v1/groups/g1/members", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and after.json()["version"] == first.json()["version"] + 1
    assert {i["user_id"]: i["nickname"] for i in after.json()["results"]}["bob"] == "B"
