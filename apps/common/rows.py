"""Raw rows for hot list reads: a page is one SQL statement on a cursor, no query compilation,
no model instances, no per-field converters (the render function decodes what it needs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import QuerySet


class RawRows:
    """The rows of ``sql`` (no ``LIMIT``), sliced as :func:`apps.common.api.paginate_rows` slices a
    queryset: ``rows[offset:offset + limit]`` runs the statement with ``LIMIT`` and ``OFFSET``;
    ``count()`` runs ``count_sql`` (or ``counter``, for :meth:`of`)."""

    def __init__(self, sql: str, params: list[Any], count_sql: str = "", count_params: list[Any] | None = None,
                 counter: Callable[[], int] | None = None):
        self.sql, self.params = sql, params
        self.count_sql, self.count_params, self.counter = count_sql, count_params or [], counter

    @classmethod
    def of(cls, qs: QuerySet[Any], *columns: str) -> RawRows:
        """The rows of a queryset's ``columns`` (values_list order), its SQL compiled once; counted
        by the queryset (a derived table of the joined columns may repeat a column name)."""
        sql, params = qs.values_list(*columns).query.sql_with_params()
        return cls(sql, list(params), counter=qs.count)

    def __getitem__(self, page: slice) -> list[tuple[Any, ...]]:
        start, stop = page.start or 0, page.stop
        if stop is None or page.step is not None:
            raise TypeError("RawRows takes a [start:stop] slice")
        with connection.cursor() as cursor:
            cursor.execute(f"{self.sql} LIMIT %s OFFSET %s", [*self.params, max(0, stop - start), start])
            return cursor.fetchall()

    def __iter__(self) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return iter(cursor.fetchall())

    def count(self) -> int:
        if self.counter is not None:
            return self.counter()
        with connection.cursor() as cursor:
            cursor.execute(self.count_sql, self.count_params)
            return int(cursor.fetchone()[0])


def table(model: Any) -> str:
    """A model's quoted table name, for hand-written statements."""
    return str(connection.ops.quote_name(model._meta.db_table))


def column(model: Any, field: str) -> str:
    """The quoted column of a model's field, for hand-written statements."""
    return str(connection.ops.quote_name(model._meta.get_field(field).column))
