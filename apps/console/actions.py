"""Admin actions that ask the operator for a reason, then call a service per selected row.

Every operator action writes its audit row in the service it calls (operator, IP, reason);
the admin only parses the form, calls the service and reports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.functional import cached_property

from apps.common.api import client_ip
from apps.common.errors import DomainError


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the audit log with your user id and IP address.",
    )


class ReasonAndUserForm(ReasonForm):
    user_id = forms.CharField(max_length=64, label="User id")


def operator_ip(request: HttpRequest) -> str | None:
    return client_ip(request)


def run_with_reason(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    title: str,
    run: Callable[[Any, dict[str, Any]], object],
    form_class: type[forms.Form] = ReasonForm,
    note: str = "",
    done: str = "{count} done.",
) -> TemplateResponse | None:
    """Show a confirmation page with a reason field; on submit call ``run(obj, cleaned_data)`` per row.

    ``run`` calls a service; a DomainError it raises is shown to the operator and the other
    rows go on. Returns None (back to the changelist) once applied.
    """
    applying = "apply" in request.POST
    form = form_class(request.POST if applying else None)
    if applying and form.is_valid():
        count = 0
        failures: list[str] = []
        for obj in queryset:
            try:
                run(obj, form.cleaned_data)
            except DomainError as exc:
                failures.append(f"{obj}: {exc.msg}")
            else:
                count += 1
        if count:
            modeladmin.message_user(request, done.format(count=count), messages.SUCCESS)
        for failure in failures[:20]:
            modeladmin.message_user(request, failure, messages.ERROR)
        return None
    opts = modeladmin.model._meta
    objects = list(queryset[:101])
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "note": note,
        "form": form,
        "objects": objects[:100],
        "more": len(objects) > 100,
        "count": queryset.count() if len(objects) > 100 else len(objects),
        "opts": opts,
        "action": request.POST.get("action", ""),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "index": request.POST.get("index", "0"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/console/action_reason.html", context)


def model_link(obj: Model | None, text: str | None = None) -> str:
    """HTML link to an object's admin change page (escaped)."""
    from django.urls import NoReverseMatch, reverse
    from django.utils.html import format_html

    if obj is None:
        return "-"
    meta = obj._meta
    try:
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return format_html("{}", text or str(obj))
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows change only through actions (services); the forms are for reading."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CappedCountPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` rows: ``COUNT(*)`` over a huge table is a full index scan.

    Past the cap the changelist shows the first ``COUNT_CAP`` rows' pages; filters narrow further.
    """

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.COUNT_CAP].count()  # type: ignore[attr-defined]  # a QuerySet here; the stubs type object_list as any sequence
