"""Webhooks: JSON events POSTed to the app's backend at ``IM_WEBHOOK_URL``.

Every event is ``{"event": <name>, "event_id": <id>, "time": <ms>, "data": {...}}``, signed
with ``X-IM-Signature: sha256=<hex HMAC-SHA256 of the raw body, key IM_WEBHOOK_SECRET>``.
Events after the fact (``message.sent``, ``push.offline``, friend, group and user events)
are queued after the commit and delivered by Celery (``integrations.webhook_deliver``:
``acks_late``, retried with exponential backoff): at least once, so receivers deduplicate
by ``event_id``, which stays the same across retries (and is derived from the message for
message events). Without a broker (embedded) they are delivered by a background thread
with the same retries, never on the sender's path.

``message.before_send`` (``IM_WEBHOOK_BEFORE_SEND=1``) is the one synchronous call: it runs
before a message is stored and may reject it or replace its content. A hook that does
not answer within ``IM_WEBHOOK_TIMEOUT_MS``, answers non-2xx, or answers something that
is not a valid decision counts as failed: ``IM_WEBHOOK_FAIL_OPEN=1`` (default) lets the
message through, ``0`` refuses it with 1408.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from celery import current_app
from django.conf import settings
from django.db import close_old_connections

from apps.common.errors import Code, DomainError
from apps.common.metrics import WEBHOOK_DELIVERIES, WEBHOOK_FAILURES
from apps.common.sideeffects import on_commit
from apps.files.media import media_resolve
from apps.messaging.content import USER_CONTENT_TYPES, content_validate
from apps.messaging.notes import FriendNote, GroupNote

log = logging.getLogger(__name__)

# the Celery entry points (apps/integrations/tasks.py), queued by name so this module does
# not import the task module that calls it
WEBHOOK_DELIVER_TASK = "integrations.webhook_deliver"
MESSAGE_EVENTS_TASK = "integrations.message_events"

SIGNATURE_HEADER = "X-IM-Signature"
_NS = uuid.UUID("6c1f7a52-8a3c-4f1e-9b0d-1e7f3c5a2b90")
_PREVIEW_CHARS = 100
_MEDIA_PREVIEW = {102: "[picture]", 103: "[voice]", 104: "[video]", 105: "[file]", 107: "[merged messages]",
                  108: "[card]", 109: "[location]", 110: "[custom]", 115: "[face]"}

# embedded mode (no broker): deliveries run here, off the request and send paths
_local_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="im-webhook")
# before_send calls of one batch run side by side
_hook_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="im-before-send")


class WebhookError(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# ------------------------------------------------------------------ the envelope
def enabled(event: str) -> bool:
    if not settings.IM_WEBHOOK_URL:
        return False
    wanted = settings.IM_WEBHOOK_EVENTS
    return "*" in wanted or event in wanted or f"{event.split('.', 1)[0]}.*" in wanted


def event_id_for(*parts: object) -> str:
    return uuid.uuid5(_NS, ":".join(str(p) for p in parts)).hex


def envelope(event: str, data: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {"event": event, "event_id": event_id or uuid.uuid4().hex, "time": int(time.time() * 1000), "data": data}


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(env: dict[str, Any], *, timeout: float) -> bytes:
    """POST one event; returns the answer body on 2xx, raises :class:`WebhookError` otherwise."""
    body = orjson.dumps(env)
    request = urllib.request.Request(  # noqa: S310 - the operator's configured URL
        settings.IM_WEBHOOK_URL,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(body, settings.IM_WEBHOOK_SECRET),
            "X-IM-Event": env["event"],
            "X-IM-Event-Id": env["event_id"],
            "User-Agent": "imserver-webhook/1",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = response.read(256 * 1024)
    except urllib.error.HTTPError as exc:
        WEBHOOK_FAILURES.labels(env["event"], f"http_{exc.code}").inc()
        raise WebhookError(f"http_{exc.code}") from exc
    except TimeoutError as exc:
        WEBHOOK_FAILURES.labels(env["event"], "timeout").inc()
        raise WebhookError("timeout") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = "timeout" if isinstance(getattr(exc, "reason", None), TimeoutError) else "error"
        WEBHOOK_FAILURES.labels(env["event"], reason).inc()
        raise WebhookError(reason, str(exc)) from exc
    WEBHOOK_DELIVERIES.labels(env["event"]).inc()
    return answer


def deliver(env: dict[str, Any]) -> None:
    """One delivery attempt of an after-the-fact event (the Celery task retries it)."""
    post(env, timeout=settings.IM_WEBHOOK_DELIVERY_TIMEOUT_MS / 1000.0)


def _deliver_with_retries(env: dict[str, Any]) -> None:
    """Embedded mode: the Celery task's retries, in a background thread."""
    for attempt in range(settings.IM_WEBHOOK_MAX_RETRIES + 1):
        try:
            deliver(env)
            return
        except WebhookError as exc:
            if attempt == settings.IM_WEBHOOK_MAX_RETRIES:
                log.warning("webhook %s %s given up after %d attempts: %s", env["event"], env["event_id"],
                            attempt + 1, exc)
                return
            time.sleep(min(settings.IM_WEBHOOK_RETRY_BACKOFF_MAX_SECONDS, 0.5 * 2**attempt))


