"""Groups over REST: create, info, members, roles, mutes, leave, dismiss — each rule, code and tip."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from apps.groups import selectors
from apps.groups.models import Group, GroupMember, Role
from apps.messaging.notifications import GroupNote


@pytest.fixture
def users(make_user):
    return {name: make_user(name) for name in ("carol", "dave", "erin")}


@pytest.fixture
def apis(alice_api, bob_api, users, api_client_for):
    out = {"alice": alice_api, "bob": bob_api}
    out.update({name: api_client_for(user) for name, user in users.items()})
    return out


@pytest.fixture
def gid(apis, notes):
    """alice owns, bob admin, carol and dave members; erin outside."""
    res = apis["alice"].post(
        "/api/v1/groups", {"name": "Team", "member_ids": ["carol", "dave"], "admin_ids": ["bob"]}, format="json"
    )
    assert res.status_code == 201, res.content
    notes.clear()
    return res.json()["group_id"]


def _code(res) -> int:
    return res.json()["code"]


def test_create_sets_roles_and_stores_a_1501_tip(apis, notes):
    res = apis["alice"].post(
        "/api/v1/groups", {"name": "Team", "member_ids": ["carol", "bob"], "admin_ids": ["bob"],
                           "notification": "be nice"}, format="json"
    )
    assert res.status_code == 201, res.content
    body = res.json()
    gid = body["group_id"]
    assert body["owner_user_id"] == "alice" and body["member_count"] == 3 and body["status"] == 0
    assert body["notification"] == "be nice"
    assert all(c.isalnum() or c in "_-" for c in gid)
    roles = dict(GroupMember.objects.filter(group_id=gid).values_list("user_id", "role_level"))
    assert roles == {"alice": Role.OWNER, "bob": Role.ADMIN, "carol": Role.MEMBER}
    created = notes.of(GroupNote.CREATED)[0]
    assert (created["session_type"], created["group_id"], created["send_id"]) == (3, gid, "alice")
    assert created["content"]["member_user_ids"] == ["alice", "bob", "carol"]
    assert notes.types() == [GroupNote.CREATED, GroupNote.NOTICE_SET]


def test_create_refuses_unknown_users_and_too_many(apis, settings, notes):
    res = apis["alice"].post("/api/v1/groups", {"name": "T", "member_ids": ["ghost"]}, format="json")
    assert res.status_code == 404 and _code(res) == 1101
    settings.IM_GROUP_MAX_MEMBERS = 3
    res = apis["alice"].post("/api/v1/groups", {"name": "T", "member_ids": ["bob", "carol", "dave"]}, format="json")
    assert res.status_code == 409 and _code(res) == 1205
    assert _code(apis["alice"].post("/api/v1/groups", {"name": ""}, format="json")) == 1001
    assert _code(apis["alice"].post("/api/v1/groups", {"name": "x", "member_ids": "bob"}, format="json")) == 1001


def test_only_admins_choose_group_id_and_owner(apis, admin_api, notes):
    res = apis["alice"].post("/api/v1/groups", {"name": "T", "group_id": "mine"}, format="json")
    assert res.status_code == 403 and _code(res) == 1002
    res = admin_api.post("/api/v1/groups", {"name": "T", "group_id": "team_1", "owner_user_id": "alice",
                                            "member_ids": ["bob"]}, format="json")
    assert res.status_code == 201 and res.json()["group_id"] == "team_1" and res.json()["owner_user_id"] == "alice"
    assert res.json()["creator_user_id"] == "imAdmin"
    assert selectors.group_member_role(group_id="team_1", user_id="imAdmin") is None
    dup = admin_api.post("/api/v1/groups", {"name": "T", "group_id": "team_1"}, format="json")
    assert dup.status_code == 409 and _code(dup) == 1003
    bad = admin_api.post("/api/v1/groups", {"name": "T", "group_id": "sg:x/y"}, format="json")
    assert _code(bad) == 1001


def test_get_info_batch_and_single(apis, gid, notes):
    res = apis["erin"].get("/api/v1/groups", {"ids": f"{gid},nope"})
    assert res.status_code == 200 and [g["group_id"] for g in res.json()["results"]] == [gid]
    assert res.json()["results"][0]["member_count"] == 4
    assert apis["erin"].get(f"/api/v1/groups/{gid}").json()["name"] == "Team"
    assert apis["erin"].get("/api/v1/groups/nope").status_code == 404
    assert _code(apis["erin"].get("/api/v1/groups/nope")) == 1201
    assert _code(apis["erin"].get("/api/v1/groups")) == 1002  # searching all needs an admin
    too_many = ",".join(f"g{i}" for i in range(1001))
    assert _code(apis["erin"].get("/api/v1/groups", {"ids": too_many})) == 1001


def test_admin_searches_all_groups(admin_api, gid, notes):
    res = admin_api.get("/api/v1/groups", {"keyword": "tea"})
    assert [g["group_id"] for g in res.json()["results"]] == [gid]


def test_update_info_by_owner_or_admin_with_tips(apis, gid, notes):
    res = apis["bob"].patch(f"/api/v1/groups/{gid}", {"name": "Renamed", "notification": "hello", "introduction": "i",
                                                     "ex": {"a": 1}, "need_verification": 2}, format="json")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["name"] == "Renamed" and body["notification"] == "hello" and body["need_verification"] == 2
    assert body["notification_user_id"] == "bob" and body["ex"] == {"a": 1}
    assert notes.types() == [GroupNote.NAME_SET, GroupNote.NOTICE_SET, GroupNote.INFO_SET]
    assert all(n["group_id"] == gid and n["session_type"] == 3 for n in notes.calls)
    notes.clear()
    assert apis["bob"].patch(f"/api/v1/groups/{gid}", {"name": "Renamed"}, format="json").status_code == 200
    assert notes.calls == []  # nothing changed, nothing said
    denied = apis["carol"].patch(f"/api/v1/groups/{gid}", {"name": "x"}, format="json")
    assert denied.status_code == 403 and _code(denied) == 1002
    assert _code(apis["erin"].patch(f"/api/v1/groups/{gid}", {"name": "x"}, format="json")) == 1203
    assert _code(apis["alice"].patch(f"/api/v1/groups/{gid}", {"need_verification": 7}, format="json")) == 1001


# ------------------------------------------------------------ joining
def _set_verification(api, gid, mode):
    assert api.patch(f"/api/v1/groups/{gid}", {"need_verification": mode}, format="json").status_code == 200


def test_verification_2_joins_directly(apis, gid, notes):
    _set_verification(apis["alice"], gid, 2)
    notes.clear()
    res = apis["erin"].post(f"/api/v1/groups/{gid}/join-requests", {"message": "hi"}, format="json")
    assert res.status_code == 200 and res.json() == {"joined": True, "request": None}
    assert selectors.group_member_role(group_id=gid, user_id="erin") == Role.MEMBER
    assert notes.types() == [GroupNote.MEMBER_ENTER]
    again = apis["erin"].post(f"/api/v1/groups/{gid}/join-requests", {}, format="json")
    assert again.status_code == 409 and _code(again) == 1202


def test_verification_0_join_needs_approval_invites_join_directly(apis, gid, make_user, notes):
    res = apis["erin"].post(f"/api/v1/groups/{gid}/join-requests", {"message": "let me in"}, format="json")
    body = res.json()
    assert body["joined"] is False and body["request"]["handle_result"] == 0
    assert body["request"]["group_name"] == "Team"
    # owner and admins hear of it, one by one
    assert [(n["content_type"], n["recv_id"], n["session_type"]) for n in notes.calls] == [
        (GroupNote.JOIN_REQUEST, "alice", 1), (GroupNote.JOIN_REQUEST, "bob", 1)
    ]
    assert selectors.group_member_role(group_id=gid, user_id="erin") is None
    make_user("frank")
    notes.clear()
    res = apis["carol"].post(f"/api/v1/groups/{gid}/members", {"user_ids": ["frank"]}, format="json")
    assert res.json() == {"joined": ["frank"], "requests": []}
    assert notes.types() == [GroupNote.MEMBER_INVITED]


def test_verification_1_member_invites_need_approval_admin_invites_do_not(apis, gid, make_user, notes):
    _set_verification(apis["alice"], gid, 1)
    res = apis["carol"].post(f"/api/v1/groups/{gid}/members", {"user_ids": ["erin"]}, format="json")
    body = res.json()
    assert body["joined"] == [] and body["requests"][0]["user_id"] == "erin"
    assert body["requests"][0]["inviter_user_id"] == "carol" and body["requests"][0]["join_source"] == 2
    assert selectors.group_member_role(group_id=gid, user_id="erin") is None
    make_user("frank")
    res = apis["bob"].post(f"/api/v1/groups/{gid}/members", {"user_ids": ["frank"]}, format="json")
    assert res.json()["joined"] == ["frank"]
    # a join by search also needs approval
    apis["carol"].post(f"/api/v1/groups/{gid}/kick", {"user_ids": ["frank"]}, format="json")
    assert apis["erin"].post(f"/api/v1/groups/{gid}/join-requests", {}, format="json").json()["joined"] is False


def test_join_request_accept_refuse_and_handled_twice(apis, gid, make_user, api_client_for, notes):
    rid = apis["erin"].post(f"/api/v1/groups/{gid}/join-requests", {}, format="json").json()["request"]["request_id"]
    denied = apis["carol"].post(f"/api/v1/group-join-requests/{rid}/accept")
    assert denied.status_code == 403 and _code(denied) == 1002
    notes.clear()
    res = apis["bob"].post(f"/api/v1/group-join-requests/{rid}/accept", {"handle_msg": "welcome"}, format="json")
    assert res.status_code == 200 and res.json()["handle_result"] == 1 and res.json()["handler_user_id"] == "bob"
    assert selectors.group_member_role(group_id=gid, user_id="erin") == Role.MEMBER
    assert notes.types() == [GroupNote.MEMBER_ENTER, GroupNote.REQUEST_ACCEPTED]
    assert notes.of(GroupNote.REQUEST_ACCEPTED)[0]["recv_id"] == "erin"
    again = apis["alice"].post(f"/api/v1/group-join-requests/{rid}/refuse")
    assert again.status_code == 409 and _code(again) == 1206
    frank_api = api_client_for(make_user("frank"))
    rid2 = frank_api.post(f"/api/v1/groups/{gid}/join-requests", {}, format="json").json()["request"]["request_id"]
    notes.clear()
    res = apis["alice"].post(f"/api/v1/group-join-requests/{rid2}/refuse", {"handle_msg": "no"}, format="json")
    assert res.json()["handle_result"] == -1
    assert notes.types() == [GroupNote.REQUEST_REFUSED] and notes.calls[0]["recv_id"] == "frank"
    assert selectors.group_member_role(group_id=gid, user_id="frank") is None
    assert _code(apis["alice"].post("/api/v1/group-join-requests/999999/accept")) == 1004


def test_join_request_lists_for_both_sides(apis, gid, notes):
    apis["erin"].post(f"/api/v1/groups/{gid}/join-requests", {"message": "m"}, format="json")
    mine = apis["erin"].get("/api/v1/group-join-requests", {"direction": "sent"}).json()
    assert [(r["group_id"], r["handle_result"]) for r in mine["results"]] == [(gid, 0)]
    for manager in ("alice", "bob"):
        received = apis[manager].get("/api/v1/group-join-requests").json()
        assert [r["user_id"] for r in received["results"]] == ["erin"]
    assert apis["carol"].get("/api/v1/group-join-requests").json()["count"] == 0
    per_group = apis["bob"].get(f"/api/v1/groups/{gid}/join-requests", {"handle_result": 0}).json()
    assert per_group["count"] == 1
    assert _code(apis["carol"].get(f"/api/v1/groups/{gid}/join-requests")) == 1002
    assert _code(apis["erin"].get(f"/api/v1/groups/{gid}/join-requests")) == 1203


def test_invite_rules(apis, gid, settings, make_user, notes):
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/members", {"user_ids": ["carol"]}, format="json")) == 1202
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/members", {"user_ids": ["ghost"]}, format="json")) == 1101
    assert _code(apis["erin"].post(f"/api/v1/groups/{gid}/members", {"user_ids": ["erin"]}, format="json")) == 1203
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/members", {"user_ids": []}, format="json")) == 1001
    settings.IM_GROUP_MAX_MEMBERS = 4
    full = apis["alice"].post(f"/api/v1/groups/{gid}/members", {"user_ids": ["erin"]}, format="json")
    assert full.status_code == 409 and _code(full) == 1205


def test_accepting_into_a_full_group_is_1205(apis, gid, settings, notes):
    rid = apis["erin"].post(f"/api/v1/groups/{gid}/join-requests", {}, format="json").json()["request"]["request_id"]
    settings.IM_GROUP_MAX_MEMBERS = 4
    assert _code(apis["alice"].post(f"/api/v1/group-join-requests/{rid}/accept")) == 1205


# ------------------------------------------------------------ kick & quit
def test_kick_rules(apis, gid, notes):
    kick = lambda who, ids: apis[who].post(f"/api/v1/groups/{gid}/kick", {"user_ids": ids}, format="json")  # noqa: E731
    assert _code(kick("carol", ["dave"])) == 1002  # members cannot kick
    assert _code(kick("bob", ["alice"])) == 1002  # nobody kicks the owner
    apis["alice"].post(f"/api/v1/groups/{gid}/members/carol/role", {"role_level": 60}, format="json")
    assert _code(kick("bob", ["carol"])) == 1002  # admins cannot kick admins
    assert _code(kick("bob", ["erin"])) == 1203
    assert _code(kick("bob", ["bob"])) == 1001
    assert _code(kick("erin", ["dave"])) == 1203
    notes.clear()
    res = kick("bob", ["dave"])
    assert res.status_code == 200
    assert selectors.group_member_role(group_id=gid, user_id="dave") is None
    # the tip goes to the group (stored while dave was still a member) and dave gets his own copy
    assert [(n["content_type"], n["session_type"], n.get("group_id"), n.get("recv_id")) for n in notes.calls] == [
        (GroupNote.MEMBER_KICKED, 3, gid, None), (GroupNote.MEMBER_KICKED, 1, None, "dave")
    ]
    assert notes.calls[0]["content"]["kicked_user_ids"] == ["dave"]
    assert kick("alice", ["carol"]).status_code == 200  # the owner kicks admins


def test_quit_rules(apis, gid, notes):
    owner = apis["alice"].post(f"/api/v1/groups/{gid}/quit")
    assert owner.status_code == 403 and _code(owner) == 1002
    assert _code(apis["erin"].post(f"/api/v1/groups/{gid}/quit")) == 1203
    assert _code(apis["erin"].post("/api/v1/groups/nope/quit")) == 1201
    assert apis["carol"].post(f"/api/v1/groups/{gid}/quit").status_code == 200
    assert selectors.group_member_ids(group_id=gid) == ["alice", "bob", "dave"]
    assert [(n["content_type"], n["session_type"]) for n in notes.calls] == [
        (GroupNote.MEMBER_QUIT, 3), (GroupNote.MEMBER_QUIT, 1)
    ]


# ------------------------------------------------------------ roles
def test_transfer_ownership(apis, gid, admin_api, notes):
    assert _code(apis["bob"].post(f"/api/v1/groups/{gid}/transfer", {"new_owner_user_id": "bob"},
                                  format="json")) == 1002
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/transfer", {"new_owner_user_id": "erin"},
                                    format="json")) == 1203
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/transfer", {"new_owner_user_id": "alice"},
                                    format="json")) == 1001
    apis["alice"].post(f"/api/v1/groups/{gid}/members/carol/mute", {"seconds": 600}, format="json")
    notes.clear()
    res = apis["alice"].post(f"/api/v1/groups/{gid}/transfer", {"new_owner_user_id": "carol"}, format="json")
    assert res.status_code == 200 and res.json()["owner_user_id"] == "carol"
    assert selectors.group_member_role(group_id=gid, user_id="alice") == Role.MEMBER
    assert GroupMember.objects.get(group_id=gid, user_id="carol").mute_end_time is None  # the new owner is unmuted
    assert notes.types() == [GroupNote.OWNER_TRANSFERRED]
    assert apis["alice"].post(f"/api/v1/groups/{gid}/quit").status_code == 200  # no longer the owner
    # an app admin may transfer too, and it is audited
    res = admin_api.post(f"/api/v1/groups/{gid}/transfer", {"new_owner_user_id": "bob"}, format="json")
    assert res.json()["owner_user_id"] == "bob"
    assert AuditLog.objects.filter(action="group.transfer", target_id=gid, actor="imAdmin").exists()


def test_set_and_unset_admin_owner_only(apis, gid, notes):
    res = apis["alice"].post(f"/api/v1/groups/{gid}/members/carol/role", {"role_level": 60}, format="json")
    assert res.status_code == 200 and res.json()["role_level"] == 60
    res = apis["alice"].post(f"/api/v1/groups/{gid}/members/carol/role", {"role_level": 20}, format="json")
    assert res.json()["role_level"] == 20
    assert notes.types() == [GroupNote.SET_TO_ADMIN, GroupNote.SET_TO_MEMBER]
    assert _code(apis["bob"].post(f"/api/v1/groups/{gid}/members/carol/role", {"role_level": 60},
                                  format="json")) == 1002
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/members/alice/role", {"role_level": 20},
                                    format="json")) == 1002
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/members/erin/role", {"role_level": 60},
                                    format="json")) == 1203
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/members/carol/role", {"role_level": 100},
                                    format="json")) == 1001


# ------------------------------------------------------------ mutes
def test_mute_member_rules(apis, gid, notes):
    mute = lambda who, target, s=60: apis[who].post(  # noqa: E731
        f"/api/v1/groups/{gid}/members/{target}/mute", {"seconds": s}, format="json"
    )
    assert _code(mute("bob", "alice")) == 1002  # the owner cannot be muted
    assert _code(mute("alice", "alice")) == 1002
    apis["alice"].post(f"/api/v1/groups/{gid}/members/carol/role", {"role_level": 60}, format="json")
    assert _code(mute("bob", "carol")) == 1002  # admins only by the owner
    assert mute("alice", "carol").status_code == 200
    assert _code(mute("dave", "carol")) == 1002  # members cannot mute
    assert _code(mute("bob", "erin")) == 1203
    assert _code(mute("bob", "dave", 0)) == 1001
    notes.clear()
    res = mute("bob", "dave", 600)
    assert res.status_code == 200 and res.json()["mute_end_time"] is not None
    assert notes.types() == [GroupNote.MEMBER_MUTED] and notes.calls[0]["content"]["muted_seconds"] == 600
    assert apis["dave"].get(f"/api/v1/groups/{gid}").status_code == 200
    from apps.common.errors import DomainError

    with pytest.raises(DomainError) as err:
        selectors.group_send_check(group_id=gid, user_id="dave")
    assert err.value.code == 1402
    res = apis["bob"].delete(f"/api/v1/groups/{gid}/members/dave/mute")
    assert res.status_code == 200 and res.json()["mute_end_time"] is None
    assert notes.types()[-1] == GroupNote.MEMBER_UNMUTED
    assert selectors.group_send_check(group_id=gid, user_id="dave") == Role.MEMBER


def test_mute_whole_group(apis, gid, notes):
    assert _code(apis["carol"].post(f"/api/v1/groups/{gid}/mute")) == 1002
    res = apis["bob"].post(f"/api/v1/groups/{gid}/mute")
    assert res.status_code == 200 and res.json()["status"] == 3
    assert apis["bob"].post(f"/api/v1/groups/{gid}/mute").status_code == 200  # idempotent, no second tip
    res = apis["alice"].delete(f"/api/v1/groups/{gid}/mute")
    assert res.json()["status"] == 0
    assert notes.types() == [GroupNote.GROUP_MUTED, GroupNote.GROUP_UNMUTED]


# ------------------------------------------------------------ dismiss
def test_dismiss_by_owner_then_everything_is_1204(apis, gid, notes):
    assert _code(apis["bob"].post(f"/api/v1/groups/{gid}/dismiss")) == 1002
    res = apis["alice"].post(f"/api/v1/groups/{gid}/dismiss")
    assert res.status_code == 200 and res.json()["status"] == 2 and res.json()["dismissed_at"]
    assert notes.types() == [GroupNote.DISMISSED] and notes.calls[0]["group_id"] == gid
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/dismiss")) == 1204
    assert _code(apis["alice"].patch(f"/api/v1/groups/{gid}", {"name": "x"}, format="json")) == 1204
    assert _code(apis["erin"].post(f"/api/v1/groups/{gid}/join-requests", {}, format="json")) == 1204
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/members", {"user_ids": ["erin"]}, format="json")) == 1204
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/kick", {"user_ids": ["dave"]}, format="json")) == 1204
    assert _code(apis["alice"].post(f"/api/v1/groups/{gid}/mute")) == 1204
    # members stay listed; they may leave, the owner too
    assert apis["carol"].get(f"/api/v1/groups/{gid}/members").json()["count"] == 4
    assert apis["carol"].post(f"/api/v1/groups/{gid}/quit").status_code == 200
    assert apis["alice"].post(f"/api/v1/groups/{gid}/quit").status_code == 200
    assert not AuditLog.objects.filter(action="group.dismiss").exists()  # the owner's own act


def test_app_admin_dismiss_is_audited(admin_api, gid, notes):
    res = admin_api.post(f"/api/v1/groups/{gid}/dismiss")
    assert res.status_code == 200
    log = AuditLog.objects.get(action="group.dismiss")
    assert (log.actor, log.target_type, log.target_id) == ("imAdmin", "group", gid)
    assert Group.objects.get(group_id=gid).status == 2


# ------------------------------------------------------------ lists
def test_member_list_paging_role_filter_keyword(apis, gid, users, notes):
    users["dave"].nickname = "Davey Jones"
    users["dave"].save()
    page = apis["carol"].get(f"/api/v1/groups/{gid}/members", {"limit": 2}).json()
    assert page["count"] == 4
    assert [m["user_id"] for m in page["results"]] == ["alice", "bob"]  # by role, then join order
    assert page["results"][0]["user"]["nickname"] == "Alice"
    rest = apis["carol"].get(f"/api/v1/groups/{gid}/members", {"limit": 2, "offset": 2}).json()
    assert [m["user_id"] for m in rest["results"]] == ["carol", "dave"]
    admins = apis["carol"].get(f"/api/v1/groups/{gid}/members", {"role_level": 60}).json()
    assert [m["user_id"] for m in admins["results"]] == ["bob"]
    found = apis["carol"].get(f"/api/v1/groups/{gid}/members", {"keyword": "jones"}).json()
    assert [m["user_id"] for m in found["results"]] == ["dave"]
    assert _code(apis["erin"].get(f"/api/v1/groups/{gid}/members")) == 1203
    assert _code(apis["erin"].get("/api/v1/groups/nope/members")) == 1201
    assert _code(apis["carol"].get(f"/api/v1/groups/{gid}/members", {"role_level": 5})) == 1001


def test_member_list_query_budget(apis, alice, make_user, django_assert_num_queries, notes):
    from apps.groups.services import group_create

    ids = [make_user(f"m{i}").user_id for i in range(20)]
    group = group_create(owner=alice, name="big", member_ids=ids, admin_ids=[])
    apis["alice"].get(f"/api/v1/groups/{group.group_id}/members")
    # group exists + count + one joined page query (the caller and their membership are cached)
    with django_assert_num_queries(3):
        res = apis["alice"].get(f"/api/v1/groups/{group.group_id}/members", {"limit": 21})
    assert len(res.json()["results"]) == 21


def test_joined_groups_list_and_query_budget(apis, alice, bob, django_assert_num_queries, notes):
    from apps.groups.services import group_create

    made = [group_create(owner=alice, name=f"g{i}", member_ids=["bob"], admin_ids=[]).group_id for i in range(12)]
    apis["bob"].get("/api/v1/users/me/groups")
    # count + one page query with the groups and their member counts (the caller is cached)
    with django_assert_num_queries(2):
        res = apis["bob"].get("/api/v1/users/me/groups", {"limit": 12})
    body = res.json()
    assert body["count"] == 12
    assert [g["group"]["group_id"] for g in body["results"]] == list(reversed(made))
    assert body["results"][0]["group"]["member_count"] == 2 and body["results"][0]["role_level"] == 20
    owned = apis["alice"].get("/api/v1/users/me/groups", {"role_level": 100}).json()
    assert owned["count"] == 12


def test_group_endpoints_need_a_token(client, db):
    assert client.get("/api/v1/users/me/groups").status_code == 401
    assert client.post("/api/v1/groups", {"name": "x"}).status_code == 401


def test_member_info_by_self_or_a_manager_with_1516(apis, gid, notes):
    res = apis["carol"].patch(f"/api/v1/groups/{gid}/members/carol", {"nickname": "Caz", "ex": {"x": 1}},
                              format="json")
    assert res.status_code == 200 and res.json()["nickname"] == "Caz" and res.json()["ex"] == {"x": 1}
    assert notes.types() == [GroupNote.MEMBER_INFO_SET] and notes.calls[0]["content"]["nickname"] == "Caz"
    assert apis["bob"].patch(f"/api/v1/groups/{gid}/members/dave", {"nickname": "D"}, format="json").status_code == 200
    assert _code(apis["carol"].patch(f"/api/v1/groups/{gid}/members/dave", {"nickname": "x"}, format="json")) == 1002
    assert _code(apis["bob"].patch(f"/api/v1/groups/{gid}/members/alice", {"nickname": "x"}, format="json")) == 1002
    assert apis["alice"].patch(f"/api/v1/groups/{gid}/members/bob", {"nickname": "B"}, format="json").status_code == 200
    assert _code(apis["alice"].patch(f"/api/v1/groups/{gid}/members/erin", {"nickname": "x"}, format="json")) == 1203
    assert apis["dave"].get(f"/api/v1/groups/{gid}/members/carol").json()["nickname"] == "Caz"
    assert _code(apis["erin"].get(f"/api/v1/groups/{gid}/members/carol")) == 1203
    assert _code(apis["dave"].get(f"/api/v1/groups/{gid}/members/erin")) == 1203
    found = apis["dave"].get(f"/api/v1/groups/{gid}/members", {"keyword": "caz"}).json()["results"]
    assert [m["user_id"] for m in found] == ["carol"]


def test_operator_reason_is_kept_in_the_audit_row(admin_user, gid, notes):
    from apps.groups.services import group_dismiss

    group_dismiss(group_id=gid, actor=admin_user, reason="spam ring", ip="10.0.0.1")
    log = AuditLog.objects.get(action="group.dismiss")
    assert log.details["reason"] == "spam ring" and log.ip == "10.0.0.1"
