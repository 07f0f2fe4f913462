"""Reads for users."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.common.search import keyword_filter


def users_by_ids(*, user_ids: list[str]) -> QuerySet[User]:
    return User.objects.filter(user_id__in=user_ids).order_by("id")


def users_search(*, keyword: str = "", banned: bool | None = None) -> QuerySet[User]:
    qs = User.objects.all().order_by("id")
    if keyword:
        qs = keyword_filter(qs, keyword, "user_id", "nickname")
    if banned is not None:
        qs = qs.filter(is_banned=banned)
    return qs
