"""The send service: validate a batch of sends, then store it with a fixed handful of statements.

Public API: :func:`messages_send` (a batch; the websocket batcher), :func:`message_send` and
:func:`message_send_by` (one message; REST, admin), :func:`notification_send` (a trusted
notice inside the caller's transaction: friend and group events, revoke notices).
:func:`messages_send` is the one core behind every front door. Per batch: one idempotency lookup, the per-user rate limit (one
cache round trip, :mod:`apps.messaging.ratelimit`), one read for the recipients'
receive options, the cached relation/group checks per message, then in
one transaction: the seq upsert + ``SELECT … FOR UPDATE`` (:mod:`apps.messaging.seq`),
one bulk insert of history rows, one of offline rows, one upsert of per-user
conversation rows. A send that fails validation fails alone.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction

from apps.accounts.models import User
from apps.common.errors import Code, DomainError
from apps.common.sideeffects import on_commit
from apps.groups.selectors import group_get, group_send_check
from apps.integrations import hooks
from apps.messaging import delivery, offline
from apps.messaging.content import content_validate
from apps.messaging.models import Message, MsgStatus, RecvOpt, SessionType, UserConversation
from apps.messaging.ratelimit import retry_after_ms, send_allowance
from apps.messaging.seq import SeqRequest, bulk_insert, seq_allocate, user_conversations_touch
from apps.messaging.wire import (
    MESSAGE_FIELDS,
    SendAck,
    WireMessage,
    ack_of,
    conversation_id_of,
    now_ms,
)
from apps.relations.selectors import blocked_pairs, friend_pairs

log = logging.getLogger(__name__)

MAX_ID_CHARS = 64
# the history row's columns, in the order ``_store`` fills them
_HISTORY_COLUMNS = (*(f for f in MESSAGE_FIELDS if f != "status"), "status")


@dataclass
class SendRequest:
    """One message to store. ``trusted`` skips membership, mute, blacklist and receive checks."""

    send_id: str
    session_type: int
    content_type: int
    content: Any
    client_msg_id: str = ""
    recv_id: str = ""
    group_id: str = ""
    sender_platform_id: int = 0
    sender_nickname: str = ""
    sender_face_url: str = ""
    origin: str | None = None  # channel name of the sending connection (it has the ack already)
    trusted: bool = False
    allow_notifications: bool = False
    conversation_id: str = field(default="", init=False)


@dataclass
class SendResult:
    """A stored send: its ack, and the message unless it is a duplicate."""

    ack: SendAck
    message: WireMessage | None  # None for a duplicate (stored earlier, nothing delivered again)
    origin: str | None = None

    @property
    def duplicate(self) -> bool:
        return self.message is None


class _Collision(Exception):
    """Two different user pairs spell the same single-chat conversation id."""


def collision_error(conversation_id: str) -> DomainError:
    return DomainError(Code.BAD_ARGS, f"conversation id {conversation_id} is taken by another pair of users")


# -------------------------------------------------------------------- validation
def _check_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS or ":" in value:
        raise DomainError(Code.BAD_ARGS, f"{name} must be a string of 1-{MAX_ID_CHARS} characters without ':'")
    return value


def _check_shape(req: SendRequest) -> None:
    """Field types, addressing and content; no database access."""
    if req.client_msg_id == "" or req.client_msg_id is None:
        req.client_msg_id = uuid.uuid4().hex
    if not isinstance(req.client_msg_id, str) or len(req.client_msg_id) > MAX_ID_CHARS:
        raise DomainError(Code.BAD_ARGS, f"client_msg_id must be a string of at most {MAX_ID_CHARS} characters")
    st = req.session_type
    if st == SessionType.SINGLE or (st == SessionType.NOTIFICATION and req.trusted):
        _check_id(req.recv_id, "recv_id")
        if req.group_id:
            raise DomainError(Code.BAD_ARGS, "group_id is only for session_type 3")
        req.conversation_id = conversation_id_of(session_type=st, send_id=req.send_id, recv_id=req.recv_id)
    elif st == SessionType.GROUP:
        _check_id(req.group_id, "group_id")
        if req.recv_id:
            raise DomainError(Code.BAD_ARGS, "recv_id is only for session_type 1")
        req.conversation_id = conversation_id_of(session_type=st, send_id=req.send_id, group_id=req.group_id)
    else:
        raise DomainError(Code.BAD_ARGS, "session_type must be 1 (single chat) or 3 (group chat)")
    content_validate(content_type=req.content_type, content=req.content, allow_notifications=req.allow_notifications)


@dataclass
class _Context:
    recv_opts: dict[str, int]  # recipient user id -> global receive option (missing: no such user)
    conv_opts: dict[tuple[str, str], int]  # (owner, conversation) -> receive option
    blocked: set[tuple[str, str]] = field(default_factory=set)  # (owner, target): owner blocked target
    friends: set[tuple[str, str]] = field(default_factory=set)  # (user, friend)
    group_roles: dict[tuple[str, str], int | DomainError] = field(default_factory=dict)


def _load_context(reqs: list[SendRequest]) -> _Context:
    """Everything the rules need for a batch, read set-wise (a fixed number of round trips)."""
    singles = [r for r in reqs if r.session_type == SessionType.SINGLE and not r.trusted and r.recv_id != r.send_id]
    recv_ids = sorted({r.recv_id for r in singles})
    if not recv_ids:
        return _Context({}, {})
    cids = sorted({r.conversation_id for r in singles})
    recv_opts, conv_opts = _recipient_options(recv_ids, cids)
    pairs = {(r.recv_id, r.send_id) for r in singles if r.recv_id in recv_opts}
    blocked = blocked_pairs(pairs)
    friends: set[tuple[str, str]] = set()
    if settings.IM_FRIENDS_ONLY_CHAT:
        friends = friend_pairs(pairs - blocked)
    return _Context(recv_opts, conv_opts, blocked, friends)


def _check_rules(req: SendRequest, ctx: _Context) -> None:
    if req.trusted:
        return
    if req.session_type == SessionType.GROUP:
        key = (req.group_id, req.send_id)
        if key not in ctx.group_roles:  # one check per sender and group in a batch
            try:
                ctx.group_roles[key] = group_send_check(group_id=req.group_id, user_id=req.send_id)
            except DomainError as exc:
                ctx.group_roles[key] = exc
        outcome = ctx.group_roles[key]
        if isinstance(outcome, DomainError):
            raise outcome
        return
    if req.recv_id == req.send_id:
        return
    opt = ctx.recv_opts.get(req.recv_id)
    if opt is None:
        raise DomainError(Code.USER_NOT_FOUND, f"user {req.recv_id} not found")
    if (req.recv_id, req.send_id) in ctx.blocked:
        raise DomainError(Code.BLOCKED_BY_PEER, f"{req.recv_id} has blocked you")
    if settings.IM_FRIENDS_ONLY_CHAT and (req.recv_id, req.send_id) not in ctx.friends:
        raise DomainError(Code.NOT_FRIENDS, f"you and {req.recv_id} are not friends")
    if opt == RecvOpt.REJECT or ctx.conv_opts.get((req.recv_id, req.conversation_id)) == RecvOpt.REJECT:
        raise DomainError(Code.RECIPIENT_REJECTS, f"{req.recv_id} does not accept messages")


def _rate_limit(reqs: list[SendRequest], idxs: list[int], results: list[SendResult | DomainError | None]) -> list[int]:
    """Refuse (1005) the sends beyond each sender's rate; trusted sends are not limited."""
    wanted = Counter(reqs[i].send_id for i in idxs if not reqs[i].trusted)
    if not wanted:
        return idxs
    allowance = send_allowance(dict(wanted))
    kept: list[int] = []
    for i in idxs:
        r = reqs[i]
        if not r.trusted:
            if allowance.get(r.send_id, 0) <= 0:
                results[i] = DomainError(
                    Code.RATE_LIMITED,
                    f"sending too fast: at most {settings.IM_SEND_RATE_PER_SECOND:g} messages per second "
                    f"(bursts of {settings.IM_SEND_RATE_BURST + 1}); wait and resend with the same client_msg_id",
                    data={"retry_after_ms": retry_after_ms()},
                )
                continue
            allowance[r.send_id] -= 1
        kept.append(i)
    return kept


