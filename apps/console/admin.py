"""The operator console's admin site titles (every model's admin lives in its own app)."""

from django.contrib import admin

admin.site.site_header = "imserver operator console"
admin.site.site_title = "imserver console"
admin.site.index_title = "Moderation and operations"
