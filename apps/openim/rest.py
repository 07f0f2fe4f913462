"""OpenIM's REST API under ``/openim/``: every call is ``POST <path>`` with the headers
``operationID`` (required) and ``token`` (except ``/auth/get_admin_token``), a JSON body
(protobuf for ``/jssdk/*``), and the answer ``{"errCode", "errMsg", "errDlt", "data"}``
with HTTP 200. Each handler parses OpenIM's fields, calls :mod:`apps.openim.bridge` and
renders OpenIM's shapes (:mod:`apps.openim.wire`).
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError

from apps.accounts.constants import PLATFORM_IDS
from apps.accounts.models import User
from apps.common.errors import Code, DomainError
from apps.openim import bridge, wire
from apps.openim.envelope import bad, error, internal, ok, unsupported
from apps.openim.proto import pb

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
MAX_IDS = 1000
VERSION_ID = "imserver"  # incremental sync: imserver always answers with the full state (docs/openim.md)


@dataclass
class Call:
    user: User | None
    platform_id: int
    operation_id: str
    body: dict[str, Any]
    raw: bytes = b""
    protobuf: bool = False
    now_ms: int = 0

    @property
    def me(self) -> User:
        assert self.user is not None
        return self.user


# ------------------------------------------------------------------ field parsing
def _str(body: dict[str, Any], key: str, *, required: bool = True, max_len: int = 256) -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise bad(f"{key} is required")
        return ""
    if not isinstance(value, str) or len(value) > max_len:
        raise bad(f"{key} must be a string of at most {max_len} characters")
    return value


def _int(body: dict[str, Any], key: str, *, default: int | None = None) -> int:
    value = body.get(key, default)
    if value is None:
        raise bad(f"{key} is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"{key} must be an integer")
    return value


def _ids(body: dict[str, Any], key: str, *, required: bool = True) -> list[str]:
    value = body.get(key)
    if value is None:
        if required:
            raise bad(f"{key} is required")
        return []
    if not isinstance(value, list) or len(value) > MAX_IDS or not all(isinstance(v, str) and v for v in value):
        raise bad(f"{key} must be a list of at most {MAX_IDS} ids")
    return list(dict.fromkeys(value))


def _obj(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise bad(f"{key} must be an object")
    return value


def _platform(body: dict[str, Any]) -> int:
    platform = _int(body, "platformID")
    if platform not in PLATFORM_IDS:
        raise bad(f"platformID must be one of {sorted(PLATFORM_IDS)}")
    return platform


def _self_or_admin(call: Call, user_id: str) -> None:
    """A user acts for themselves; an app admin for anyone."""
    if user_id and user_id != call.me.user_id and not call.me.is_app_admin:
        raise DomainError(Code.NO_PERMISSION, "you may only act for yourself")


def _admin(call: Call) -> User:
    if not call.me.is_app_admin:
        raise DomainError(Code.NO_PERMISSION, "this call needs an admin token")
    return call.me


def _page(body: dict[str, Any], items: list[Any]) -> list[Any]:
    page = body.get("pagination")
    if not isinstance(page, dict):
        return items
    number, show = page.get("pageNumber") or 1, page.get("showNumber") or 0
    if not isinstance(number, int) or not isinstance(show, int) or number < 1 or show < 0:
        raise bad("pagination needs pageNumber >= 1 and showNumber >= 0")
    return items[(number - 1) * show : number * show] if show else items


def _token(issued: bridge.IssuedToken) -> dict[str, Any]:
    return {"token": issued.token, "expireTimeSeconds": issued.expires_in}


# ------------------------------------------------------------------ auth and users
def auth_get_admin_token(call: Call) -> dict[str, Any]:
    issued = bridge.admin_token_issue(secret=_str(call.body, "secret"), user_id=_str(call.body, "userID", max_len=64))
    return _token(issued)


def auth_get_user_token(call: Call) -> dict[str, Any]:
    admin = _admin(call)
    issued = bridge.user_token_issue(
        admin=admin, user_id=_str(call.body, "userID", max_len=64), platform_id=_platform(call.body)
    )
    return _token(issued)


def auth_force_logout(call: Call) -> None:
    admin = _admin(call)
    platform = call.body.get("platformID")
    bridge.force_logout(
        admin=admin, user_id=_str(call.body, "userID", max_len=64),
        platform_id=None if platform in (None, 0) else _platform(call.body),
    )


def auth_parse_token(call: Call) -> dict[str, Any]:
    claims = bridge.token_claims(_str(call.body, "token", max_len=1024))
    return {"userID": claims.user_id, "platformID": claims.platform_id, "expireTimeSeconds": claims.expires_at}


def user_user_register(call: Call) -> None:
    admin = _admin(call)
    users = call.body.get("users")
    if not isinstance(users, list) or not users or len(users) > MAX_IDS:
        raise bad(f"users must be a list of 1-{MAX_IDS} users")
    parsed = []
    for item in users:
        if not isinstance(item, dict):
            raise bad("each user must be an object")
        user_id = _str(item, "userID", max_len=64)
        if ":" in user_id:
            raise bad("userID must not contain ':'")
        parsed.append(
            {
                "user_id": user_id,
                "nickname": _str(item, "nickname", required=False, max_len=64),
                "face_url": _str(item, "faceURL", required=False, max_len=512),
                "ex": wire.ex_in(item.get("ex")),
            }
        )
    bridge.users_register(admin=admin, users=parsed)


def user_get_users_info(call: Call) -> dict[str, Any]:
    users = bridge.users_get(user_ids=_ids(call.body, "userIDs"))
    return {"usersInfo": [wire.user_info(u) for u in users]}


def user_update_user_info(call: Call) -> None:
    info = _obj(call.body, "userInfo")
    user_id = _str(info, "userID", max_len=64)
    _self_or_admin(call, user_id)
    found = bridge.users_get(user_ids=[user_id])
    user = found[0] if found else None
    if user is None:
        raise DomainError(Code.USER_NOT_FOUND, f"user {user_id} not found")
    data: dict[str, Any] = {}
    if isinstance(info.get("nickname"), str) and info["nickname"]:
        data["nickname"] = _str(info, "nickname", max_len=64)
    if isinstance(info.get("faceURL"), str) and info["faceURL"]:
        data["face_url"] = _str(info, "faceURL", max_len=512)
    if isinstance(info.get("ex"), str) and info["ex"]:
        data["ex"] = wire.ex_in(info["ex"])
    bridge.user_update(user=user, data=data)


def user_account_check(call: Call) -> dict[str, Any]:
    ids = _ids(call.body, "checkUserIDs")
    found = {u.user_id for u in bridge.users_get(user_ids=ids)}
    return {"results": [{"userID": u, "accountStatus": 1 if u in found else 0} for u in ids]}


def user_get_users_online_status(call: Call) -> dict[str, Any]:
    status = bridge.presence_map(user_ids=_ids(call.body, "userIDs"))
    return {
        "successResult": [
            {"userID": u, "status": "online" if p else "offline",
             "detailPlatformStatus": [{"platformID": x, "status": "online"} for x in p]}
            for u, p in status.items()
        ]
    }


# ------------------------------------------------------------------ friends
def _owner(call: Call, key: str = "userID") -> str:
    owner = _str(call.body, key, required=False, max_len=64) or call.me.user_id
    _self_or_admin(call, owner)
    return owner


def _version(items: list[Any]) -> dict[str, Any]:
    return {"version": len(items), "versionID": VERSION_ID, "full": True, "sortVersion": 0,
            "insert": [], "update": [], "delete": []}


def _since(call: Call) -> int | None:
    """The ``version`` a client synced before (a millisecond time imserver gave it), or None on a first sync."""
    version = call.body.get("version")
    if call.body.get("versionID") != VERSION_ID or isinstance(version, bool) or not isinstance(version, int):
        return None
    return version


def _incremental(call: Call, inserted: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenIM's incremental answer: ``version`` is the time of this sync, ``insert`` what was added
    since the client's last one (removals and edits are not tracked: see docs/openim.md)."""
    return {"version": call.now_ms, "versionID": VERSION_ID, "full": _since(call) is None, "sortVersion": 0,
            "insert": inserted, "update": [], "delete": []}