def _in(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _recipient_options(recv_ids: list[str], cids: list[str]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Recipients' global receive option (absent: no such user) and the conversations they
    reject, in one round trip (a hand-written join: the ORM's query building costs more than
    the query on this path)."""
    users = connection.ops.quote_name(User._meta.db_table)
    convs = connection.ops.quote_name(UserConversation._meta.db_table)
    sql = (
        f"SELECT u.user_id, u.global_recv_msg_opt, uc.conversation_id FROM {users} u "  # noqa: S608 - constants
        f"LEFT JOIN {convs} uc ON uc.owner_id = u.user_id AND uc.recv_opt = %s AND uc.conversation_id IN ({_in(cids)}) "
        f"WHERE u.user_id IN ({_in(recv_ids)})"
    )
    recv_opts: dict[str, int] = {}
    conv_opts: dict[tuple[str, str], int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [int(RecvOpt.REJECT), *cids, *recv_ids])
        for user_id, opt, rejected_cid in cursor.fetchall():
            recv_opts[user_id] = int(opt)
            if rejected_cid is not None:
                conv_opts[(user_id, rejected_cid)] = int(RecvOpt.REJECT)
    return recv_opts, conv_opts


def _existing(keys: list[tuple[str, str]]) -> dict[tuple[str, str], SendAck]:
    """Acks of messages already stored under these ``(send_id, client_msg_id)`` keys."""
    if not keys:
        return {}
    senders = sorted({k[0] for k in keys})
    client_ids = sorted({k[1] for k in keys})
    sql = (
        "SELECT send_id, client_msg_id, server_msg_id, conversation_id, seq, send_time "  # noqa: S608 - constants
        f"FROM {connection.ops.quote_name(Message._meta.db_table)} "
        f"WHERE send_id IN ({_in(senders)}) AND client_msg_id IN ({_in(client_ids)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*senders, *client_ids])
        rows = cursor.fetchall()
    wanted = set(keys)
    return {
        (s, c): {"server_msg_id": sm, "client_msg_id": c, "conversation_id": cid, "seq": seq, "send_time": t}
        for s, c, sm, cid, seq, t in rows
        if (s, c) in wanted
    }


# ------------------------------------------------------------------------- store
def _store(reqs: list[SendRequest]) -> list[WireMessage]:
    """Allocate seqs and write every row; inside the caller's transaction. Returns wire messages."""
    now = now_ms()
    counts = Counter(r.conversation_id for r in reqs)
    seq_reqs: dict[str, SeqRequest] = {}
    for r in reqs:
        if r.conversation_id in seq_reqs:
            continue
        a, b = sorted((r.send_id, r.recv_id)) if r.session_type != SessionType.GROUP else ("", "")
        seq_reqs[r.conversation_id] = SeqRequest(
            conversation_id=r.conversation_id,
            session_type=r.session_type,
            count=counts[r.conversation_id],
            last_msg_time=now,
            group_id=r.group_id,
            user_a=a,
            user_b=b,
        )
    grants = seq_allocate(list(seq_reqs.values()))
    next_seq: dict[str, int] = {}
    for cid, sr in seq_reqs.items():
        grant = grants[cid]
        if sr.session_type != SessionType.GROUP and (grant.user_a, grant.user_b) != (sr.user_a, sr.user_b):
            raise _Collision(cid)
        next_seq[cid] = grant.first_seq
    messages: list[WireMessage] = []
    history: list[tuple[Any, ...]] = []
    rows: list[offline.OfflineRow] = []
    touch: list[tuple[str, str, int, int]] = []
    for r in reqs:
        seq = next_seq[r.conversation_id]
        next_seq[r.conversation_id] = seq + 1
        wire: WireMessage = {
            "server_msg_id": uuid.uuid4().hex,
            "client_msg_id": r.client_msg_id,
            "conversation_id": r.conversation_id,
            "seq": seq,
            "send_id": r.send_id,
            "recv_id": r.recv_id,
            "group_id": r.group_id,
            "session_type": r.session_type,
            "content_type": r.content_type,
            "content": r.content,
            "send_time": now,
            "status": int(MsgStatus.SENT),
            "sender_platform_id": r.sender_platform_id,
            "sender_nickname": r.sender_nickname,
            "sender_face_url": r.sender_face_url,
        }
        messages.append(wire)
        history.append(
            (
                wire["server_msg_id"], r.client_msg_id, r.conversation_id, seq, r.send_id, r.recv_id, r.group_id,
                r.session_type, r.content_type, orjson.dumps(r.content).decode(), now, r.sender_platform_id,
                r.sender_nickname[:64], r.sender_face_url[:512], int(MsgStatus.SENT),
            )
        )
        rows.append(offline.OfflineRow(r.conversation_id, seq, now, orjson.dumps(wire).decode()))
        touch.append((r.send_id, r.conversation_id, r.session_type, seq))
        if r.session_type != SessionType.GROUP and r.recv_id != r.send_id:
            touch.append((r.recv_id, r.conversation_id, r.session_type, 0))
    bulk_insert(Message._meta.db_table, _HISTORY_COLUMNS, history)
    offline.append(rows)
    user_conversations_touch(touch)
    hooks.in_transaction(messages)  # hook point: files used by these messages
    return messages


def _retryable(exc: OperationalError) -> bool:
    code = exc.args[0] if exc.args else None
    return code in (1205, 1213) or "locked" in str(exc)


OnStored = Callable[[list[WireMessage]], None]


def _write(reqs: list[SendRequest], on_stored: OnStored | None) -> list[SendResult | DomainError]:
    """Store ``reqs`` in one transaction; on a conflict, one transaction per message.

    One result per request: stored (with its message), a duplicate stored concurrently
    (ack only), or the error that stopped it."""
    outer = connection.in_atomic_block
    for attempt in range(3):
        try:
            with transaction.atomic():
                stored = _store(reqs)
                if on_stored is not None:
                    on_stored(stored)
            return [SendResult(ack_of(m), m, r.origin) for r, m in zip(reqs, stored, strict=True)]
        except (IntegrityError, _Collision):
            break
        except OperationalError as exc:
            if outer or attempt == 2 or not _retryable(exc):
                raise
            time.sleep(0.005 * (attempt + 1))
    out: list[SendResult | DomainError] = []
    for r in reqs:
        try:
            with transaction.atomic():
                one = _store([r])
                if on_stored is not None:
                    on_stored(one)
            out.append(SendResult(ack_of(one[0]), one[0], r.origin))
        except IntegrityError:  # stored concurrently under the same (send_id, client_msg_id)
            found = _existing([(r.send_id, r.client_msg_id)]).get((r.send_id, r.client_msg_id))
            out.append(SendResult(found, None, r.origin) if found else DomainError(Code.INTERNAL, "message could not be stored"))
        except _Collision:
            out.append(collision_error(r.conversation_id))
        except DatabaseError:
            if outer:
                raise
            # this one failed alone; the ones stored before it are committed and must be acked
            log.exception("message %s/%s could not be stored", r.send_id, r.client_msg_id)
            out.append(DomainError(Code.INTERNAL, "message could not be stored"))
    return out


def messages_send(reqs: list[SendRequest], *, on_stored: OnStored | None = None) -> list[SendResult | DomainError]:
    """Validate and store a batch of sends; one result per request, in order.

    ``on_stored`` runs inside the transaction with the stored messages (e.g. to
    schedule delivery with ``transaction.on_commit``).
    """
    results: list[SendResult | DomainError | None] = [None] * len(reqs)
    valid: list[int] = []
    for i, r in enumerate(reqs):
        try:
            _check_shape(r)
            valid.append(i)
        except DomainError as exc:
            results[i] = exc
    existing = _existing([(reqs[i].send_id, reqs[i].client_msg_id) for i in valid])
    first_of: dict[tuple[str, str], int] = {}
    to_check: list[int] = []
    repeats: list[tuple[int, int]] = []
    for i in valid:
        key = (reqs[i].send_id, reqs[i].client_msg_id)
        if key in existing:
            results[i] = SendResult(existing[key], None, reqs[i].origin)
        elif key in first_of:
            repeats.append((i, first_of[key]))
        else:
            first_of[key] = i
            to_check.append(i)
    to_check = _rate_limit(reqs, to_check, results)
    ctx = _load_context([reqs[i] for i in to_check])
    to_store: list[int] = []
    for i in to_check:
        try:
            _check_rules(reqs[i], ctx)
            to_store.append(i)
        except DomainError as exc:
            results[i] = exc
    # hook point: uploaded files and the before-send webhook may refuse a send or rewrite its content
    for i, refused in zip(to_store, hooks.before_store([reqs[i] for i in to_store]), strict=True):
        results[i] = refused
    to_store = [i for i in to_store if results[i] is None]
    if to_store:
        written = _write([reqs[i] for i in to_store], on_stored)
        for i, outcome in zip(to_store, written, strict=True):
            results[i] = outcome
    for i, j in repeats:
        first = results[j]
        results[i] = SendResult(first.ack, None, reqs[i].origin) if isinstance(first, SendResult) else first
    final = [r if r is not None else DomainError(Code.INTERNAL) for r in results]
    hooks.after_store(final)  # hook point: metrics, message.sent / push.offline webhooks after commit
    return final


# ------------------------------------------------------------- one message
def _deliver_on_commit(skip: str | None = None) -> OnStored:
    def schedule(stored: list[WireMessage]) -> None:
        for message in stored:
            on_commit(partial(delivery.deliver_message, message, skip))

    return schedule


# -------------------------------------------------------------------------- send
def message_send(
    *,
    send_id: str,
    session_type: int,
    content_type: int,
    content: Any,
    client_msg_id: str = "",
    recv_id: str = "",
    group_id: str = "",
    sender_platform_id: int = 0,
    sender_nickname: str = "",
    sender_face_url: str = "",
    trusted: bool = False,
) -> SendResult:
    """Send one message (REST and admin path): validate, store in one transaction, deliver after commit.

    ``trusted`` (app admins sending on someone's behalf) skips membership, blacklist and
    receive-option checks and allows notification content types.
    """
    req = SendRequest(
        send_id=send_id,
        session_type=session_type,
        content_type=content_type,
        content=content,
        client_msg_id=client_msg_id,
        recv_id=recv_id or "",
        group_id=group_id or "",
        sender_platform_id=sender_platform_id,
        sender_nickname=sender_nickname,
        sender_face_url=sender_face_url,
        trusted=trusted,
        allow_notifications=trusted,
    )
    (result,) = messages_send([req], on_stored=_deliver_on_commit())
    if isinstance(result, DomainError):
        raise result
    return result


def message_send_by(
    *,
    actor: User,
    actor_platform_id: int,
    session_type: int,
    content_type: int,
    content: Any,
    client_msg_id: str = "",
    recv_id: str = "",
    group_id: str = "",
    send_id: str = "",
    sender_platform_id: int = 0,
) -> SendResult:
    """A send through the REST API by ``actor`` (the authenticated user).

    A user sends as themself from the platform of their token. An app admin may send on
    behalf of any existing user (``send_id``), name the platform, and send notification
    content types and session type 4; their sends are trusted (see :func:`message_send`).
    """
    send_id = send_id or actor.user_id
    sender = actor
    if not actor.is_app_admin:
        if send_id != actor.user_id or session_type == SessionType.NOTIFICATION:
            raise DomainError(Code.NO_PERMISSION, "only admins may send on behalf of another user or send notifications")
        sender_platform_id = actor_platform_id
    else:
        if send_id != actor.user_id:
            other = User.objects.filter(user_id=send_id).only("nickname", "face_url").first()
            if other is None:
                raise DomainError(Code.USER_NOT_FOUND, f"user {send_id} not found")
            sender = other
        # a trusted send skips the rules, not the addressee: no log for a user or group that does not exist
        if session_type == SessionType.GROUP and isinstance(group_id, str) and group_id:
            group_get(group_id=group_id)
        elif session_type != SessionType.GROUP and isinstance(recv_id, str) and recv_id:
            if not User.objects.filter(user_id=recv_id).exists():
                raise DomainError(Code.USER_NOT_FOUND, f"user {recv_id} not found")
    return message_send(
        send_id=send_id,
        session_type=session_type,
        content_type=content_type,
        content=content,
        client_msg_id=client_msg_id,
        recv_id=recv_id,
        group_id=group_id,
        sender_platform_id=sender_platform_id or actor_platform_id,
        sender_nickname=sender.nickname,
        sender_face_url=sender.face_url,
        trusted=actor.is_app_admin,
    )


def notification_send(
    *,
    send_id: str,
    session_type: int,
    content_type: int,
    content: dict[str, Any],
    recv_id: str | None = None,
    group_id: str | None = None,
) -> WireMessage:
    """Store a notification message inside the caller's transaction and deliver it after commit.

    No membership, mute or blacklist checks (friend and group events, revoke notices).
    Allocates the next seq of ``si_<a>_<b>`` (session_type 1, with ``recv_id``),
    ``sg_<group_id>`` (3) or ``n_<a>_<b>`` (4, with ``recv_id``). Returns the stored message.
    """
    if session_type == SessionType.GROUP:
        if not group_id:
            raise DomainError(Code.BAD_ARGS, "group_id is required for a group notification")
    elif session_type in (SessionType.SINGLE, SessionType.NOTIFICATION):
        if not recv_id:
            raise DomainError(Code.BAD_ARGS, "recv_id is required for a single-chat notification")
    else:
        raise DomainError(Code.BAD_ARGS, f"unknown session_type {session_type}")
    if not isinstance(content, dict):
        raise DomainError(Code.BAD_ARGS, "content must be an object")
    req = SendRequest(
        send_id=send_id,
        session_type=session_type,
        content_type=content_type,
        content=content,
        client_msg_id=uuid.uuid4().hex,
        recv_id=(recv_id or "") if session_type != SessionType.GROUP else "",
        group_id=(group_id or "") if session_type == SessionType.GROUP else "",
        trusted=True,
        allow_notifications=True,
    )
    req.conversation_id = conversation_id_of(
        session_type=session_type, send_id=req.send_id, recv_id=req.recv_id, group_id=req.group_id
    )
    try:
        with transaction.atomic():
            (message,) = _store([req])
            hooks.notification_stored(message)  # hook point: friend/group events for the webhooks
    except _Collision as exc:
        raise collision_error(req.conversation_id) from exc
    on_commit(lambda: delivery.deliver_message(message))
    return message