def _runs_eagerly() -> bool:
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def dispatch(envs: list[dict[str, Any]]) -> None:
    """Hand events to their delivery (Celery, or the background thread without a broker)."""
    if not envs:
        return
    if _runs_eagerly():
        for env in envs:
            _local_pool.submit(_deliver_with_retries, env)
        return
    deliver_task = current_app.tasks[WEBHOOK_DELIVER_TASK]
    for env in envs:
        deliver_task.delay(env)


def emit_on_commit(event: str, data: dict[str, Any], *, event_id: str | None = None) -> None:
    """Queue an event once the current transaction commits (at once outside one)."""
    if not enabled(event):
        return
    env = envelope(event, data, event_id=event_id)
    on_commit(lambda: _dispatch_safely([env]))


def _dispatch_safely(envs: list[dict[str, Any]]) -> None:
    try:
        dispatch(envs)
    except Exception:  # a broker hiccup must not fail the write that triggered the event
        log.exception("webhook events %s could not be queued", [e["event"] for e in envs])


# --------------------------------------------------------------- message events
def message_events_wanted() -> bool:
    return enabled("message.sent") or enabled("push.offline")


def messages_stored(messages: list[dict[str, Any]]) -> None:
    """After commit: queue ``message.sent`` and ``push.offline`` for stored messages.

    The sender's path pays one broker publish per batch (nothing without a webhook URL);
    who is offline is worked out by the task, off the send path.
    """
    if not messages or not message_events_wanted():
        return
    if _runs_eagerly():
        _local_pool.submit(_message_events_local, messages)
        return
    try:
        current_app.tasks[MESSAGE_EVENTS_TASK].delay(messages)
    except Exception:
        log.exception("message events for %d messages could not be queued", len(messages))


def _message_events_local(messages: list[dict[str, Any]]) -> None:
    try:
        envs = message_envelopes(messages)
    except Exception:
        log.exception("message events failed")
        return
    finally:
        close_old_connections()
    for env in envs:
        _deliver_with_retries(env)


def preview(message: dict[str, Any]) -> str:
    content = message.get("content") or {}
    ct = message.get("content_type")
    text = ""
    if ct == 101:
        text = str(content.get("content", ""))
    elif ct in (106, 114):
        text = str(content.get("text", ""))
    elif ct in _MEDIA_PREVIEW:
        text = _MEDIA_PREVIEW[ct]
        name = content.get("file_name") or content.get("name")
        if ct == 105 and isinstance(name, str):
            text = f"[file] {name}"
    return text[:_PREVIEW_CHARS]


def _offline(user_ids: list[str]) -> list[str]:
    from apps.accounts.presence import presence_online_map

    if not user_ids:
        return []
    online = presence_online_map(user_ids=user_ids)
    return [u for u in user_ids if not online.get(u)]


def _recipients(message: dict[str, Any]) -> list[str]:
    if message["session_type"] == 3:
        from apps.messaging.selectors import group_push_member_ids

        return [u for u in group_push_member_ids(group_id=message["group_id"]) if u != message["send_id"]]
    recv = message.get("recv_id")
    return [recv] if recv and recv != message["send_id"] else []


