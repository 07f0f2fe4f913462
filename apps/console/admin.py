"""The operator console's admin site titles (every model's admin lives in its own app,
except the audit log's: the audit app depends on nothing, so its read-only admin, built
from the console's helpers, lives here)."""

from django.contrib import admin

from apps.console import audit_admin  # noqa: F401  (registers the AuditLog admin)

admin.site.site_header = "imserver operator console"
admin.site.site_title = "imserver console"
admin.site.index_title = "Moderation and operations"
