"""Translation between imserver's records and OpenIM's wire shapes (no I/O, no rules).

OpenIM names fields in camelCase (``userID``, ``faceURL``), gives times in
milliseconds and ``ex`` as a string; imserver keeps ``ex`` as a JSON object. A
message's ``content`` is UTF-8 JSON bytes: user content is imserver's content object as
it is (text 101 is ``{"content": "..."}`` in both), notification content (1000 and
above) is wrapped as ``{"detail": "<JSON>"}`` like OpenIM's notification element.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson

from apps.openim.proto import pb

NOTIFICATION_MIN = 1000
MSG_FROM_USER = 100
MSG_FROM_SYSTEM = 200
STATUS_SENT = 2
STATUS_DELETED = 4
GROUP_TYPE_WORKING = 2


def ms(value: datetime | None) -> int:
    return int(value.timestamp() * 1000) if value is not None else 0


def ex_out(value: Any) -> str:
    """imserver's ``ex`` (a JSON object) as OpenIM's string."""
    if not value:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def ex_in(value: Any) -> dict[str, Any]:
    """OpenIM's ``ex`` string as imserver's JSON object (a non-object string is kept under ``"ex"``)."""
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return {"ex": value}
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {"ex": value}
    return parsed if isinstance(parsed, dict) else {"ex": value}


def is_notification_conversation(conversation_id: str) -> bool:
    return conversation_id.startswith("n_")


# ------------------------------------------------------------------ messages
FRIEND_NOTES = range(1201, 1211)
GROUP_CREATED = 1501
MEMBER_INVITED = 1509
MEMBER_ENTER = 1510
# notifications also pushed in ``notificationMsgs``, where the SDK acts on them: their tips
# carry what its handlers read (friend events: ``fromToUserID``; group created: ``group``;
# members invited / entered: ``invitedUserList`` / ``entrantUser``)
TWIN_NOTES = frozenset([*FRIEND_NOTES, GROUP_CREATED, MEMBER_INVITED, MEMBER_ENTER])


def tips(content: Any) -> dict[str, Any]:
    """A notification's content with OpenIM's tip keys added: ``group`` as a GroupInfo,
    ``opUser``, and ``fromToUserID`` for friend events (the SDK reads these)."""
    if not isinstance(content, dict):
        return {}
    out = dict(content)
    group = content.get("group")
    if isinstance(group, dict):
        out["group"] = {
            "groupID": group.get("group_id", ""), "groupName": group.get("name", ""),
            "ownerUserID": group.get("owner_user_id", ""), "status": group.get("status", 0),
            "needVerification": group.get("need_verification", 0), "faceURL": group.get("face_url", ""),
            "groupType": GROUP_TYPE_WORKING,
        }
        gid = out["group"]["groupID"]
        if content.get("op_user_id"):
            out["opUser"] = {"userID": content["op_user_id"], "groupID": gid}
        invited = content.get("invited_user_ids")
        if isinstance(invited, list):
            out["invitedUserList"] = [{"userID": u, "groupID": gid} for u in invited if isinstance(u, str)]
        if isinstance(content.get("entrant_user_id"), str):
            out["entrantUser"] = {"userID": content["entrant_user_id"], "groupID": gid}
    if isinstance(content.get("from_user_id"), str) and isinstance(content.get("to_user_id"), str):
        out["fromToUserID"] = {"fromUserID": content["from_user_id"], "toUserID": content["to_user_id"]}
    return out


def content_out(content_type: int, content: Any) -> bytes:
    if content_type >= NOTIFICATION_MIN:
        return orjson.dumps({"detail": orjson.dumps(tips(content)).decode()})
    return orjson.dumps(content if content is not None else {})


def content_in(raw: bytes) -> Any:
    """The JSON object in a MsgData's ``content`` bytes (None when it is not JSON)."""
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def msg_data(message: dict[str, Any]) -> pb.MsgData:
    """An imserver wire message (push, pull, history) as OpenIM's ``MsgData``."""
    content_type = int(message.get("content_type") or 0)
    status = int(message.get("status") or 0)
    deleted = status != STATUS_SENT
    return pb.MsgData(
        sendID=message.get("send_id") or "",
        recvID=message.get("recv_id") or "",
        groupID=message.get("group_id") or "",
        clientMsgID=message.get("client_msg_id") or "",
        serverMsgID=message.get("server_msg_id") or "",
        senderPlatformID=int(message.get("sender_platform_id") or 0),
        senderNickname=message.get("sender_nickname") or "",
        senderFaceURL=message.get("sender_face_url") or "",
        sessionType=int(message.get("session_type") or 0),
        msgFrom=MSG_FROM_SYSTEM if content_type >= NOTIFICATION_MIN else MSG_FROM_USER,
        contentType=content_type,
        content=b"" if deleted else content_out(content_type, message.get("content")),
        seq=int(message.get("seq") or 0),
        sendTime=int(message.get("send_time") or 0),
        createTime=int(message.get("send_time") or 0),
        status=STATUS_DELETED if deleted else STATUS_SENT,
    )


