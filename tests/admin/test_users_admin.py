from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.constants import Platform, TokenStatus
from apps.accounts.models import Token, User
from apps.audit.models import AuditLog
from tests.admin.conftest import OPERATOR_IP, action_post

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:accounts_user_changelist")


def test_ban_asks_for_a_reason_first_and_changes_nothing_until_confirmed(su_client, alice):
    resp = action_post(su_client, CHANGELIST, "ban_users", [alice.pk], reason=None)
    assert resp.status_code == 200
    assert b'name="reason"' in resp.content
    alice.refresh_from_db()
    assert not alice.is_banned
    assert not AuditLog.objects.filter(action="user.ban").exists()


def test_ban_with_empty_reason_is_refused(su_client, alice):
    resp = action_post(su_client, CHANGELIST, "ban_users", [alice.pk], reason="  ")
    assert resp.status_code == 200
    assert b"This field is required" in resp.content
    alice.refresh_from_db()
    assert not alice.is_banned


def test_superuser_bans_user_kicks_tokens_and_writes_one_audit_row(su_client, alice, issue_token):
    issue_token(alice, Platform.IOS)
    issue_token(alice, Platform.WEB)
    resp = action_post(su_client, CHANGELIST, "ban_users", [alice.pk], reason="spam links")
    assert resp.status_code == 302
    alice.refresh_from_db()
    assert alice.is_banned and alice.banned_reason == "spam links"
    assert not Token.objects.filter(user=alice, status=TokenStatus.NORMAL).exists()
    rows = list(AuditLog.objects.filter(target_id="alice").exclude(action="token.issue"))
    assert [(r.action, r.actor, r.ip, r.details["reason"]) for r in rows] == [
        ("user.ban", "root", OPERATOR_IP, "spam links")
    ]


def test_moderator_bans_unbans_and_forces_logout(mod_client, alice, bob, issue_token):
    issue_token(bob, Platform.ANDROID)
    assert action_post(mod_client, CHANGELIST, "ban_users", [alice.pk]).status_code == 302
    assert action_post(mod_client, CHANGELIST, "unban_users", [alice.pk], reason="appeal ok").status_code == 302
    assert action_post(mod_client, CHANGELIST, "force_logout", [bob.pk], reason="stolen phone").status_code == 302
    alice.refresh_from_db()
    assert not alice.is_banned
    assert not Token.objects.filter(user=bob, status=TokenStatus.NORMAL).exists()
    audit = list(
        AuditLog.objects.filter(actor="mod").order_by("id").values_list("action", "target_id", "ip", "details__reason")
    )
    assert audit == [
        ("user.ban", "alice", OPERATOR_IP, "spam"),
        ("user.unban", "alice", OPERATOR_IP, "appeal ok"),
        ("user.force_logout", "bob", OPERATOR_IP, "stolen phone"),
    ]


def test_ban_skips_superusers(su_client, superuser, alice):
    action_post(su_client, CHANGELIST, "ban_users", [superuser.pk, alice.pk])
    superuser.refresh_from_db()
    assert not superuser.is_banned
    assert AuditLog.objects.filter(action="user.ban").count() == 1


def test_moderator_cannot_edit_users_or_make_admins(mod_client, alice, staff):
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    page = mod_client.get(url)
    assert page.status_code == 200  # view only
    assert b'name="is_superuser"' not in page.content
    assert b'name="app_manager_level"' not in page.content
    resp = mod_client.post(url, {"user_id": "alice", "app_manager_level": "2", "is_staff": "on"})
    assert resp.status_code == 403
    alice.refresh_from_db()
    assert alice.app_manager_level == 0 and not alice.is_staff
    assert mod_client.post(reverse("admin:accounts_user_delete", args=[alice.pk]), {"post": "yes"}).status_code == 403
    assert mod_client.get(reverse("admin:accounts_user_add")).status_code == 403
    assert mod_client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_superuser_can_edit_operator_fields(su_client, alice):
    page = su_client.get(reverse("admin:accounts_user_change", args=[alice.pk]))
    assert b'name="is_superuser"' in page.content
    assert b'name="app_manager_level"' in page.content


def test_staff_without_permissions_sees_nothing(staff_client, alice):
    index = staff_client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert b"accounts/user" not in index.content
    assert staff_client.get(CHANGELIST).status_code == 403
    assert staff_client.get(reverse("admin:accounts_user_change", args=[alice.pk])).status_code == 403
    resp = action_post(staff_client, CHANGELIST, "ban_users", [alice.pk])
    assert resp.status_code == 403
    alice.refresh_from_db()
    assert not alice.is_banned
    assert not AuditLog.objects.filter(action="user.ban").exists()