def friend_get_incremental_friends(call: Call) -> dict[str, Any]:
    owner, since = _owner(call), _since(call)
    rows = bridge.friends_of(owner_id=owner) if since is not None else []
    return _incremental(call, [wire.friend_info(f) for f in rows if wire.ms(f.created_at) >= (since or 0)])


def friend_get_full_friend_user_ids(call: Call) -> dict[str, Any]:
    ids = bridge.friend_ids(owner_id=_owner(call))
    return {"version": len(ids), "versionID": VERSION_ID, "equal": False, "userIDs": ids}


def friend_get_friend_list(call: Call) -> dict[str, Any]:
    rows = bridge.friends_of(owner_id=_owner(call))
    return {"friendsInfo": [wire.friend_info(f) for f in _page(call.body, rows)], "total": len(rows)}


def friend_get_designated_friends(call: Call) -> dict[str, Any]:
    rows = bridge.friends_designated(owner_id=_owner(call, "ownerUserID"), friend_ids=_ids(call.body, "friendUserIDs"))
    return {"friendsInfo": [wire.friend_info(f) for f in rows]}


def friend_add_friend(call: Call) -> None:
    _self_or_admin(call, _str(call.body, "fromUserID", required=False, max_len=64))
    bridge.friend_request_send(
        user=call.me, to_user_id=_str(call.body, "toUserID", max_len=64),
        message=_str(call.body, "reqMsg", required=False, max_len=255), ex=wire.ex_in(call.body.get("ex")),
    )