def pull_maps(by_conversation: dict[str, list[dict[str, Any]]], *, is_end: bool = True) -> tuple[dict, dict]:
    """``(msgs, notificationMsgs)`` maps of ``PullMsgs``: ``n_`` conversations go to the second.

    Every requested conversation gets its key, even with no messages (the SDK needs it).
    """
    msgs: dict[str, pb.PullMsgs] = {}
    notes: dict[str, pb.PullMsgs] = {}
    for cid, messages in by_conversation.items():
        target = notes if is_notification_conversation(cid) else msgs
        target[cid] = pb.PullMsgs(Msgs=[msg_data(m) for m in messages], isEnd=is_end)
    return msgs, notes


def fill_maps(resp: Any, by_conversation: dict[str, list[dict[str, Any]]], ends: dict[str, bool] | None = None) -> Any:
    msgs, notes = pull_maps(by_conversation)
    for cid, value in msgs.items():
        resp.msgs[cid].CopyFrom(value)
        resp.msgs[cid].isEnd = (ends or {}).get(cid, True)
    for cid, value in notes.items():
        resp.notificationMsgs[cid].CopyFrom(value)
        resp.notificationMsgs[cid].isEnd = (ends or {}).get(cid, True)
    return resp


def notification_twin(conversation_id: str) -> str:
    """OpenIM's notification conversation of a chat: ``si_a_b`` → ``n_a_b``, ``sg_g`` → ``n_g``."""
    return "n_" + conversation_id[3:] if conversation_id.startswith(("si_", "sg_")) else conversation_id


def push_messages(messages: list[dict[str, Any]]) -> pb.PushMessages:
    """Pushed messages by conversation. Friend events (1201–1210) and group creation, invitation
    and entry (1501, 1509, 1510), stored in the chat's log, also go out in ``notificationMsgs``
    under the ``n_`` twin, where the SDK raises its friend and group events."""
    by_cid: dict[str, list[dict[str, Any]]] = {}
    for m in messages:
        by_cid.setdefault(m.get("conversation_id") or "", []).append(m)
    out = fill_maps(pb.PushMessages(), by_cid)
    for m in messages:
        if int(m.get("content_type") or 0) in TWIN_NOTES:
            out.notificationMsgs[notification_twin(m.get("conversation_id") or "")].Msgs.append(msg_data(m))
    return out


def read_receipt(receipt: dict[str, Any]) -> pb.PushMessages:
    """imserver's read push as OpenIM's HasReadReceipt (2200) notification."""
    cid = str(receipt.get("conversation_id") or "")
    reader = str(receipt.get("user_id") or "")
    read_seq = int(receipt.get("read_seq") or 0)
    detail = {"conversationID": cid, "markAsReadUserID": reader, "seqs": [], "hasReadSeq": read_seq}
    note = pb.MsgData(
        sendID=reader,
        recvID=reader,
        sessionType=1,
        msgFrom=MSG_FROM_SYSTEM,
        contentType=2200,
        content=orjson.dumps({"detail": orjson.dumps(detail).decode()}),
        status=STATUS_SENT,
    )
    out = pb.PushMessages()
    out.notificationMsgs[notification_twin(cid)].Msgs.append(note)
    return out


# ------------------------------------------------------------------ people and groups
def user_info(user: Any) -> dict[str, Any]:
    return {
        "userID": user.user_id,
        "nickname": user.nickname,
        "faceURL": user.face_url,
        "ex": ex_out(user.ex),
        "createTime": ms(getattr(user, "created_at", None)),
        "appMangerLevel": int(user.app_manager_level or 0),
        "globalRecvMsgOpt": int(user.global_recv_msg_opt or 0),
    }


def user_info_pb(info: dict[str, Any]) -> pb.UserInfo:
    return pb.UserInfo(**info)


