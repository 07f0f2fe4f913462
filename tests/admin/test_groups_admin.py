from __future__ import annotations

import pytest
from django.urls import reverse

from apps.audit.models import AuditLog
from apps.groups import services as group_services
from apps.groups.models import GroupMember, GroupRequest, GroupStatus, HandleResult, Role
from tests.admin.conftest import OPERATOR_IP, action_post

pytestmark = pytest.mark.django_db
GROUPS = reverse("admin:groups_group_changelist")
MEMBERS = reverse("admin:groups_groupmember_changelist")


@pytest.fixture
def group(alice, bob, make_user):
    carol = make_user("carol")
    return group_services.group_create(
        owner=alice, name="Hikers", member_ids=[carol.user_id], admin_ids=[bob.user_id], group_id="hikers"
    )


def _audit(action: str) -> list[tuple]:
    return list(AuditLog.objects.filter(action=action).values_list("actor", "target_id", "ip"))


def test_moderator_mutes_and_unmutes_a_group(mod_client, group):
    assert action_post(mod_client, GROUPS, "mute_groups", [group.pk]).status_code == 302
    group.refresh_from_db()
    assert group.status == GroupStatus.MUTED
    assert _audit("group.mute") == [("mod", "hikers", OPERATOR_IP)]
    assert action_post(mod_client, GROUPS, "unmute_groups", [group.pk]).status_code == 302
    group.refresh_from_db()
    assert group.status == GroupStatus.NORMAL
    assert _audit("group.unmute") == [("mod", "hikers", OPERATOR_IP)]


def test_moderator_kicks_and_mutes_members(mod_client, group):
    carol = GroupMember.objects.get(group=group, user_id="carol")
    resp = action_post(mod_client, MEMBERS, "mute_members", [carol.pk], minutes="30")
    assert resp.status_code == 302
    carol.refresh_from_db()
    assert carol.mute_end_time is not None
    assert _audit("group.mute_member") == [("mod", "hikers", OPERATOR_IP)]
    assert action_post(mod_client, MEMBERS, "kick_members", [carol.pk], reason="abuse").status_code == 302
    assert not GroupMember.objects.filter(group=group, user_id="carol").exists()
    (kick,) = AuditLog.objects.filter(action="group.kick")
    assert (kick.actor, kick.ip, kick.details["user_ids"], kick.details["reason"]) == ("mod", OPERATOR_IP, ["carol"], "abuse")


def test_kicking_the_owner_is_refused_with_a_message(su_client, group):
    owner = GroupMember.objects.get(group=group, role_level=Role.OWNER)
    resp = action_post(su_client, MEMBERS, "kick_members", [owner.pk])
    assert resp.status_code == 302
    assert GroupMember.objects.filter(pk=owner.pk).exists()
    assert not AuditLog.objects.filter(action="group.kick").exists()
    page = su_client.get(MEMBERS).content.decode()
    assert "nobody can kick the group owner" in page


def test_moderator_cannot_dismiss_or_transfer(mod_client, group):
    assert action_post(mod_client, GROUPS, "dismiss_groups", [group.pk]).status_code in (200, 302)  # not offered: no-op
    group.refresh_from_db()
    assert group.status == GroupStatus.NORMAL
    assert not AuditLog.objects.filter(action="group.dismiss").exists()
    changelist = mod_client.get(GROUPS).content.decode()
    assert "mute_groups" in changelist and "dismiss_groups" not in changelist and "transfer_ownership" not in changelist


def test_superuser_dismisses_and_transfers(su_client, group):
    resp = action_post(su_client, GROUPS, "transfer_ownership", [group.pk], new_owner_id="bob", reason="owner left")
    assert resp.status_code == 302
    group.refresh_from_db()
    assert group.owner_user_id == "bob"
    assert _audit("group.transfer") == [("root", "hikers", OPERATOR_IP)]
    assert action_post(su_client, GROUPS, "dismiss_groups", [group.pk]).status_code == 302
    group.refresh_from_db()
    assert group.status == GroupStatus.DISMISSED
    assert _audit("group.dismiss") == [("root", "hikers", OPERATOR_IP)]


def test_transfer_to_a_non_member_is_refused(su_client, group, make_user):
    make_user("stranger")
    action_post(su_client, GROUPS, "transfer_ownership", [group.pk], new_owner_id="stranger")
    group.refresh_from_db()
    assert group.owner_user_id == "alice"


def test_group_page_lists_members_with_roles(su_client, group):
    page = su_client.get(reverse("admin:groups_group_change", args=[group.pk])).content.decode()
    assert "owner" in page and "admin" in page and "carol" in page


def test_staff_without_permissions_sees_no_groups(staff_client, group):
    assert staff_client.get(GROUPS).status_code == 403
    assert staff_client.get(MEMBERS).status_code == 403
    assert action_post(staff_client, GROUPS, "mute_groups", [group.pk]).status_code == 403


def test_group_changelists_query_budget(su_client, alice, make_user, django_assert_num_queries):
    users = [make_user(f"m{i}") for i in range(30)]
    for i in range(30):
        group_services.group_create(owner=alice, name=f"g{i}", member_ids=[u.user_id for u in users[:5]], admin_ids=[])
    su_client.get(GROUPS)
    su_client.get(MEMBERS)
    with django_assert_num_queries(4):  # session, user, count, page (member count is an annotation)
        assert su_client.get(GROUPS).status_code == 200
    with django_assert_num_queries(4):  # session, user, count, page (group and user joined)
        assert su_client.get(MEMBERS).status_code == 200


def test_group_page_links_to_its_members_list(su_client, group, alice, make_user):
    group_services.group_create(owner=alice, name="Other", member_ids=[make_user("zed").user_id], admin_ids=[])
    listed = su_client.get(MEMBERS, {"group__group_id__exact": "hikers"}).content.decode()
    rows = listed.split('id="result_list"')[1].split("</table>")[0]
    assert "carol" in rows and "zed" not in rows


def test_superuser_accepts_and_refuses_join_requests_with_one_audit_row_each(su_client, mod_client, group, make_user):
    requests = reverse("admin:groups_grouprequest_changelist")
    dan, eve = make_user("dan"), make_user("eve")
    for user in (dan, eve):
        group_services.group_join(group_id="hikers", user=user, message="let me in")
    dan_req, eve_req = GroupRequest.objects.get(user_id="dan"), GroupRequest.objects.get(user_id="eve")
    action_post(mod_client, requests, "accept_requests", [dan_req.pk])  # moderators may only read
    assert GroupRequest.objects.get(pk=dan_req.pk).handle_result == HandleResult.PENDING
    assert action_post(su_client, requests, "accept_requests", [dan_req.pk], reason="ok").status_code == 302
    assert action_post(su_client, requests, "refuse_requests", [eve_req.pk], reason="no").status_code == 302
    assert GroupMember.objects.filter(group=group, user_id="dan").exists()
    assert not GroupMember.objects.filter(group=group, user_id="eve").exists()
    assert GroupRequest.objects.get(pk=eve_req.pk).handle_msg == "no"
    assert _audit("group_request.accept") == [("root", "hikers", OPERATOR_IP)]
    assert _audit("group_request.refuse") == [("root", "hikers", OPERATOR_IP)]
    # handled requests are not offered again, and leave no second row
    action_post(su_client, requests, "accept_requests", [dan_req.pk])
    assert len(_audit("group_request.accept")) == 1