def test_user_search_and_filters(su_client, make_user):
    make_user("carol", nickname="Caroline")
    make_user("dave", nickname="David", is_banned=True)
    make_user("erin", nickname="Erin", app_manager_level=2)
    assert b"carol" in su_client.get(CHANGELIST, {"q": "Carol"}).content
    banned = su_client.get(CHANGELIST, {"is_banned__exact": "1"}).content.decode()
    assert "dave" in banned and "carol" not in banned
    level = su_client.get(CHANGELIST, {"app_manager_level": "2"}).content.decode()
    assert "erin" in level and "dave" not in level
    assert su_client.get(CHANGELIST, {"created_at__gte": "2000-01-01 00:00:00+00:00"}).status_code == 200


def test_user_page_shows_devices_and_activity(su_client, alice, issue_token):
    issue_token(alice, Platform.IOS)
    action_post(su_client, CHANGELIST, "force_logout", [alice.pk], reason="check")
    issue_token(alice, Platform.MACOS)
    page = su_client.get(reverse("admin:accounts_user_change", args=[alice.pk])).content.decode()
    assert "Devices online" in page
    assert "Macos" in page  # live token platform
    assert "user.force_logout" in page


def test_user_changelist_query_budget(su_client, make_user, django_assert_num_queries):
    for i in range(60):
        make_user(f"bulk{i}")
    su_client.get(CHANGELIST)  # warm up content types etc.
    # session, user, distinct app_manager_level values (filter), count, page rows
    with django_assert_num_queries(5):
        resp = su_client.get(CHANGELIST)
    assert resp.status_code == 200


def test_user_page_shows_groups_and_recent_messages(su_client, alice, bob):
    from apps.groups import services as group_services
    from tests.admin.factories import send_text

    group_services.group_create(owner=alice, name="Chess", member_ids=["bob"], admin_ids=[], group_id="chess")
    send_text(alice, to=bob, text="see you at the board")
    page = su_client.get(reverse("admin:accounts_user_change", args=[alice.pk])).content.decode()
    assert "Chess (chess) [owner]" in page
    assert "see you at the board" in page


def test_moderator_cannot_ban_or_log_out_other_operators(mod_client, staff, issue_token):
    issue_token(staff)
    action_post(mod_client, CHANGELIST, "ban_users", [staff.pk])
    action_post(mod_client, CHANGELIST, "force_logout", [staff.pk])
    staff.refresh_from_db()
    assert not staff.is_banned
    assert Token.objects.filter(user=staff, status=TokenStatus.NORMAL).exists()
    assert not AuditLog.objects.filter(actor="mod").exists()


def _change_form_data(user) -> dict:
    return {
        "user_id": user.user_id, "nickname": "Renamed", "face_url": "", "ex": "{}", "global_recv_msg_opt": "0",
        "app_manager_level": "0", "is_active": "on", "last_login_0": "", "last_login_1": "",
        "tokens-TOTAL_FORMS": "0", "tokens-INITIAL_FORMS": "0", "tokens-MIN_NUM_FORMS": "0",
        "tokens-MAX_NUM_FORMS": "0",
    }


def test_editing_a_user_in_the_change_form_writes_one_audit_row(su_client, alice):
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    resp = su_client.post(url, _change_form_data(alice))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    alice.refresh_from_db()
    assert alice.nickname == "Renamed"
    rows = list(AuditLog.objects.filter(action="user.admin_change").values_list("actor", "target_id", "ip"))
    assert rows == [("root", "alice", OPERATOR_IP)]
    assert "Nickname" in str(AuditLog.objects.get(action="user.admin_change").details)


def test_password_change_and_delete_in_the_admin_are_audited(su_client, alice, bob):
    url = reverse("admin:auth_user_password_change", args=[alice.pk])  # Django names it so
    resp = su_client.post(url, {"password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42",
                                "usable_password": "true"})
    assert resp.status_code == 302
    assert AuditLog.objects.filter(action="user.admin_change", target_id="alice").count() == 1
    changelist = reverse("admin:accounts_user_changelist")
    resp = su_client.post(changelist, {"action": "delete_selected", "_selected_action": [bob.pk], "post": "yes"})
    assert resp.status_code == 302
    assert not User.objects.filter(user_id="bob").exists()
    assert list(AuditLog.objects.filter(action="user.delete").values_list("target_id", flat=True)) == ["bob"]