def message_envelopes(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of stored messages: one ``message.sent`` each, and one ``push.offline`` per
    fan-out chunk (``IM_FANOUT_CHUNK_SIZE`` recipients) that has offline recipients."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if enabled("message.sent"):
            out.append(envelope("message.sent", m, event_id=event_id_for("message.sent", m["server_msg_id"])))
        if not enabled("push.offline"):
            continue
        recipients = _recipients(m)
        size = settings.IM_FANOUT_CHUNK_SIZE
        chunks = [recipients[i : i + size] for i in range(0, len(recipients), size)]
        for index, chunk in enumerate(chunks):
            offline = _offline(chunk)
            if not offline:
                continue
            data = {
                "user_ids": offline,
                "conversation_id": m["conversation_id"],
                "server_msg_id": m["server_msg_id"],
                "seq": m["seq"],
                "send_id": m["send_id"],
                "sender_nickname": m.get("sender_nickname", ""),
                "session_type": m["session_type"],
                "group_id": m.get("group_id", ""),
                "content_type": m["content_type"],
                "preview": preview(m),
                "send_time": m["send_time"],
                "chunk": index,
                "chunks": len(chunks),
            }
            out.append(envelope("push.offline", data, event_id=event_id_for("push.offline", m["server_msg_id"], index)))
    return out


# ------------------------------------------------------- friend, group, user events
def notification_event_name(content_type: int) -> str | None:
    """``friend.<note>`` for 1201-1210, ``group.<note>`` for 1501-1520 (apps.messaging.notes' names)."""
    for prefix, enum in (("friend", FriendNote), ("group", GroupNote)):
        try:
            return f"{prefix}.{enum(content_type).name.lower()}"
        except ValueError:
            continue
    return None


def notification_stored(message: Mapping[str, Any]) -> None:
    """A friend or group notification was stored (inside its transaction): post its event after the commit."""
    name = notification_event_name(message.get("content_type", 0))
    if name is None or not enabled(name):
        return
    data = {key: message.get(key) for key in ("send_id", "recv_id", "group_id", "conversation_id", "seq",
                                               "server_msg_id", "content_type", "content", "send_time")}
    emit_on_commit(name, data, event_id=event_id_for(name, message.get("server_msg_id", "")))


# ------------------------------------------------------------------ before send
def before_send_wanted() -> bool:
    return bool(settings.IM_WEBHOOK_BEFORE_SEND and settings.IM_WEBHOOK_URL)


def _ask(req: Any) -> DomainError | None:
    conversation_id = getattr(req, "conversation_id", "")
    env = envelope("message.before_send", {
        "send_id": req.send_id,
        "session_type": req.session_type,
        "recv_id": req.recv_id,
        "group_id": req.group_id,
        "conversation_id": conversation_id,
        "client_msg_id": req.client_msg_id,
        "content_type": req.content_type,
        "content": req.content,
        "sender_platform_id": req.sender_platform_id,
    })
    try:
        answer = post(env, timeout=settings.IM_WEBHOOK_TIMEOUT_MS / 1000.0)
        decision = orjson.loads(answer)
        if not isinstance(decision, dict):
            raise WebhookError("answer", "not a JSON object")
        action = decision.get("action")
        if action == "reject":
            msg = decision.get("msg")
            return DomainError(Code.REJECTED_BY_HOOK, msg if isinstance(msg, str) and msg else None)
        if action != "allow":
            raise WebhookError("answer", f"action {action!r} is neither allow nor reject")
        if "content" in decision:
            replacement = decision["content"]
            try:
                content_validate(content_type=req.content_type, content=replacement)
            except DomainError as exc:
                raise WebhookError("answer", f"replacement content: {exc.msg}") from exc
            previous = req.content
            req.content = replacement
            (problem,) = media_resolve([req])
            if problem is not None:
                req.content = previous
                raise WebhookError("answer", f"replacement content: {problem.msg}")
        return None
    except (WebhookError, orjson.JSONDecodeError) as exc:
        if isinstance(exc, orjson.JSONDecodeError) or exc.reason == "answer":
            WEBHOOK_FAILURES.labels("message.before_send", "answer").inc()
        log.warning("before-send hook failed for %s/%s: %s", req.send_id, req.client_msg_id, exc)
        if settings.IM_WEBHOOK_FAIL_OPEN:
            return None
        return DomainError(Code.HOOK_UNAVAILABLE, "the message could not be checked; try again later")


def before_send(reqs: list[Any]) -> list[DomainError | None]:
    """Ask the app about each user send (trusted sends by app admins and notifications are not asked)."""
    out: list[DomainError | None] = [None] * len(reqs)
    if not before_send_wanted():
        return out
    asked = [i for i, r in enumerate(reqs) if not r.trusted and r.content_type in USER_CONTENT_TYPES]
    if len(asked) == 1:
        out[asked[0]] = _ask(reqs[asked[0]])
    elif asked:
        for i, result in zip(asked, _hook_pool.map(lambda i: _ask(reqs[i]), asked), strict=True):
            out[i] = result
    return out
