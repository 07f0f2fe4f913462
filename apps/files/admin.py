"""Files in the admin: who uploaded what, its size and type, which messages use it; delete (audited)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from apps.console.actions import ReadOnlyAdmin, operator_ip, run_with_reason
from apps.files import services
from apps.files.describe import file_url
from apps.files.models import StoredFile


@admin.register(StoredFile)
class StoredFileAdmin(ReadOnlyAdmin):
    list_display = ["file_id", "owner_id", "name", "kind", "content_type", "size", "message_count", "created_at"]
    list_filter = ["kind", "content_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=file_id", "=owner_id", "name__startswith"]
    search_help_text = "Exact file id or uploader user id, or the start of a file name."
    fields = ["file_id", "owner_id", "name", "kind", "content_type", "size", "width", "height", "sha256",
              "storage_key", "thumbnail_key", "created_at", "link", "used_by"]
    readonly_fields = tuple(str(f) for f in fields)
    actions = ["delete_files"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StoredFile]:
        return super().get_queryset(request).annotate(n_uses=Count("uses"))

    @admin.display(description="messages", ordering="n_uses")
    def message_count(self, obj: StoredFile) -> int:
        return int(getattr(obj, "n_uses", 0))

    @admin.display(description="download path")
    def link(self, obj: StoredFile) -> str:
        return file_url(obj.file_id)

    @admin.display(description="used by messages")
    def used_by(self, obj: StoredFile) -> str:
        uses = obj.uses.order_by("-send_time")[:50]
        return format_html_join(
            "", "<div>{}: message {} from {}</div>", ((u.conversation_id, u.server_msg_id, u.send_id) for u in uses)
        ) or format_html("<em>{}</em>", "none")

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser or request.user.has_perm("files.delete_storedfile"))

    @admin.action(description="Delete selected files (their messages keep a dead link)", permissions=["remove"])
    def delete_files(self, request: HttpRequest, queryset: QuerySet[StoredFile]) -> TemplateResponse | None:
        ip = operator_ip(request)
        operator = request.user.get_username()
        return run_with_reason(
            self, request, queryset,
            title="Delete files",
            note="The bytes are removed from storage; messages that used a file keep their content, "
                 "and its URL answers 404.",
            run=lambda f, data: services.file_delete(file_id=f.file_id, actor=operator, reason=data["reason"], ip=ip),
            done="Deleted {count} file(s).",
        )
