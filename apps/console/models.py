"""The operator console has no tables: this model only carries its permissions."""

from __future__ import annotations

from django.db import models


class ConsolePermission(models.Model):
    """Holder of the operator permissions that are not a model's add/change/delete/view."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_dashboard", "Can view the operator dashboard"),
            ("view_settings", "Can view server settings on the dashboard"),
            ("ban_user", "Can ban, unban and force-logout users"),
            ("revoke_message", "Can revoke messages"),
            ("delete_message", "Can delete messages"),
            ("mute_group", "Can mute and unmute groups and group members"),
            ("kick_member", "Can kick members from groups"),
            ("manage_group", "Can dismiss groups and transfer their ownership"),
            ("correct_relations", "Can correct friendships, friend requests, blacklists and join requests"),
        ]

    def __str__(self) -> str:
        return "console permissions"