def friend_add_friend_response(call: Call) -> None:
    _self_or_admin(call, _str(call.body, "toUserID", required=False, max_len=64))
    result = _int(call.body, "handleResult")
    if result not in (1, -1):
        raise bad("handleResult must be 1 (accept) or -1 (refuse)")
    bridge.friend_request_answer(
        user=call.me, from_user_id=_str(call.body, "fromUserID", max_len=64), accept=result == 1,
        handle_msg=_str(call.body, "handleMsg", required=False, max_len=255),
    )


def friend_delete_friend(call: Call) -> None:
    _self_or_admin(call, _str(call.body, "ownerUserID", required=False, max_len=64))
    bridge.friend_delete(user=call.me, friend_id=_str(call.body, "friendUserID", max_len=64))


def friend_is_friend(call: Call) -> dict[str, Any]:
    a, b = _str(call.body, "userID1", max_len=64), _str(call.body, "userID2", max_len=64)
    return {"inUser1Friends": bridge.are_friends(user_id=a, friend_id=b),
            "inUser2Friends": bridge.are_friends(user_id=b, friend_id=a)}


def _requests(call: Call, *, received: bool) -> dict[str, Any]:
    rows = bridge.friend_requests(user_id=_owner(call), received=received)
    items = [wire.friend_request(r) for r in _page(call.body, rows)]
    # OpenIM's two answers spell the list differently (FriendRequests / friendRequests): both are given
    return {"FriendRequests": items, "friendRequests": items, "total": len(rows)}


def friend_get_designated_friend_apply(call: Call) -> dict[str, Any]:
    from_id, to_id = _str(call.body, "fromUserID", max_len=64), _str(call.body, "toUserID", max_len=64)
    if call.me.user_id not in (from_id, to_id):
        _admin(call)
    rows = bridge.friend_requests(user_id=to_id, received=True)
    return {"friendRequests": [wire.friend_request(r) for r in rows if r.from_user_id == from_id]}


def friend_get_friend_apply_list(call: Call) -> dict[str, Any]:
    return _requests(call, received=True)


def friend_get_self_friend_apply_list(call: Call) -> dict[str, Any]:
    return _requests(call, received=False)


def friend_add_black(call: Call) -> None:
    bridge.black_add(user=call.me, user_id=_str(call.body, "blackUserID", max_len=64))


def friend_remove_black(call: Call) -> None:
    bridge.black_remove(user=call.me, user_id=_str(call.body, "blackUserID", max_len=64))


def friend_get_black_list(call: Call) -> dict[str, Any]:
    rows = bridge.blacklist(owner_id=_owner(call))
    blacks = [
        {"ownerUserID": b.owner_id, "createTime": wire.ms(b.created_at), "blackUserInfo": wire.user_info(b.blocked),
         "addSource": 0, "operatorUserID": b.operator_user_id, "ex": wire.ex_out(b.ex)}
        for b in _page(call.body, rows)
    ]
    return {"blacks": blacks, "total": len(rows)}


