"""The hook points of the send path, in one place.

The send service calls these functions; everything an integration does
on a send (uploaded files, the app's webhooks, metrics) hangs off them:

- :func:`before_store` — after the rules passed, before the write: media messages'
  ``file_id`` is checked and resolved, then the ``message.before_send`` webhook may
  reject a send or replace its content.
- :func:`in_transaction` — inside the write transaction, with the stored messages:
  records which message uses which file.
- :func:`after_store` — with every result of a batch: counts sends by result and, after
  the commit, queues the ``message.sent`` and ``push.offline`` webhook events.
- :func:`notification_stored` — a friend or group notification was stored: its
  ``friend.*`` / ``group.*`` webhook event after the commit.
"""

from __future__ import annotations

from typing import Any

from apps.common.errors import DomainError
from apps.common.metrics import SENDS
from apps.common.sideeffects import on_commit
from apps.files.media import media_resolve, media_uses_record
from apps.integrations import webhooks
from apps.messaging.wire import WireMessage


def before_store(reqs: list[Any]) -> list[DomainError | None]:
    """One result per send request: None to store it (its content possibly rewritten), or the error."""
    out = media_resolve(reqs)
    if webhooks.before_send_wanted():
        asked = [i for i, problem in enumerate(out) if problem is None]
        for i, answer in zip(asked, webhooks.before_send([reqs[i] for i in asked]), strict=True):
            out[i] = answer
    return out


def in_transaction(messages: list[WireMessage]) -> None:
    media_uses_record(messages)


def notification_stored(message: WireMessage) -> None:
    """A friend or group notification was stored (inside its transaction): its webhook event after the commit."""
    webhooks.notification_stored(message)


def after_store(results: list[Any]) -> None:
    """``results``: one per send, a ``SendResult`` (``message`` None for a duplicate) or a DomainError."""
    stored = []
    for r in results:
        if isinstance(r, DomainError):
            SENDS.labels(r.code.name.lower()).inc()
        elif r.message is None:
            SENDS.labels("duplicate").inc()
        else:
            SENDS.labels("ok").inc()
            stored.append(r.message)
    if stored and webhooks.message_events_wanted():
        on_commit(lambda: webhooks.messages_stored(stored))
