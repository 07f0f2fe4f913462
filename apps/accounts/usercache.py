"""The cached user row: what every authenticated request needs, one cache read away.

Each authenticated request (REST, the OpenIM adapter) and each websocket connect needs its token's
whole user (views and services use any field). The row is cached as a plain tuple of the model's
field values (all but the password hash) under ``usr:<user_id>`` and turned back into a ``User`` (as if read from the database)
without a query; the token check reads it in the same ``get_many`` as the token's status
(:func:`apps.accounts.tokens.token_holder`).

Every change of a user drops its entry: ``post_save`` and ``post_delete`` of ``User`` (saves, the
admin, deletes; connected in :class:`apps.accounts.apps.AccountsConfig`; a save that may rename the
user drops the old id's entry too) and the services that
write users with ``QuerySet.update`` (ban, unban) call :func:`user_cache_invalidate`, which drops
the key at once and again after the commit. A user that does not exist is not cached, so a
registration needs no invalidation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection

from apps.accounts.models import User
from apps.common.cachekeys import invalidate, make_key

USER_CACHE_SECONDS = 300  # a safety net only: every change drops the entry
# every column but the password hash, which stays out of the cache: a user built from the row has it
# deferred (read from the database if ever touched; a save() then writes the loaded fields only)
_FIELDS = tuple(f.attname for f in User._meta.concrete_fields if f.attname != "password")


def user_key(user_id: str) -> str:
    return make_key("usr", user_id)


def user_row(user: User) -> tuple[Any, ...]:
    """What the cache keeps of a user: its field values, in :data:`_FIELDS` order."""
    return tuple(getattr(user, name) for name in _FIELDS)


def user_from_row(row: tuple[Any, ...]) -> User:
    """A cached row as a ``User``, as the ORM builds one from a query (saved state, no query)."""
    return User.from_db(DEFAULT_DB_ALIAS, _FIELDS, row)


def user_load(user_id: str) -> User | None:
    """The whole user row by ``user_id`` from the database, without the ORM's query compilation."""
    qn = connection.ops.quote_name
    table, column = qn(User._meta.db_table), qn(User._meta.get_field("user_id").column or "user_id")
    sql = f"SELECT * FROM {table} WHERE {column} = %s"  # noqa: S608 - model names only, the id is a parameter
    return next(iter(User.objects.raw(sql, [user_id])), None)


def user_cache_invalidate(user_ids: Iterable[str]) -> None:
    """Drop the cached rows of these users now and after the transaction commits."""
    invalidate(user_key(u) for u in user_ids)


def user_changed(sender: type[User], instance: User, **kwargs: Any) -> None:
    """``post_save`` / ``post_delete`` of ``User``: the user's cached row goes."""
    user_cache_invalidate([instance.user_id])


def user_renaming(sender: type[User], instance: User, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
    """``pre_save`` of ``User``: a save that may change ``user_id`` (the admin's form saves every
    field) drops the row cached under the old id too, so a token of the old id is refused at once."""
    if instance.pk is None or (update_fields is not None and "user_id" not in update_fields):
        return
    old = User.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()
    if old is not None and old != instance.user_id:
        user_cache_invalidate([old])