# ------------------------------------------------------------------ groups
def group_create_group(call: Call) -> dict[str, Any]:
    info = _obj(call.body, "groupInfo")
    owner_id = _str(call.body, "ownerUserID", required=False, max_len=64) or call.me.user_id
    _self_or_admin(call, owner_id)
    found = [call.me] if owner_id == call.me.user_id else bridge.users_get(user_ids=[owner_id])
    owner = found[0] if found else None
    if owner is None:
        raise DomainError(Code.USER_NOT_FOUND, f"user {owner_id} not found")
    group_type = info.get("groupType", 2)
    if group_type != 2:
        raise DomainError(Code.BAD_ARGS, "groupType must be 2 (working group)")
    fields: dict[str, Any] = {
        "notification": _str(info, "notification", required=False, max_len=10_000),
        "introduction": _str(info, "introduction", required=False, max_len=10_000),
        "face_url": _str(info, "faceURL", required=False, max_len=512),
        "ex": wire.ex_in(info.get("ex")),
    }
    for key, name in (("needVerification", "need_verification"), ("lookMemberInfo", "look_member_info"),
                      ("applyMemberFriend", "apply_member_friend")):
        if key in info:
            fields[name] = _int(info, key)
    group = bridge.group_create(
        owner=owner, actor=call.me, name=_str(info, "groupName", max_len=128),
        member_ids=_ids(call.body, "memberUserIDs", required=False),
        admin_ids=_ids(call.body, "adminUserIDs", required=False),
        group_id=_str(info, "groupID", required=False, max_len=64) or None, fields=fields,
    )
    return {"groupInfo": wire.group_info(group)}


def group_get_groups_info(call: Call) -> dict[str, Any]:
    return {"groupInfos": [wire.group_info(g) for g in bridge.groups_get(group_ids=_ids(call.body, "groupIDs"))]}


def group_get_group_members_info(call: Call) -> dict[str, Any]:
    members = bridge.group_members(
        group_id=_str(call.body, "groupID", max_len=64), viewer=call.me, user_ids=_ids(call.body, "userIDs")
    )
    return {"members": [wire.group_member(m) for m in members]}


def group_get_group_member_list(call: Call) -> dict[str, Any]:
    members = bridge.group_members(group_id=_str(call.body, "groupID", max_len=64), viewer=call.me)
    return {"members": [wire.group_member(m) for m in _page(call.body, members)], "total": len(members)}


def group_get_full_group_member_user_ids(call: Call) -> dict[str, Any]:
    ids = bridge.group_member_ids(group_id=_str(call.body, "groupID", max_len=64), viewer=call.me)
    return {"version": len(ids), "versionID": VERSION_ID, "equal": False, "userIDs": ids}


def group_get_joined_group_list(call: Call) -> dict[str, Any]:
    groups = bridge.joined_groups(user_id=_owner(call, "fromUserID"))
    return {"groups": [wire.group_info(g) for g in _page(call.body, groups)], "total": len(groups)}


def group_get_incremental_join_groups(call: Call) -> dict[str, Any]:
    owner, since = _owner(call), _since(call)
    joined = bridge.memberships(user_id=owner) if since is not None else []
    return _incremental(call, [wire.group_info(m.group, m.group_member_count) for m in joined  # type: ignore[attr-defined]  # annotated by the selector
                               if wire.ms(m.joined_at) >= (since or 0)])


def group_get_full_join_group_ids(call: Call) -> dict[str, Any]:
    ids = bridge.joined_group_ids(user_id=_owner(call))
    return {"version": len(ids), "versionID": VERSION_ID, "equal": False, "groupIDs": ids}


def group_get_incremental_group_members_batch(call: Call) -> dict[str, Any]:
    _owner(call)
    reqs = call.body.get("reqList") or []
    if not isinstance(reqs, list) or len(reqs) > MAX_IDS:
        raise bad("reqList must be a list")
    group_ids = [_str(r, "groupID", max_len=64) for r in reqs if isinstance(r, dict)]
    groups = {g.group_id: g for g in bridge.groups_get(group_ids=group_ids)}
    out = {}
    for gid in group_ids:
        group = groups.get(gid)
        out[gid] = {**_version([]), "group": wire.group_info(group) if group is not None else None}
    return {"respList": out}


def group_invite_user_to_group(call: Call) -> None:
    bridge.group_invite(actor=call.me, group_id=_str(call.body, "groupID", max_len=64),
                        user_ids=_ids(call.body, "invitedUserIDs"), reason=_str(call.body, "reason", required=False))


def group_join_group(call: Call) -> None:
    bridge.group_join(user=call.me, group_id=_str(call.body, "groupID", max_len=64),
                      message=_str(call.body, "reqMessage", required=False, max_len=255))


