"""Cache keys built from user-chosen ids, and invalidation after commit."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

_SAFE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def key_part(value: str) -> str:
    """An id as a cache-key part: kept when plain, hashed when it holds odd characters.

    A hashed part starts with ``~``, which no plain part holds, so no id can spell another's key.
    """
    if _SAFE.match(value):
        return value
    return "~" + hashlib.blake2b(value.encode(), digest_size=12).hexdigest()


def make_key(prefix: str, *parts: str) -> str:
    return ":".join([prefix, *(key_part(p) for p in parts)])


def invalidate(keys: Iterable[str]) -> None:
    """Drop ``keys`` now and again after the transaction commits (beats a racing re-cache)."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys), robust=True)
