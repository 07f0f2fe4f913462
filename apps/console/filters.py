"""Admin list filters that take typed input instead of listing every distinct value (big tables)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


class InputFilter(admin.SimpleListFilter):
    """A text box; filters ``field`` by exact value (indexed lookups only)."""

    template = "admin/console/input_filter.html"
    field = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # a dummy choice so Django renders the filter at all
        return [("", "")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = (self.value() or "").strip()
        if value:
            return queryset.filter(**{self.field: value})
        return queryset

    def choices(self, changelist: Any) -> Any:
        # the template renders a form; pass the other query params as hidden fields
        all_choice = next(iter(super().choices(changelist)))
        parts = [
            (k, v) for k, v in changelist.get_filters_params().items() if k != self.parameter_name
            for v in ([v] if isinstance(v, str) else v)
        ]
        if changelist.query:
            parts.append(("q", changelist.query))
        all_choice["query_parts"] = parts  # type: ignore[typeddict-unknown-key]  # read by admin/filter.html
        yield all_choice


def input_filter(title: str, field: str, parameter: str | None = None) -> type[InputFilter]:
    return type(
        f"{field.title().replace('_', '')}InputFilter",
        (InputFilter,),
        {"title": title, "parameter_name": parameter or field, "field": field},
    )
