"""Thin REST views for groups, members, mutes and join requests."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.serializers import ExField, UserIdField
from apps.accounts.authentication import request_user
from apps.accounts.services import user_get
from apps.common import listsync, versionlog
from apps.common.api import AUTH_ERRORS as AUTH
from apps.common.api import (
    PAGE_PARAMS,
    OkSerializer,
    client_ip,
    error_responses,
    ok,
    paged,
    paginate,
    paginate_rows,
    split_ids,
)
from apps.common.errors import Code, DomainError
from apps.common.listsync import cached_page, etagged, since_field, sync_answer, sync_schema
from apps.groups import selectors, services
from apps.groups.api.serializers import (
    GroupOutput,
    GroupRequestOutput,
    JoinedGroupOutput,
    MemberOutput,
    joined_groups_render,
    members_render,
)
from apps.groups.models import HandleResult, JoinSource, Role, Verification, group_id_validator

GROUP_PATH = OpenApiParameter(
    "group_id", str, OpenApiParameter.PATH, examples=[OpenApiExample("group", value="g1")]
)
MEMBER_PATH = OpenApiParameter(
    "user_id", str, OpenApiParameter.PATH, description="the member's user_id",
    examples=[OpenApiExample("member", value="carol")],
)
GROUP_ERRORS = (Code.GROUP_NOT_FOUND, Code.GROUP_DISMISSED, Code.NOT_IN_GROUP, Code.NO_PERMISSION)
ID_LIST = serializers.ListField(child=UserIdField(), max_length=1000)


def _group_out(group_id: str) -> dict[str, Any]:
    found = selectors.groups_by_ids(group_ids=[group_id])
    if not found:
        raise DomainError(Code.GROUP_NOT_FOUND, f"group {group_id} not found")
    return GroupOutput(found[0]).data


class GroupIdField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("min_length", 1)
        super().__init__(validators=[group_id_validator], **kwargs)


class GroupsApi(APIView):
    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=128)
        member_ids = serializers.ListField(child=UserIdField(), required=False, default=list, max_length=10_000)
        admin_ids = serializers.ListField(child=UserIdField(), required=False, default=list, max_length=1000)
        group_id = GroupIdField(required=False, help_text="admin only; generated when omitted")
        owner_user_id = UserIdField(required=False, help_text="admin only; the caller when omitted")
        notification = serializers.CharField(max_length=4096, required=False, allow_blank=True, default="")
        introduction = serializers.CharField(max_length=4096, required=False, allow_blank=True, default="")
        face_url = serializers.CharField(max_length=512, required=False, allow_blank=True, default="")
        ex = ExField(required=False)
        need_verification = serializers.IntegerField(
            min_value=0, max_value=2, required=False, default=Verification.APPLY_NEEDS_APPROVAL,
            help_text="0 requests need approval, invitations join directly; 1 all need approval unless invited "
            "by owner/admin; 2 join directly",
        )
        look_member_info = serializers.IntegerField(min_value=0, max_value=1, required=False, default=0)
        apply_member_friend = serializers.IntegerField(min_value=0, max_value=1, required=False, default=0)

    class ListInput(serializers.Serializer):
        ids = serializers.CharField(required=False, help_text="comma-separated group ids (at most 1000)")
        keyword = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                        help_text="admin search by id or name when ids is omitted")

    @extend_schema(
        tags=["groups"],
        summary="Create a group",
        description=(
            "The caller owns the group (an admin may name another `owner_user_id` and choose the `group_id`). "
            "`admin_ids` get role 60, `member_ids` role 20. A 1501 tip is stored in `sg_<group_id>`."
        ),
        request=Input,
        responses={
            201: GroupOutput,
            **error_responses(Code.USER_NOT_FOUND, Code.GROUP_FULL, Code.DUPLICATE, Code.NO_PERMISSION, *AUTH),
        },
        examples=[
            OpenApiExample(
                "request", value={"name": "Team", "member_ids": ["bob", "carol"], "admin_ids": ["bob"]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        owner_id = fields.pop("owner_user_id", None)
        me = request_user(request)
        admin = selectors.is_app_admin(me)
        if not admin and (owner_id not in (None, me.user_id) or "group_id" in fields):
            raise DomainError(Code.NO_PERMISSION, "only an admin can choose owner_user_id or group_id")
        owner = me if owner_id in (None, me.user_id) else user_get(user_id=owner_id)
        group = services.group_create(owner=owner, actor=me, ip=client_ip(request), **fields)
        return Response(_group_out(group.group_id), status=201)

    @extend_schema(
        tags=["groups"],
        summary="Get groups by id (batch), or search all groups (admin)",
        parameters=[ListInput, *PAGE_PARAMS],
        responses={200: paged("GroupList", GroupOutput(many=True)), **error_responses(Code.NO_PERMISSION, *AUTH)},
    )
    def get(self, request: Request) -> Response:
        params = self.ListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        raw = params.validated_data.get("ids")
        if raw is not None:
            groups = selectors.groups_by_ids(group_ids=split_ids(raw, most=1000))
            return Response({"count": len(groups), "results": GroupOutput(groups, many=True).data})
        if not selectors.is_app_admin(request.user):
            raise DomainError(Code.NO_PERMISSION, "searching all groups needs an admin token; pass ids=… instead")
        qs = selectors.groups_search(keyword=params.validated_data.get("keyword", ""))
        return paginate(self, request, qs, GroupOutput)


class GroupDetailApi(APIView):
    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=128, required=False)
        notification = serializers.CharField(max_length=4096, required=False, allow_blank=True)
        introduction = serializers.CharField(max_length=4096, required=False, allow_blank=True)
        face_url = serializers.CharField(max_length=512, required=False, allow_blank=True)
        ex = ExField(required=False)
        need_verification = serializers.IntegerField(min_value=0, max_value=2, required=False,
                                                     help_text="0, 1 or 2 (see group creation)")
        look_member_info = serializers.IntegerField(min_value=0, max_value=1, required=False)
        apply_member_friend = serializers.IntegerField(min_value=0, max_value=1, required=False)

    @extend_schema(
        tags=["groups"], summary="Get one group", parameters=[GROUP_PATH],
        responses={200: GroupOutput, **error_responses(Code.GROUP_NOT_FOUND, *AUTH)},
    )
    def get(self, request: Request, group_id: str) -> Response:
        return Response(_group_out(group_id))

    @extend_schema(
        tags=["groups"],
        summary="Update the group info (owner or admins)",
        description="Tips: 1520 name changed, 1519 notice changed, 1502 other fields changed.",
        parameters=[GROUP_PATH], request=Input,
        responses={200: GroupOutput, **error_responses(*GROUP_ERRORS, *AUTH)},
        examples=[OpenApiExample("request", value={"name": "New name", "notification": "Meeting at 10"},
                                 request_only=True)],
    )
    def patch(self, request: Request, group_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_update(group_id=group_id, actor=request_user(request), data=data.validated_data, ip=client_ip(request))
        return Response(_group_out(group_id))


class GroupDismissApi(APIView):
    @extend_schema(
        tags=["groups"], summary="Dismiss the group (owner or app admin)", parameters=[GROUP_PATH], request=None,
        description="A 1511 tip is stored; sending then fails with 1204. Members stay listed, history stays readable.",
        responses={200: GroupOutput, **error_responses(*GROUP_ERRORS, *AUTH)},
    )
    def post(self, request: Request, group_id: str) -> Response:
        services.group_dismiss(group_id=group_id, actor=request_user(request), ip=client_ip(request))
        return Response(_group_out(group_id))


# ------------------------------------------------------------ members
class GroupMembersApi(APIView):
    class ListInput(serializers.Serializer):
        role_level = serializers.ChoiceField(choices=Role.values, required=False, allow_null=True, default=None)
        keyword = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                        help_text="matches user_id, nickname or group nickname")
        since_version = since_field()

    class Input(serializers.Serializer):
        user_ids = serializers.ListField(child=UserIdField(), allow_empty=False, max_length=1000)
        message = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def cache_prefetch(self, user_id: str) -> list[str]:
        """The list's version, read with the token (:func:`apps.common.listsync.prefetch`)."""
        return listsync.prefetch(versionlog.MEMBERS, self.kwargs["group_id"])

    @extend_schema(
        tags=["groups"], summary="Group members (members and admins only; paged, role filter, keyword search)",
        description=(
            "The paged answer carries the member list's `version` and an `ETag` (a repeat read is served from "
            "the cache; `If-None-Match` with the ETag answers 304). With `since_version` the answer is an "
            "incremental sync (docs/protocol.md, incremental sync); `deleted` holds user ids."
        ),
        parameters=[GROUP_PATH, ListInput, *PAGE_PARAMS],
        responses={200: sync_schema("GroupMemberList", MemberOutput), 304: None,
                   **error_responses(Code.GROUP_NOT_FOUND, Code.NOT_IN_GROUP, *AUTH)},
    )
    def get(self, request: Request, group_id: str) -> HttpResponse:
        params = self.ListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        selectors.group_for_viewer(group_id=group_id, viewer=request_user(request))
        since = params.validated_data.pop("since_version", None)
        if since is not None:
            def items(ids: list[str] | None) -> list[dict[str, Any]]:
                return members_render(list(selectors.group_member_rows(group_id=group_id, user_ids=ids)))

            return sync_answer(request, kind=versionlog.MEMBERS, owner=group_id, since=since, render=items,
                               item_id=lambda item: item["user_id"])

        def page() -> dict[str, Any]:
            rows = selectors.group_member_rows(group_id=group_id, **params.validated_data)
            return paginate_rows(self, request, rows, members_render, rows.count).data

        return cached_page(request, kind=versionlog.MEMBERS, owner=group_id, render=page)

    @extend_schema(
        tags=["groups"],
        summary="Invite users",
        description=(
            "Invitees join directly (1509 tip), except in groups with need_verification 1 when the inviter is an "
            "ordinary member: then each invitee gets a pending join request for the owner/admins (1503)."
        ),
        parameters=[GROUP_PATH], request=Input,
        responses={
            200: inline_serializer(
                "GroupInvited",
                {
                    "joined": serializers.ListField(child=serializers.CharField()),
                    "requests": GroupRequestOutput(many=True),
                },
            ),
            **error_responses(*GROUP_ERRORS, Code.USER_NOT_FOUND, Code.GROUP_ALREADY_MEMBER, Code.GROUP_FULL, *AUTH),
        },
        examples=[OpenApiExample("request", value={"user_ids": ["dave"]}, request_only=True)],
    )
    def post(self, request: Request, group_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.group_invite(group_id=group_id, actor=request_user(request), ip=client_ip(request),
                                       **data.validated_data)
        return Response({"joined": result["joined"], "requests": GroupRequestOutput(result["requests"], many=True).data})


class GroupKickApi(APIView):
    class Input(serializers.Serializer):
        user_ids = serializers.ListField(child=UserIdField(), allow_empty=False, max_length=1000)
        reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    @extend_schema(
        tags=["groups"],
        summary="Kick members (owner or admins)",
        description=(
            "Nobody kicks the owner; admins cannot kick admins; members cannot kick (1002). A 1508 tip is stored "
            "in the group while the kicked are still members, and each kicked user also gets a personal copy."
        ),
        parameters=[GROUP_PATH], request=Input,
        responses={200: OkSerializer, **error_responses(*GROUP_ERRORS, *AUTH)},
        examples=[OpenApiExample("request", value={"user_ids": ["mallory"], "reason": "spam"}, request_only=True)],
    )
    def post(self, request: Request, group_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_kick(group_id=group_id, actor=request_user(request), ip=client_ip(request), **data.validated_data)
        return ok()


class GroupQuitApi(APIView):
    @extend_schema(
        tags=["groups"], summary="Quit the group", parameters=[GROUP_PATH], request=None,
        description="The owner must transfer the ownership first (1002). A 1504 tip is stored.",
        responses={200: OkSerializer, **error_responses(Code.GROUP_NOT_FOUND, Code.NOT_IN_GROUP, Code.NO_PERMISSION,
                                                         *AUTH)},
    )
    def post(self, request: Request, group_id: str) -> Response:
        services.group_quit(group_id=group_id, user=request_user(request))
        return ok()


class GroupTransferApi(APIView):
    class Input(serializers.Serializer):
        new_owner_user_id = UserIdField()

    @extend_schema(
        tags=["groups"], summary="Transfer the ownership (owner or app admin)", parameters=[GROUP_PATH],
        request=Input, description="The old owner becomes an ordinary member; the new owner is unmuted. 1507 tip.",
        responses={200: GroupOutput, **error_responses(*GROUP_ERRORS, *AUTH)},
        examples=[OpenApiExample("request", value={"new_owner_user_id": "bob"}, request_only=True)],
    )
    def post(self, request: Request, group_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_transfer(group_id=group_id, actor=request_user(request),
                                new_owner_id=data.validated_data["new_owner_user_id"], ip=client_ip(request))
        return Response(_group_out(group_id))


class GroupMemberRoleApi(APIView):
    class Input(serializers.Serializer):
        role_level = serializers.ChoiceField(choices=[Role.ADMIN.value, Role.MEMBER.value],
                                             help_text="60 admin, 20 member")

    @extend_schema(
        tags=["groups"], summary="Set or unset an admin (owner only)", parameters=[GROUP_PATH, MEMBER_PATH],
        request=Input, description="1517 set to admin, 1518 back to member.",
        responses={200: MemberOutput, **error_responses(*GROUP_ERRORS, *AUTH)},
        examples=[OpenApiExample("request", value={"role_level": 60}, request_only=True)],
    )
    def post(self, request: Request, group_id: str, user_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.group_member_set_role(group_id=group_id, actor=request_user(request), user_id=user_id,
                                                role_level=data.validated_data["role_level"], ip=client_ip(request))
        return Response(MemberOutput(selectors.group_members(group_id=group_id).get(pk=member.pk)).data)


class GroupMemberDetailApi(APIView):
    class Input(serializers.Serializer):
        nickname = serializers.CharField(max_length=64, required=False, allow_blank=True)
        face_url = serializers.CharField(max_length=512, required=False, allow_blank=True)
        ex = ExField(required=False)

    @extend_schema(
        tags=["groups"], summary="One member of a group (members only)", parameters=[GROUP_PATH, MEMBER_PATH],
        responses={200: MemberOutput, **error_responses(Code.GROUP_NOT_FOUND, Code.NOT_IN_GROUP, *AUTH)},
    )
    def get(self, request: Request, group_id: str, user_id: str) -> Response:
        selectors.group_for_viewer(group_id=group_id, viewer=request_user(request))
        member = selectors.group_members(group_id=group_id).filter(user_id=user_id).first()
        if member is None:
            raise DomainError(Code.NOT_IN_GROUP, f"{user_id} is not a member of group {group_id}")
        return Response(MemberOutput(member).data)

    @extend_schema(
        tags=["groups"], summary="Set a member's nickname, face or ex inside the group",
        description="Yourself, or (owner/admins) a member below you. 1516 tip.",
        parameters=[GROUP_PATH, MEMBER_PATH], request=Input,
        responses={200: MemberOutput, **error_responses(*GROUP_ERRORS, *AUTH)},
        examples=[OpenApiExample("request", value={"nickname": "Caz"}, request_only=True)],
    )
    def patch(self, request: Request, group_id: str, user_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.group_member_update(group_id=group_id, actor=request_user(request), user_id=user_id,
                                              data=data.validated_data, ip=client_ip(request))
        return Response(MemberOutput(selectors.group_members(group_id=group_id).get(pk=member.pk)).data)


class GroupMemberMuteApi(APIView):
    class Input(serializers.Serializer):
        seconds = serializers.IntegerField(min_value=1, max_value=315_360_000)

    @extend_schema(
        tags=["groups"], summary="Mute a member for N seconds", parameters=[GROUP_PATH, MEMBER_PATH], request=Input,
        description="The owner cannot be muted; admins only by the owner; members by owner or admins. 1512 tip.",
        responses={200: MemberOutput, **error_responses(*GROUP_ERRORS, *AUTH)},
        examples=[OpenApiExample("request", value={"seconds": 600}, request_only=True)],
    )
    def post(self, request: Request, group_id: str, user_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.group_member_mute(group_id=group_id, actor=request_user(request), user_id=user_id,
                                            seconds=data.validated_data["seconds"], ip=client_ip(request))
        return Response(MemberOutput(selectors.group_members(group_id=group_id).get(pk=member.pk)).data)

    @extend_schema(
        tags=["groups"], summary="Unmute a member", parameters=[GROUP_PATH, MEMBER_PATH], request=None,
        description="1513 tip.", responses={200: MemberOutput, **error_responses(*GROUP_ERRORS, *AUTH)},
    )
    def delete(self, request: Request, group_id: str, user_id: str) -> Response:
        member = services.group_member_unmute(group_id=group_id, actor=request_user(request), user_id=user_id,
                                              ip=client_ip(request))
        return Response(MemberOutput(selectors.group_members(group_id=group_id).get(pk=member.pk)).data)


class GroupMuteApi(APIView):
    @extend_schema(
        tags=["groups"], summary="Mute the whole group (owner or admins)", parameters=[GROUP_PATH], request=None,
        description="Ordinary members' sends then fail with 1403. 1514 tip.",
        responses={200: GroupOutput, **error_responses(*GROUP_ERRORS, *AUTH)},
    )
    def post(self, request: Request, group_id: str) -> Response:
        services.group_mute(group_id=group_id, actor=request_user(request), muted=True, ip=client_ip(request))
        return Response(_group_out(group_id))

    @extend_schema(
        tags=["groups"], summary="Unmute the whole group", parameters=[GROUP_PATH], request=None,
        description="1515 tip.", responses={200: GroupOutput, **error_responses(*GROUP_ERRORS, *AUTH)},
    )
    def delete(self, request: Request, group_id: str) -> Response:
        services.group_mute(group_id=group_id, actor=request_user(request), muted=False, ip=client_ip(request))
        return Response(_group_out(group_id))


# ------------------------------------------------------------ join requests


class GroupJoinRequestsApi(APIView):
    class Input(serializers.Serializer):
        message = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
        join_source = serializers.IntegerField(min_value=JoinSource.SEARCH, max_value=JoinSource.QR_CODE,
                                               required=False, default=JoinSource.SEARCH, help_text="3 search, 4 QR code")

    class ListInput(serializers.Serializer):
        handle_result = serializers.ChoiceField(
            choices=HandleResult.values, required=False, allow_null=True, default=None,
            help_text="0 pending, 1 accepted, -1 refused; omit for all",
        )

    @extend_schema(
        tags=["group join requests"],
        summary="Ask to join a group",
        description=(
            "With need_verification 2 the caller joins at once (1510 tip, `joined: true`); otherwise a pending "
            "request is made and the owner/admins get a 1503 notification."
        ),
        parameters=[GROUP_PATH], request=Input,
        responses={
            200: inline_serializer(
                "GroupJoinResult",
                {"joined": serializers.BooleanField(), "request": GroupRequestOutput(allow_null=True)},
            ),
            **error_responses(Code.GROUP_NOT_FOUND, Code.GROUP_DISMISSED, Code.GROUP_ALREADY_MEMBER, Code.GROUP_FULL,
                              *AUTH),
        },
        examples=[OpenApiExample("request", value={"message": "let me in"}, request_only=True)],
    )
    def post(self, request: Request, group_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.group_join(group_id=group_id, user=request_user(request), **data.validated_data)
        req = result["request"]
        return Response({"joined": result["joined"], "request": GroupRequestOutput(req).data if req else None})

    @extend_schema(
        tags=["group join requests"], summary="Join requests of one group (owner or admins)",
        parameters=[GROUP_PATH, ListInput, *PAGE_PARAMS],
        responses={200: paged("GroupJoinRequestList", GroupRequestOutput(many=True)),
                   **error_responses(*GROUP_ERRORS, *AUTH)},
    )
    def get(self, request: Request, group_id: str) -> Response:
        params = self.ListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        selectors.group_for_viewer(group_id=group_id, viewer=request_user(request), minimum=Role.ADMIN)
        qs = selectors.join_requests_for_group(group_id=group_id, **params.validated_data)
        return paginate(self, request, qs, GroupRequestOutput)


class MyGroupRequestsApi(APIView):
    class ListInput(serializers.Serializer):
        direction = serializers.ChoiceField(
            choices=["received", "sent"], required=False, default="received",
            help_text="received: requests to groups I own or administer; sent: my own requests",
        )
        handle_result = serializers.ChoiceField(
            choices=HandleResult.values, required=False, allow_null=True, default=None,
            help_text="0 pending, 1 accepted, -1 refused; omit for all",
        )

    @extend_schema(
        tags=["group join requests"], summary="Join requests to handle, or my own",
        parameters=[ListInput, *PAGE_PARAMS],
        responses={200: paged("MyGroupJoinRequestList", GroupRequestOutput(many=True)), **error_responses(*AUTH)},
    )
    def get(self, request: Request) -> Response:
        params = self.ListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        fn = (
            selectors.join_requests_of_user
            if params.validated_data["direction"] == "sent"
            else selectors.join_requests_to_handle
        )
        qs = fn(user_id=request_user(request).user_id, handle_result=params.validated_data["handle_result"])
        return paginate(self, request, qs, GroupRequestOutput)


class GroupHandleInput(serializers.Serializer):
    handle_msg = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


def _handle_request(request: Request, request_id: int, handle: Any) -> Response:
    """Accept or refuse (``handle`` is the service) and render the handled request."""
    data = GroupHandleInput(data=request.data)
    data.is_valid(raise_exception=True)
    req = handle(request_id=request_id, actor=request_user(request), ip=client_ip(request), **data.validated_data)
    return Response(GroupRequestOutput(selectors.join_requests_for_group(group_id=req.group_id).get(pk=req.pk)).data)


class GroupRequestAcceptApi(APIView):
    @extend_schema(
        tags=["group join requests"], summary="Accept a join request (owner or admins)", request=GroupHandleInput,
        description="The applicant joins (1510 tip) and gets a 1505 notification. Already handled: 1206.",
        responses={200: GroupRequestOutput,
                   **error_responses(Code.NOT_FOUND, Code.GROUP_REQUEST_HANDLED, Code.GROUP_FULL, *GROUP_ERRORS,
                                     *AUTH)},
    )
    def post(self, request: Request, request_id: int) -> Response:
        return _handle_request(request, request_id, services.group_request_accept)


class GroupRequestRefuseApi(APIView):
    @extend_schema(
        tags=["group join requests"], summary="Refuse a join request (owner or admins)", request=GroupHandleInput,
        description="The applicant gets a 1506 notification. Already handled: 1206.",
        responses={200: GroupRequestOutput,
                   **error_responses(Code.NOT_FOUND, Code.GROUP_REQUEST_HANDLED, *GROUP_ERRORS, *AUTH)},
    )
    def post(self, request: Request, request_id: int) -> Response:
        return _handle_request(request, request_id, services.group_request_refuse)


class JoinedGroupsApi(APIView):
    class ListInput(serializers.Serializer):
        role_level = serializers.ChoiceField(choices=Role.values, required=False, allow_null=True, default=None,
                                             help_text="only groups where I have this role")
        since_version = since_field()

    def cache_prefetch(self, user_id: str) -> list[str]:
        """The list's version, read with the token (:func:`apps.common.listsync.prefetch`)."""
        return listsync.prefetch(versionlog.GROUPS, user_id)

    @extend_schema(
        tags=["groups"], summary="The groups I am a member of (paged, newest first; dismissed ones included)",
        description=(
            "The paged answer carries the list's `version` and an `ETag` (`If-None-Match` with the ETag answers "
            "304). With `since_version` the answer is an incremental sync (docs/protocol.md, incremental sync); "
            "`deleted` holds group ids. A group's member count alone does not bump this list's version."
        ),
        parameters=[ListInput, *PAGE_PARAMS],
        responses={200: sync_schema("JoinedGroupList", JoinedGroupOutput), 304: None, **error_responses(*AUTH)},
    )
    def get(self, request: Request) -> HttpResponse:
        params = self.ListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        user_id = request_user(request).user_id
        since = params.validated_data.pop("since_version", None)
        if since is not None:
            def items(ids: list[str] | None) -> list[dict[str, Any]]:
                return joined_groups_render(list(selectors.joined_group_rows(user_id=user_id, group_ids=ids)))

            return sync_answer(request, kind=versionlog.GROUPS, owner=user_id, since=since, render=items,
                               item_id=lambda item: item["group"]["group_id"])

        def page() -> dict[str, Any]:
            rows = selectors.joined_group_rows(user_id=user_id, **params.validated_data)
            return paginate_rows(self, request, rows, joined_groups_render, rows.count).data

        return etagged(request, kind=versionlog.GROUPS, owner=user_id, render=page)