def group_quit_group(call: Call) -> None:
    _self_or_admin(call, _str(call.body, "userID", required=False, max_len=64))
    bridge.group_quit(user=call.me, group_id=_str(call.body, "groupID", max_len=64))


def group_kick_group(call: Call) -> None:
    bridge.group_kick(actor=call.me, group_id=_str(call.body, "groupID", max_len=64),
                      user_ids=_ids(call.body, "kickedUserIDs"), reason=_str(call.body, "reason", required=False))


def group_dismiss_group(call: Call) -> None:
    bridge.group_dismiss(actor=call.me, group_id=_str(call.body, "groupID", max_len=64))


# ------------------------------------------------------------------ conversations and read marks
def conversation_get_incremental_conversations(call: Call) -> dict[str, Any]:
    owner = _owner(call)
    return _version(bridge.conversations(user_id=owner))


def conversation_get_not_notify_conversation_ids(call: Call) -> dict[str, Any]:
    items = bridge.conversations(user_id=_owner(call))
    return {"conversationIDs": [c["conversation_id"] for c in items if c["recv_opt"]]}


def conversation_get_pinned_conversation_ids(call: Call) -> dict[str, Any]:
    items = bridge.conversations(user_id=_owner(call))
    return {"conversationIDs": [c["conversation_id"] for c in items if c["is_pinned"]]}


def conversation_get_full_conversation_ids(call: Call) -> dict[str, Any]:
    ids = [c["conversation_id"] for c in bridge.conversations(user_id=_owner(call))]
    return {"version": len(ids), "versionID": VERSION_ID, "equal": False, "conversationIDs": ids}


def conversation_get_all_conversations(call: Call) -> dict[str, Any]:
    owner = _owner(call, "ownerUserID")
    return {"conversations": [wire.conversation(owner, c) for c in bridge.conversations(user_id=owner)]}


def conversation_get_conversations(call: Call) -> dict[str, Any]:
    owner = _owner(call, "ownerUserID")
    items = bridge.conversations(user_id=owner, conversation_ids=_ids(call.body, "conversationIDs"))
    return {"conversations": [wire.conversation(owner, c) for c in items]}


def conversation_set_conversations(call: Call) -> None:
    conv = _obj(call.body, "conversation")
    cid = _str(conv, "conversationID", max_len=140)
    for uid in _ids(call.body, "userIDs", required=False) or [call.me.user_id]:
        _self_or_admin(call, uid)
        changes: dict[str, Any] = {}
        if isinstance(conv.get("isPinned"), bool):
            changes["is_pinned"] = conv["isPinned"]
        if isinstance(conv.get("recvMsgOpt"), int) and not isinstance(conv.get("recvMsgOpt"), bool):
            changes["recv_opt"] = conv["recvMsgOpt"]
        if changes:
            bridge.conversation_update(user_id=uid, conversation_id=cid, changes=changes)


def _mark_read(call: Call, seq: int) -> None:
    user_id = _owner(call)
    bridge.conversation_read(user_id=user_id, conversation_id=_str(call.body, "conversationID", max_len=140), seq=seq)


def msg_mark_conversation_as_read(call: Call) -> None:
    _mark_read(call, _int(call.body, "hasReadSeq"))


def msg_set_conversation_has_read_seq(call: Call) -> None:
    _mark_read(call, _int(call.body, "hasReadSeq"))


def msg_mark_msgs_as_read(call: Call) -> None:
    seqs = call.body.get("seqs")
    if not isinstance(seqs, list) or not seqs or not all(isinstance(s, int) and not isinstance(s, bool) for s in seqs):
        raise bad("seqs must be a non-empty list of integers")
    _mark_read(call, max(seqs))


def _seqs(user_id: str, conversation_ids: list[str]) -> dict[str, dict[str, int]]:
    items = bridge.conversations(user_id=user_id, conversation_ids=conversation_ids or None)
    return {c["conversation_id"]: {"maxSeq": c["max_seq"], "hasReadSeq": c["read_seq"],
                                   "maxSeqTime": c["last_msg_time"]} for c in items}


def msg_get_conversations_has_read_and_max_seq(call: Call) -> dict[str, Any]:
    return {"seqs": _seqs(_owner(call), _ids(call.body, "conversationIDs", required=False)),
            "pinnedConversationIDs": []}


