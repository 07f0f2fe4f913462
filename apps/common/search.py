"""Keyword search that behaves the same on SQLite and on MySQL ``_bin`` collations."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower


def keyword_filter(qs: QuerySet, keyword: str, *fields: str) -> QuerySet:
    """Case-insensitive substring search over ``fields``, whatever the column collation."""
    if not keyword:
        return qs
    aliases = {f"kw_{i}": Lower(field) for i, field in enumerate(fields)}
    match = Q()
    for name in aliases:
        match |= Q(**{f"{name}__contains": keyword.lower()})
    return qs.alias(**aliases).filter(match)
