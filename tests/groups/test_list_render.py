"""The member list and the joined-group list render raw rows exactly as their serializers render
the models (the same JSON bytes), for every filter and for the odd values (mutes, dismissed groups,
non-ASCII JSON, datetimes with and without microseconds)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.renderers import JSONRenderer

from apps.groups import selectors
from apps.groups.api.serializers import JoinedGroupOutput, MemberOutput, joined_groups_render, members_render
from apps.groups.models import Group, GroupMember, GroupStatus
from apps.groups.services import group_create


def _json(data: object) -> bytes:
    return JSONRenderer().render(data)


@pytest.fixture
def groups(alice, make_user, notes) -> list[str]:
    for uid in ("bob", "carol", "dave"):
        make_user(uid, ex={"tag": "ünïcode ✓", "n": [1, None]})
    first = group_create(owner=alice, name="Team", member_ids=["bob", "carol", "dave"], admin_ids=["bob"]).group_id
    second = group_create(owner=alice, name="Other", member_ids=["carol"], admin_ids=[]).group_id
    GroupMember.objects.filter(group_id=first, user_id="carol").update(
        nickname="Caz", ex={"k": "v"}, mute_end_time=datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    )
    GroupMember.objects.filter(group_id=first, user_id="dave").update(joined_at=datetime(2025, 6, 1, 12, tzinfo=UTC))
    Group.objects.filter(group_id=second).update(
        status=GroupStatus.DISMISSED, dismissed_at=datetime(2026, 1, 1, tzinfo=UTC), ex={"é": 1},
        notification="hi", notification_updated_at=datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC),
    )
    return [first, second]


@pytest.mark.parametrize("params", [{}, {"role_level": 20}, {"role_level": 60}, {"keyword": "caz"}, {"keyword": "DAV"}])
def test_member_rows_render_as_the_serializer_does(groups, params):
    fast = members_render(list(selectors.group_member_rows(group_id=groups[0], **params)))
    slow = MemberOutput(selectors.group_members(group_id=groups[0], **params), many=True).data
    assert fast and _json(fast) == _json(slow)


def test_member_rows_count_as_the_queryset_does(groups):
    for params in ({}, {"role_level": 20}, {"keyword": "caz"}, {"keyword": "nobody"}):
        rows = selectors.group_member_rows(group_id=groups[0], **params)
        assert rows.count() == selectors.group_members(group_id=groups[0], **params).count()


@pytest.mark.parametrize("params", [{}, {"role_level": 100}, {"role_level": 20}])
def test_joined_group_rows_render_as_the_serializer_does(groups, params):
    for user_id in ("alice", "carol"):
        fast = joined_groups_render(list(selectors.joined_group_rows(user_id=user_id, **params)))
        memberships = list(selectors.joined_groups(user_id=user_id, **params))
        for m in memberships:
            m.group.member_count = m.group_member_count
        slow = JoinedGroupOutput(memberships, many=True).data
        assert _json(fast) == _json(slow)
        assert selectors.joined_group_rows(user_id=user_id, **params).count() == len(memberships)


def test_the_apis_answer_the_serializer_output(groups, alice_api):
    members = alice_api.get(f"/api/v1/groups/{groups[0]}/members").json()
    assert members["count"] == 4
    assert members["results"] == MemberOutput(selectors.group_members(group_id=groups[0]), many=True).data
    joined = alice_api.get("/api/v1/users/me/groups").json()
    assert [g["group"]["group_id"] for g in joined["results"]] == [groups[1], groups[0]]
    assert joined["results"][0]["group"]["dismissed_at"] == "2026-01-01T00:00:00Z"
    assert joined["results"][1]["group"]["member_count"] == 4


def test_a_keyword_search_counts_past_a_full_page(groups, alice_api):
    body = alice_api.get(f"/api/v1/groups/{groups[0]}/members", {"keyword": "a", "limit": 1}).json()
    assert body["count"] == 3 and len(body["results"]) == 1  # alice, carol ("Caz" is her group nickname), dave
