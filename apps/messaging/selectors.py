"""Reads for messaging: access checks, newest seqs, pulls from the offline store, lists, history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from apps.common.cachekeys import make_key
from apps.common.errors import Code, DomainError
from apps.groups.selectors import group_member_ids, group_member_role, user_group_ids
from apps.messaging import offline
from apps.messaging.models import (
    Conversation,
    Message,
    MessageDeletion,
    MsgStatus,
    RecvOpt,
    SessionType,
    UserConversation,
)
from apps.messaging.wire import PullReply, SeqState, WireMessage, group_conversation_id, placeholder


def _group_role(group_id: str, user_id: str) -> int | None:
    return group_member_role(group_id=group_id, user_id=user_id)


def _user_group_ids(user_id: str) -> list[str]:
    return user_group_ids(user_id=user_id)


def conversation_for_user(*, user_id: str, conversation_id: str, former: bool = False) -> tuple[Conversation, int]:
    """The conversation if ``user_id`` takes part in it, and the user's group role (0 outside groups).

    With ``former`` (reads, read receipts, the user's own settings) a former member of a
    group is let in too, with role 0 and the conversation's ``max_seq`` lowered to the
    seq frozen when they left: they read the log up to there and nothing after.
    Raises 1001 for a malformed id, 1004 for an unknown conversation, 1002 for one of other users.
    """
    if not isinstance(conversation_id, str) or not conversation_id or len(conversation_id) > 140:
        raise DomainError(Code.BAD_ARGS, "conversation_id must be a string of 1-140 characters")
    conv = Conversation.objects.filter(conversation_id=conversation_id).first()
    if conv is None:
        raise DomainError(Code.NOT_FOUND, f"conversation {conversation_id} not found")
    role = 0
    if conv.session_type == SessionType.GROUP:
        role = _group_role(conv.group_id, user_id) or 0
        allowed = bool(role)
        if not allowed and former:
            frozen = _frozen_max_seq(user_id, conv.conversation_id)
            if frozen:
                conv.max_seq, allowed = min(conv.max_seq, frozen), True
    else:
        allowed = user_id in (conv.user_a, conv.user_b)
    if not allowed:
        raise DomainError(Code.NO_PERMISSION, "this conversation is not yours")
    return conv, role


def _frozen_max_seq(user_id: str, conversation_id: str) -> int:
    """The last seq a former group member may read (0: none; they were never a member)."""
    return (
        UserConversation.objects.filter(owner_id=user_id, conversation_id=conversation_id, frozen_max_seq__gt=0)
        .values_list("frozen_max_seq", flat=True)
        .first()
    ) or 0


def peers_of(conv: Conversation, user_id: str) -> list[str]:
    """The other participant of a single chat (empty for groups and self-chats)."""
    if conv.session_type == SessionType.GROUP:
        return []
    return [u for u in (conv.user_a, conv.user_b) if u and u != user_id]


# ------------------------------------------------------------------ group fan-out
def group_rejecters_key(conversation_id: str) -> str:
    return make_key("msg:rej", conversation_id)


def group_rejecters(*, conversation_id: str) -> set[str]:
    """Users whose receive option of this conversation is 1 (reject: stored, never pushed).

    Cached; :func:`apps.messaging.services.actions.conversation_update` drops the key when an
    option changes. At most one indexed query on a miss.
    """
    key = group_rejecters_key(conversation_id)
    ids = cache.get(key)
    if ids is None:
        ids = list(
            UserConversation.objects.filter(conversation_id=conversation_id, recv_opt=RecvOpt.REJECT).values_list(
                "owner_id", flat=True
            )
        )
        cache.set(key, ids, settings.IM_RELATION_CACHE_SECONDS)
    return set(ids)


def group_push_member_ids(*, group_id: str) -> list[str]:
    """The members of a group a message, tip or typing push goes to: all but those who reject it.

    Two cache reads when warm, at most two queries when cold, whatever the group's size.
    """
    rejecting = group_rejecters(conversation_id=group_conversation_id(group_id))
    members = group_member_ids(group_id=group_id)
    return [u for u in members if u not in rejecting] if rejecting else members


def group_typing_targets(*, user_id: str, group_id: str) -> list[str]:
    """Who gets a member's ``typing`` in a group: the members who do not reject it (1203 for non-members)."""
    if not _group_role(group_id, user_id):
        raise DomainError(Code.NOT_IN_GROUP, f"you are not a member of group {group_id}")
    return group_push_member_ids(group_id=group_id)


# ------------------------------------------------------------------- seq.newest
_STATE_FIELDS = (
    "conversation_id", "session_type", "read_seq", "is_pinned", "recv_opt", "draft", "draft_time", "is_hidden",
    "frozen_max_seq",
)


def _user_conversations(user_id: str) -> dict[str, dict[str, Any]]:
    """The user's conversations with the user's own state (one query).

    Groups without a state row (the user never sent or read there) get an empty state.
    Groups the user left stay listed with ``limit``, the seq frozen when they left; rows
    of groups they never belonged to are dropped.
    """
    group_cids = {group_conversation_id(g) for g in _user_group_ids(user_id)}
    out: dict[str, dict[str, Any]] = {cid: {"read_seq": 0} for cid in group_cids}
    for row in UserConversation.objects.filter(owner_id=user_id).values(*_STATE_FIELDS):
        if row["session_type"] == SessionType.GROUP and row["conversation_id"] not in group_cids:
            if not row["frozen_max_seq"]:
                continue
            row["limit"] = row["frozen_max_seq"]
        out[row["conversation_id"]] = row
    return out


def _visible_max(conv_max_seq: int, state: dict[str, Any]) -> int:
    limit = state.get("limit")
    return min(conv_max_seq, limit) if limit else conv_max_seq


def seq_newest(*, user_id: str) -> dict[str, SeqState]:
    """``{conversation_id: {max_seq, read_seq, min_seq}}`` of every conversation with messages.

    A group the user left reports the seq frozen when they left as its ``max_seq``.
    """
    states = _user_conversations(user_id)
    if not states:
        return {}
    out: dict[str, SeqState] = {}
    for cid, max_seq, min_seq in Conversation.objects.filter(
        conversation_id__in=list(states), max_seq__gt=0
    ).values_list("conversation_id", "max_seq", "min_seq"):
        max_seq = _visible_max(max_seq, states[cid])
        out[cid] = {"max_seq": max_seq, "read_seq": min(states[cid]["read_seq"], max_seq), "min_seq": min_seq}
    return out


# ------------------------------------------------------------------------- pull
@dataclass
class PullResult:
    messages: list[Any]  # orjson.Fragment (stored wire JSON) or placeholder dicts
    is_end: bool
    max_seq: int
    min_seq: int

    def as_data(self) -> PullReply:
        return {"messages": self.messages, "is_end": self.is_end, "max_seq": self.max_seq, "min_seq": self.min_seq}


def _check_seq(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(Code.BAD_ARGS, f"{name} must be a non-negative integer")
    return value


def _deleted_for(user_id: str, cid: str, lo: int, hi: int) -> set[int]:
    return set(
        MessageDeletion.objects.filter(owner_id=user_id, conversation_id=cid, seq__gte=lo, seq__lte=hi).values_list(
            "seq", flat=True
        )
    )


def messages_pull(
    *,
    user_id: str,
    conversation_id: str,
    from_seq: int | None = None,
    to_seq: int | None = None,
    seqs: list[int] | None = None,
    limit: int | None = None,
) -> PullResult:
    """Messages of a conversation from the offline store, by seq range (paged) or by seq list.

    Every seq in the answered range is present: missing or deleted ones as placeholders
    (status 4). Seqs below ``min_seq`` were purged from the offline store (1406 when the
    whole range was; read them through the history API).
    """
    max_limit = settings.IM_PULL_MAX_LIMIT
    if limit is None:
        limit = min(100, max_limit)
    limit = _check_seq(limit, "limit")
    if not 1 <= limit <= max_limit:
        raise DomainError(Code.BAD_ARGS, f"limit must be between 1 and {max_limit}")
    if seqs is not None:
        if not isinstance(seqs, list) or not seqs or len(seqs) > max_limit:
            raise DomainError(Code.BAD_ARGS, f"seqs must be a list of 1-{max_limit} seqs")
        wanted = sorted({_check_seq(s, "seqs[]") for s in seqs})
    else:
        first = _check_seq(from_seq, "from_seq")
        end = _check_seq(to_seq, "to_seq")
        if end < first:
            raise DomainError(Code.BAD_ARGS, "to_seq must not be below from_seq")
    conv, _role = conversation_for_user(user_id=user_id, conversation_id=conversation_id, former=True)
    cid, max_seq, min_seq = conv.conversation_id, conv.max_seq, conv.min_seq
    if seqs is not None:
        wanted = [s for s in wanted if 1 <= s <= max_seq]
        if not wanted:
            return PullResult([], True, max_seq, min_seq)
        if wanted[-1] < min_seq:  # purged from the offline store: say so, not "deleted"
            raise DomainError(Code.SEQ_PURGED, data={"min_seq": min_seq})
        wanted = [s for s in wanted if s >= min_seq]
        stored = dict(offline.by_seqs(conversation_id=cid, seqs=wanted))
        deleted = _deleted_for(user_id, cid, wanted[0], wanted[-1])
        out: list[Any] = [
            orjson.Fragment(stored[s]) if s in stored and s not in deleted else placeholder(cid, s) for s in wanted
        ]
        return PullResult(out, True, max_seq, min_seq)
    hi = min(end, max_seq)
    lo = max(first, 1, min_seq)
    if hi < 1 or first > max_seq:
        return PullResult([], True, max_seq, min_seq)
    if hi < lo:
        raise DomainError(Code.SEQ_PURGED, data={"min_seq": min_seq})
    last = min(hi, lo + limit - 1)
    stored = dict(offline.range(conversation_id=cid, from_seq=lo, to_seq=last, limit=limit))
    deleted = _deleted_for(user_id, cid, lo, last)
    out = [
        orjson.Fragment(stored[s]) if s in stored and s not in deleted else placeholder(cid, s)
        for s in range(lo, last + 1)
    ]
    return PullResult(out, last >= hi, max_seq, min_seq)


# --------------------------------------------------------------- REST listings
def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class ConversationRow(NamedTuple):
    """One conversation of the user's list: the user's state and the conversation, joined."""

    conversation_id: str
    state_session_type: int  # the state row's session type
    read_seq: int
    is_pinned: bool
    recv_opt: int
    draft: str
    draft_time: int
    is_hidden: bool
    limit: int  # the seq a former group member reads up to (frozen when they left); 0: no limit
    session_type: int
    group_id: str
    user_a: str
    user_b: str
    max_seq: int
    min_seq: int
    last_msg_time: int


# the SELECT list of ConversationRow, field by field ("uc": the user's state row, "c": the conversation)
_FROM_CONVERSATION = {"session_type", "group_id", "user_a", "user_b", "max_seq", "min_seq", "last_msg_time"}
# the frozen seq only counts on a group's state row (it is 0 elsewhere; the SQL says so, so no row is rebuilt)
_RENAMED = {
    "state_session_type": "uc.session_type",
    "limit": f"CASE WHEN uc.session_type = {int(SessionType.GROUP)} THEN uc.frozen_max_seq ELSE 0 END",
}
_LIST_COLUMNS = ", ".join(
    _RENAMED.get(f) or (f"c.{f}" if f in _FROM_CONVERSATION else f"uc.{f}") for f in ConversationRow._fields
)


def _conversation_rows(user_id: str) -> list[ConversationRow]:
    """The rows :func:`_user_conversations` gives and their conversations with messages,
    ``limit`` set for groups the user left (0 everywhere else).
    One joined query, and one more only for groups the user is in without a state row."""
    group_cids = {group_conversation_id(g) for g in _user_group_ids(user_id)}
    sql = (
        f"SELECT {_LIST_COLUMNS} FROM {_table(UserConversation)} uc "  # noqa: S608 - constants
        f"JOIN {_table(Conversation)} c ON c.conversation_id = uc.conversation_id "
        "WHERE uc.owner_id = %s AND c.max_seq > 0"
    )
    make, group = ConversationRow._make, int(SessionType.GROUP)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        rows: list[ConversationRow] = []
        for raw in cursor.fetchall():  # raw[1]: the state row's session type, raw[8]: the frozen seq
            if raw[1] == group:
                if raw[0] not in group_cids:
                    if raw[8]:
                        rows.append(make(raw))  # a group the user left: readable up to the seq frozen then
                    continue  # a group the user never belonged to
                if raw[8]:
                    rows.append(make(raw)._replace(limit=0))  # left and joined again: no limit
                    continue
            rows.append(make(raw))
    # groups the user is in without a state row (never sent or read there): an empty state
    missing = group_cids.difference(r.conversation_id for r in rows)
    if missing:
        empty_state = ConversationRow("", SessionType.GROUP, 0, False, 0, "", 0, False, 0, 0, "", "", "", 0, 0, 0)
        rows.extend(
            empty_state._replace(**conv)
            for conv in Conversation.objects.filter(conversation_id__in=missing, max_seq__gt=0).values(
                "conversation_id", "session_type", "group_id", "user_a", "user_b", "max_seq", "min_seq", "last_msg_time"
            )
        )
    return rows


def conversation_rows(*, user_id: str, include_hidden: bool = False) -> list[ConversationRow]:
    """The user's conversations with messages as raw rows (:func:`_conversation_rows`), pinned
    first, then by last message time: cheap to count and page; :func:`conversation_items`
    renders a page of them."""
    rows = _conversation_rows(user_id)
    if not include_hidden:
        rows = [r for r in rows if not r.is_hidden]
    rows.sort(key=lambda r: (not r.is_pinned, -r.last_msg_time, r.conversation_id))
    return rows


def conversation_items(*, user_id: str, rows: list[ConversationRow]) -> list[dict[str, Any]]:
    """Rows of :func:`conversation_rows` as the conversation list's items (without the last message)."""
    items = []
    for r in rows:
        max_seq = min(r.max_seq, r.limit) if r.limit else r.max_seq
        read_seq = min(r.read_seq, max_seq)
        is_group = r.session_type == SessionType.GROUP
        items.append(
            {
                "conversation_id": r.conversation_id,
                "session_type": r.session_type,
                "group_id": r.group_id,
                "peer_id": "" if is_group else next((u for u in (r.user_a, r.user_b) if u and u != user_id), user_id),
                "max_seq": max_seq,
                "min_seq": r.min_seq,
                "read_seq": read_seq,
                "unread_count": max(0, max_seq - read_seq),
                "last_msg_time": r.last_msg_time,
                "is_pinned": bool(r.is_pinned),
                "recv_opt": r.recv_opt,
                "draft": r.draft,
                "draft_time": r.draft_time,
                "is_hidden": bool(r.is_hidden),
                "is_member": not is_group or not r.limit,
            }
        )
    return items


def conversations_list(*, user_id: str, include_hidden: bool = False) -> list[dict[str, Any]]:
    """The user's conversations with messages: pinned first, then by last message time."""
    return conversation_items(
        user_id=user_id, rows=conversation_rows(user_id=user_id, include_hidden=include_hidden)
    )


# the history columns of a wire <message>, in its key order (see apps.messaging.wire.message_wire)
_WIRE_COLUMNS = (
    "server_msg_id", "client_msg_id", "conversation_id", "seq", "send_id", "recv_id", "group_id", "session_type",
    "content_type", "content", "send_time", "status", "sender_platform_id", "sender_nickname", "sender_face_url",
)


def _last_messages(keys: list[tuple[str, int]]) -> dict[str, WireMessage]:
    """The wire messages at these ``(conversation_id, seq)`` (what :func:`message_wire` makes of the
    history rows) in one statement on a cursor: no model instances, the content decoded by orjson."""
    if not keys:
        return {}
    pairs = " OR ".join(["(conversation_id = %s AND seq = %s)"] * len(keys))
    sent = int(MsgStatus.SENT)
    out: dict[str, WireMessage] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_WIRE_COLUMNS)} FROM {_table(Message)} WHERE {pairs}",  # noqa: S608 - constants
            [v for key in keys for v in key],
        )
        for (server_msg_id, client_msg_id, conversation_id, seq, send_id, recv_id, group_id, session_type,
             content_type, content, send_time, status, platform_id, nickname, face_url) in cursor.fetchall():
            out[conversation_id] = {
                "server_msg_id": server_msg_id,
                "client_msg_id": client_msg_id,
                "conversation_id": conversation_id,
                "seq": seq,
                "send_id": send_id,
                "recv_id": recv_id,
                "group_id": group_id,
                "session_type": session_type,
                "content_type": content_type,
                "content": orjson.loads(content) if status == sent else {},
                "send_time": send_time,
                "status": status,
                "sender_platform_id": platform_id,
                "sender_nickname": nickname,
                "sender_face_url": face_url,
            }
    return out