def msg_newest_seq(call: Call) -> dict[str, Any]:
    seqs = _seqs(_owner(call), [])
    return {"maxSeqs": {cid: s["maxSeq"] for cid, s in seqs.items()}, "minSeqs": {}}


def msg_get_server_time(call: Call) -> dict[str, Any]:
    return {"serverTime": call.now_ms}


def msg_revoke_msg(call: Call) -> None:
    _self_or_admin(call, _str(call.body, "userID", required=False, max_len=64))
    bridge.message_revoke(user_id=call.me.user_id, conversation_id=_str(call.body, "conversationID", max_len=140),
                          seq=_int(call.body, "seq"))


def msg_pull_msg_by_seq(call: Call) -> dict[str, Any]:
    user_id = _owner(call)
    ranges = call.body.get("seqRanges")
    if not isinstance(ranges, list) or len(ranges) > MAX_IDS:
        raise bad("seqRanges must be a list")
    out: dict[str, list[dict[str, Any]]] = {}
    for r in ranges:
        if not isinstance(r, dict):
            raise bad("each seqRange must be an object")
        cid = _str(r, "conversationID", max_len=140)
        out[cid], _ = _pull_range(user_id, cid, _int(r, "begin", default=0), _int(r, "end"), _int(r, "num", default=100))
    msgs, notes = wire.pull_maps(out)
    def as_json(m: dict[str, Any]) -> dict[str, Any]:
        return {cid: {"Msgs": [_msg_json(x) for x in v.Msgs], "isEnd": v.isEnd} for cid, v in m.items()}
    return {"msgs": as_json(msgs), "notificationMsgs": as_json(notes)}