def friend_info(row: Any) -> dict[str, Any]:
    """A friend row (with ``friend`` loaded) as OpenIM's ``FriendInfo``."""
    return {
        "ownerUserID": row.owner_id,
        "remark": row.remark,
        "createTime": ms(row.created_at),
        "friendUser": user_info(row.friend),
        "addSource": int(row.add_source or 0),
        "operatorUserID": row.operator_user_id,
        "ex": ex_out(row.ex),
        "isPinned": bool(row.is_pinned),
    }


def friend_info_only_pb(row: Any) -> pb.FriendInfoOnly:
    return pb.FriendInfoOnly(
        ownerUserID=row.owner_id,
        friendUserID=row.friend_id,
        remark=row.remark,
        createTime=ms(row.created_at),
        addSource=int(row.add_source or 0),
        operatorUserID=row.operator_user_id,
        ex=ex_out(row.ex),
        isPinned=bool(row.is_pinned),
    )


def group_info(group: Any, member_count: int | None = None) -> dict[str, Any]:
    count = member_count if member_count is not None else getattr(group, "member_count", 0)
    return {
        "groupID": group.group_id,
        "groupName": group.name,
        "notification": group.notification,
        "introduction": group.introduction,
        "faceURL": group.face_url,
        "ownerUserID": group.owner_user_id,
        "createTime": ms(group.created_at),
        "memberCount": int(count or 0),
        "ex": ex_out(group.ex),
        "status": int(group.status),
        "creatorUserID": group.creator_user_id,
        "groupType": GROUP_TYPE_WORKING,
        "needVerification": int(group.need_verification),
        "lookMemberInfo": int(group.look_member_info),
        "applyMemberFriend": int(group.apply_member_friend),
        "notificationUpdateTime": ms(group.notification_updated_at),
        "notificationUserID": group.notification_user_id,
        "displayIsRead": 0,
    }


def group_info_pb(info: dict[str, Any]) -> pb.GroupInfo:
    return pb.GroupInfo(**info)


def group_member(member: Any) -> dict[str, Any]:
    user = member.user
    return {
        "groupID": member.group_id,
        "userID": member.user_id,
        "roleLevel": int(member.role_level),
        "joinTime": ms(member.joined_at),
        "nickname": member.nickname or user.nickname,
        "faceURL": member.face_url or user.face_url,
        "appMangerLevel": int(user.app_manager_level or 0),
        "joinSource": int(member.join_source),
        "operatorUserID": member.operator_user_id,
        "ex": ex_out(member.ex),
        "muteEndTime": ms(member.mute_end_time),
        "inviterUserID": member.inviter_user_id,
    }


def friend_request(req: Any) -> dict[str, Any]:
    return {
        "fromUserID": req.from_user_id,
        "fromNickname": req.from_user.nickname,
        "fromFaceURL": req.from_user.face_url,
        "toUserID": req.to_user_id,
        "toNickname": req.to_user.nickname,
        "toFaceURL": req.to_user.face_url,
        "handleResult": int(req.handle_result),
        "reqMsg": req.message,
        "createTime": ms(req.created_at),
        "handlerUserID": req.handler_user_id,
        "handleMsg": req.handle_msg,
        "handleTime": ms(req.handled_at),
        "ex": ex_out(req.ex),
    }


# ------------------------------------------------------------------ conversations
def conversation(owner_id: str, item: dict[str, Any]) -> dict[str, Any]:
    """An item of imserver's conversation list as OpenIM's ``Conversation``."""
    is_group = item["session_type"] == 3
    return {
        "ownerUserID": owner_id,
        "conversationID": item["conversation_id"],
        "recvMsgOpt": int(item.get("recv_opt") or 0),
        "conversationType": int(item["session_type"]),
        "userID": "" if is_group else item.get("peer_id", ""),
        "groupID": item.get("group_id", "") if is_group else "",
        "isPinned": bool(item.get("is_pinned")),
        "attachedInfo": "",
        "isPrivateChat": False,
        "groupAtType": 0,
        "ex": "",
        "burnDuration": 0,
        "minSeq": int(item.get("min_seq") or 0),
        "maxSeq": int(item.get("max_seq") or 0),
        "msgDestructTime": 0,
        "latestMsgDestructTime": 0,
        "isMsgDestruct": False,
    }


def b64(message: Any) -> str:
    return base64.b64encode(message.SerializeToString()).decode()