def conversations_decorate(*, user_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the last message and, for single chats, the peer's read seq (two queries per page)."""
    if not items:
        return items
    last = _last_messages([(c["conversation_id"], c["max_seq"]) for c in items])
    singles = [(c["peer_id"], c["conversation_id"]) for c in items if c["session_type"] != SessionType.GROUP]
    peer_read: dict[tuple[str, str], int] = {}
    if singles:
        pairs = " OR ".join(["(owner_id = %s AND conversation_id = %s)"] * len(singles))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT owner_id, conversation_id, read_seq FROM {_table(UserConversation)} WHERE {pairs}",  # noqa: S608
                [v for pair in singles for v in pair],
            )
            peer_read = {(owner, cid): seq for owner, cid, seq in cursor.fetchall()}
    for c in items:
        c["last_message"] = last.get(c["conversation_id"])
        if c["session_type"] != SessionType.GROUP:
            c["peer_read_seq"] = peer_read.get((c["peer_id"], c["conversation_id"]), 0)
    return items


def messages_history(
    *,
    user_id: str,
    conversation_id: str,
    from_seq: int | None = None,
    to_seq: int | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[Message]:
    """History rows (ascending by seq): a seq range, or the ``limit`` before ``before_seq``, or the latest."""
    conv, _role = conversation_for_user(user_id=user_id, conversation_id=conversation_id, former=True)
    qs = Message.objects.filter(conversation_id=conv.conversation_id, seq__lte=conv.max_seq)
    qs = qs.exclude(status=MsgStatus.DELETED)
    deleted = MessageDeletion.objects.filter(owner_id=user_id, conversation_id=conv.conversation_id).values("seq")
    qs = qs.exclude(seq__in=deleted)
    if from_seq is not None:
        qs = qs.filter(seq__gte=from_seq)
        if to_seq is not None:
            qs = qs.filter(seq__lte=to_seq)
        return list(qs.order_by("seq")[:limit])
    if before_seq is not None:
        qs = qs.filter(seq__lt=before_seq)
    return list(reversed(qs.order_by("-seq")[:limit]))