def _msg_json(m: Any) -> dict[str, Any]:
    """A protobuf message as OpenIM's JSON: proto field names, every field, int64 as numbers, bytes as base64."""
    out = MessageToDict(m, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    return _numbers(m.DESCRIPTOR, out)


_INT64 = {FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT64,
          FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED64}


def _numbers(descriptor: Any, value: dict[str, Any]) -> dict[str, Any]:
    """MessageToDict writes 64-bit integers as strings (proto3 JSON); OpenIM's JSON has numbers."""
    for field in descriptor.fields:
        if field.name not in value:
            continue
        item = value[field.name]
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            inner = field.message_type.fields_by_name["value"]
            if inner.message_type is not None:
                value[field.name] = {k: _numbers(inner.message_type, v) for k, v in item.items()}
            elif inner.type in _INT64:
                value[field.name] = {k: int(v) for k, v in item.items()}
        elif field.message_type is not None:
            if isinstance(item, list):
                value[field.name] = [_numbers(field.message_type, v) for v in item]
            elif isinstance(item, dict):
                value[field.name] = _numbers(field.message_type, item)
        elif field.type in _INT64:
            value[field.name] = [int(v) for v in item] if isinstance(item, list) else int(item)
    return value


def _pull_range(user_id: str, cid: str, begin: int, end: int, num: int) -> tuple[list[dict[str, Any]], bool]:
    """OpenIM's range pull: at most ``num`` messages of ``[begin, end]``, the newest ones."""
    num = max(1, min(num or 100, bridge.pull_max_limit()))
    begin = max(begin, 1)
    if end < begin:
        return [], True
    if end - begin + 1 > num:
        begin = end - num + 1
    try:
        return bridge.pull(user_id=user_id, conversation_id=cid, from_seq=begin, to_seq=end, limit=num)
    except DomainError as exc:
        if exc.code in (Code.NOT_FOUND, Code.SEQ_PURGED):
            return [], True
        raise


def msg_send_msg(call: Call) -> dict[str, Any]:
    _admin(call)
    content = call.body.get("content")
    result = bridge.message_send_by_admin(
        send_id=_str(call.body, "sendID", max_len=64), session_type=_int(call.body, "sessionType"),
        content_type=_int(call.body, "contentType"), content=content,
        recv_id=_str(call.body, "recvID", required=False, max_len=64),
        group_id=_str(call.body, "groupID", required=False, max_len=64),
        client_msg_id=_str(call.body, "clientMsgID", required=False, max_len=64),
    )
    return {"serverMsgID": result.ack["server_msg_id"], "clientMsgID": result.ack["client_msg_id"],
            "sendTime": result.ack["send_time"]}


# ------------------------------------------------------------------ jssdk (protobuf)
def _conversation_msgs(owner: str, items: list[dict[str, Any]]) -> pb.GetConversationsResp:
    peers = [c["peer_id"] for c in items if c["session_type"] != 3 and c["peer_id"]]
    users = {u.user_id: u for u in bridge.users_get(user_ids=peers)} if peers else {}
    friends = {f.friend_id: f for f in bridge.friends_designated(owner_id=owner, friend_ids=peers)} if peers else {}
    gids = [c["group_id"] for c in items if c["session_type"] == 3]
    groups = {g.group_id: g for g in bridge.groups_get(group_ids=gids)} if gids else {}
    resp = pb.GetConversationsResp()
    for c in items:
        unread = max(0, c["max_seq"] - c["read_seq"])
        resp.unreadCount += unread if not c["recv_opt"] else 0
        entry = resp.conversations.add(maxSeq=c["max_seq"], readSeq=c["read_seq"])
        entry.conversation.CopyFrom(pb.Conversation(**wire.conversation(owner, c)))
        if c.get("last_message"):
            entry.lastMsg.CopyFrom(wire.msg_data(c["last_message"]))
        if c["session_type"] == 3:
            group = groups.get(c["group_id"])
            if group is not None:
                entry.group.CopyFrom(wire.group_info_pb(wire.group_info(group)))
        else:
            user = users.get(c["peer_id"])
            if user is not None:
                entry.user.CopyFrom(wire.user_info_pb(wire.user_info(user)))
            friend = friends.get(c["peer_id"])
            if friend is not None:
                entry.friend.CopyFrom(wire.friend_info_only_pb(friend))
    return resp


def _jssdk_request(call: Call, message: Any) -> Any:
    if call.protobuf:
        try:
            message.ParseFromString(call.raw)
        except DecodeError as exc:
            raise bad("body is not a valid protobuf message") from exc
        return message
    from google.protobuf.json_format import ParseDict, ParseError

    try:
        return ParseDict(call.body, message, ignore_unknown_fields=True)
    except ParseError as exc:
        raise bad(f"body does not fit {type(message).__name__}: {exc}") from exc


def jssdk_get_active_conversations(call: Call) -> Any:
    req = _jssdk_request(call, pb.GetActiveConversationsReq())
    owner = req.ownerUserID or call.me.user_id
    _self_or_admin(call, owner)
    items = bridge.conversations(user_id=owner)
    count = req.count if req.count > 0 else 100
    # conversations_list is pinned first, then newest first: the active ones lead
    resp = _conversation_msgs(owner, bridge.conversations(user_id=owner, conversation_ids=[
        c["conversation_id"] for c in items[:count]], last=True))
    resp.unreadCount = sum(max(0, c["max_seq"] - c["read_seq"]) for c in items if not c["recv_opt"])
    return resp


def jssdk_get_conversations(call: Call) -> Any:
    req = _jssdk_request(call, pb.GetConversationsReq())
    owner = req.ownerUserID or call.me.user_id
    _self_or_admin(call, owner)
    wanted = list(req.conversationIDs)[:MAX_IDS]
    items = bridge.conversations(user_id=owner, conversation_ids=wanted, last=True)
    order = {cid: i for i, cid in enumerate(wanted)}
    items.sort(key=lambda c: order.get(c["conversation_id"], 0))
    return _conversation_msgs(owner, items)


# ------------------------------------------------------------------ routing
Handler = Callable[[Call], Any]
PUBLIC: set[str] = {"auth/get_admin_token", "auth/parse_token"}
ROUTES: dict[str, Handler] = {
    name.replace("__", "/"): fn
    for name, fn in {
        "auth__get_admin_token": auth_get_admin_token,
        "auth__get_user_token": auth_get_user_token,
        "auth__force_logout": auth_force_logout,
        "auth__parse_token": auth_parse_token,
        "user__user_register": user_user_register,
        "user__get_users_info": user_get_users_info,
        "user__update_user_info": user_update_user_info,
        "user__update_user_info_ex": user_update_user_info,
        "user__account_check": user_account_check,
        "user__get_users_online_status": user_get_users_online_status,
        "friend__get_incremental_friends": friend_get_incremental_friends,
        "friend__get_full_friend_user_ids": friend_get_full_friend_user_ids,
        "friend__get_friend_list": friend_get_friend_list,
        "friend__get_designated_friends": friend_get_designated_friends,
        "friend__add_friend": friend_add_friend,
        "friend__add_friend_response": friend_add_friend_response,
        "friend__delete_friend": friend_delete_friend,
        "friend__is_friend": friend_is_friend,
        "friend__get_friend_apply_list": friend_get_friend_apply_list,
        "friend__get_self_friend_apply_list": friend_get_self_friend_apply_list,
        "friend__get_designated_friend_apply": friend_get_designated_friend_apply,
        "friend__add_black": friend_add_black,
        "friend__remove_black": friend_remove_black,
        "friend__get_black_list": friend_get_black_list,
        "group__create_group": group_create_group,
        "group__get_groups_info": group_get_groups_info,
        "group__get_group_members_info": group_get_group_members_info,
        "group__get_group_member_list": group_get_group_member_list,
        "group__get_full_group_member_user_ids": group_get_full_group_member_user_ids,
        "group__get_joined_group_list": group_get_joined_group_list,
        "group__get_incremental_join_groups": group_get_incremental_join_groups,
        "group__get_full_join_group_ids": group_get_full_join_group_ids,
        "group__get_incremental_group_members_batch": group_get_incremental_group_members_batch,
        "group__invite_user_to_group": group_invite_user_to_group,
        "group__join_group": group_join_group,
        "group__quit_group": group_quit_group,
        "group__kick_group": group_kick_group,
        "group__dismiss_group": group_dismiss_group,
        "conversation__get_incremental_conversations": conversation_get_incremental_conversations,
        "conversation__get_not_notify_conversation_ids": conversation_get_not_notify_conversation_ids,
        "conversation__get_pinned_conversation_ids": conversation_get_pinned_conversation_ids,
        "conversation__get_full_conversation_ids": conversation_get_full_conversation_ids,
        "conversation__get_all_conversations": conversation_get_all_conversations,
        "conversation__get_conversations": conversation_get_conversations,
        "conversation__set_conversations": conversation_set_conversations,
        "msg__mark_conversation_as_read": msg_mark_conversation_as_read,
        "msg__set_conversation_has_read_seq": msg_set_conversation_has_read_seq,
        "msg__mark_msgs_as_read": msg_mark_msgs_as_read,
        "msg__get_conversations_has_read_and_max_seq": msg_get_conversations_has_read_and_max_seq,
        "msg__newest_seq": msg_newest_seq,
        "msg__get_server_time": msg_get_server_time,
        "msg__revoke_msg": msg_revoke_msg,
        "msg__pull_msg_by_seq": msg_pull_msg_by_seq,
        "msg__send_msg": msg_send_msg,
        "jssdk__get_active_conversations": jssdk_get_active_conversations,
        "jssdk__get_conversations": jssdk_get_conversations,
    }.items()
}


def _respond(body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), content_type="application/json")


