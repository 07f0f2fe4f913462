from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from apps.console.permissions import MODERATOR_GROUP, moderator_group_sync

pytestmark = pytest.mark.django_db


def test_moderator_group_exists_after_migrate_with_its_permissions():
    group = Group.objects.get(name=MODERATOR_GROUP)
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert {"console.ban_user", "console.revoke_message", "console.mute_group", "console.view_dashboard"} <= perms
    assert {"accounts.view_user", "messaging.view_message", "groups.view_group"} <= perms
    assert not {p for p in perms if p.startswith("audit.")}
    assert "accounts.change_user" not in perms and "console.view_settings" not in perms
    assert "console.manage_group" not in perms


def test_sync_is_idempotent_and_keeps_permissions_added_by_hand():
    from django.contrib.auth.models import Permission

    group = moderator_group_sync()
    extra = Permission.objects.get(codename="correct_relations")
    group.permissions.add(extra)
    count = group.permissions.count()
    moderator_group_sync()
    call_command("migrate", verbosity=0)
    assert group.permissions.count() == count


def test_moderator_cannot_manage_operators_or_groups_of_permissions(mod_client, superuser):
    assert mod_client.get(reverse("admin:auth_group_changelist")).status_code == 403
    su_page = reverse("admin:accounts_user_change", args=[superuser.pk])
    resp = mod_client.post(su_page, {"user_id": "root", "is_superuser": ""})
    assert resp.status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_superuser


def test_moderator_index_lists_only_what_they_may_see(mod_client):
    page = mod_client.get(reverse("admin:index")).content.decode()
    assert "/admin/accounts/user/" in page and "/admin/messaging/message/" in page
    assert "/admin/audit/" not in page and "/admin/auth/group/" not in page


def test_staff_without_permissions_sees_an_empty_index(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()
    assert "You don’t have permission to view or edit anything" in page
    for name in ("accounts_user", "audit_auditlog", "messaging_message", "groups_group", "relations_friend"):
        assert staff_client.get(reverse(f"admin:{name}_changelist")).status_code == 403
