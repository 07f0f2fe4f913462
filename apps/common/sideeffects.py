"""Side effects after commit: one helper so nobody hears of a row that rolled back."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)

_GROUP_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def user_group(user_id: str) -> str:
    """Channel-layer group of all websocket connections of one user.

    Group names allow ``[a-zA-Z0-9._-]`` and fewer than 100 characters. A user id made of
    those is used as it is; any other id is hashed under its own prefix, so two different
    users never share a group (no escaping that another id could spell, no truncation).
    """
    if _GROUP_SAFE.match(user_id):
        return f"u.{user_id}"
    return "uh." + hashlib.blake2b(user_id.encode(), digest_size=16).hexdigest()


def on_commit(fn: Callable[[], Any]) -> None:
    """Run ``fn`` after the current transaction commits (at once outside one)."""
    transaction.on_commit(fn, robust=True)

