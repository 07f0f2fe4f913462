"""The "moderator" group: who may do what in the operator console.

The group is kept in sync after every ``migrate`` (post_migrate), so a fresh database has it
without a separate bootstrap step. ``moderator_group_sync()`` can be called at any time.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS

MODERATOR_GROUP = "moderator"

# app_label.codename; permissions of apps that do not exist (yet) are skipped.
MODERATOR_PERMISSIONS: tuple[str, ...] = (
    "console.view_dashboard",
    "console.ban_user",
    "console.revoke_message",
    "console.delete_message",
    "console.mute_group",
    "console.kick_member",
    "accounts.view_user",
    "messaging.view_message",
    "messaging.view_conversation",
    "groups.view_group",
    "groups.view_groupmember",
    "groups.view_grouprequest",
    "relations.view_friend",
    "relations.view_friendrequest",
    "relations.view_black",
)


def _permissions(names: tuple[str, ...], using: str) -> list[Permission]:
    wanted: dict[str, set[str]] = {}
    for name in names:
        app_label, codename = name.split(".", 1)
        wanted.setdefault(app_label, set()).add(codename)
    qs = Permission.objects.using(using).select_related("content_type")
    return [
        perm for perm in qs.filter(content_type__app_label__in=list(wanted))
        if perm.codename in wanted[perm.content_type.app_label]
    ]


def moderator_group_sync(*, using: str = DEFAULT_DB_ALIAS) -> Group:
    """Create the "moderator" group if needed and add the moderator permissions it lacks.

    Permissions an operator added by hand are kept.
    """
    group, _ = Group.objects.using(using).get_or_create(name=MODERATOR_GROUP)
    group.permissions.add(*_permissions(MODERATOR_PERMISSIONS, using))
    return group


def moderator_group_sync_on_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    from django.contrib.auth.management import create_permissions

    # permissions of apps listed after this one are created later in the same signal round
    for config in django_apps.get_app_configs():
        if config.models_module is not None:
            create_permissions(config, verbosity=0, using=using)
    moderator_group_sync(using=using)