def _parse(request: HttpRequest, path: str) -> Call:
    operation_id = request.headers.get("operationID", "")
    if not operation_id:
        raise bad("header must have operationID")
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        raise bad(f"the body is limited to {MAX_BODY_BYTES} bytes")
    protobuf = "protobuf" in (request.content_type or "")
    body: Any = {}
    if not protobuf and raw.strip():
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise bad("the body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise bad("the body must be a JSON object")
    call = Call(user=None, platform_id=0, operation_id=operation_id, body=body, raw=raw, protobuf=protobuf,
                now_ms=int(time.time() * 1000))
    if path not in PUBLIC:
        token = request.headers.get("token", "")
        if not token:
            raise DomainError(Code.TOKEN_INVALID, "header must have token")
        call.user, claims = bridge.user_for_token(token)
        call.platform_id = claims.platform_id
    return call


@csrf_exempt
def api(request: HttpRequest, path: str) -> HttpResponse:
    """Every OpenIM REST call: ``POST /openim/<path>``."""
    path = path.strip("/")
    try:
        if request.method != "POST":
            raise bad(f"{request.method} is not allowed; every OpenIM call is a POST")
        handler = ROUTES.get(path)
        if handler is None:
            raise unsupported(f"/{path[:100]}")
        call = _parse(request, path)
        data = handler(call)
    except DomainError as exc:
        return _respond(error(exc))
    except Exception:
        log.exception("OpenIM call /%s failed", path)
        return _respond(internal())
    if isinstance(data, pb.GetConversationsResp) or hasattr(data, "SerializeToString"):
        if call.protobuf:
            return _respond(ok(base64.b64encode(data.SerializeToString()).decode()))
        return _respond(ok(_msg_json(data)))
    return _respond(ok(data))
