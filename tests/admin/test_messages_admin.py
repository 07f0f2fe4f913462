from __future__ import annotations

import pytest
from django.urls import reverse

from apps.audit.models import AuditLog
from apps.messaging.models import Message, MsgStatus
from tests.admin.conftest import OPERATOR_IP, action_post
from tests.admin.factories import bulk_messages, send_text

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:messaging_message_changelist")


@pytest.fixture
def chat(alice, bob):
    first = send_text(alice, to=bob, text="hi bob")
    second = send_text(bob, to=alice, text="buy cheap pills at spam.example")
    return first, second


def _msg(wire) -> Message:
    return Message.objects.get(server_msg_id=wire["server_msg_id"])


def test_moderator_revokes_a_message_with_reason_and_one_audit_row(mod_client, chat):
    spam = _msg(chat[1])
    resp = action_post(mod_client, CHANGELIST, "revoke_messages", [spam.pk], reason="spam link")
    assert resp.status_code == 302
    spam.refresh_from_db()
    assert spam.status == MsgStatus.REVOKED
    rows = list(AuditLog.objects.filter(target_type="message"))
    assert [(r.actor, r.action, r.target_id, r.ip, r.details["reason"]) for r in rows] == [
        ("mod", "message.revoke", spam.server_msg_id, OPERATOR_IP, "spam link")
    ]
    # a revoke notice is left in the conversation for the clients
    notice = Message.objects.get(conversation_id=spam.conversation_id, content_type=2101)
    assert notice.content["server_msg_id"] == spam.server_msg_id
    assert notice.content["reason"] == "spam link"  # the reason clients show


def test_revoked_message_shows_who_and_why_to_operators(su_client, chat):
    spam = _msg(chat[1])
    action_post(su_client, CHANGELIST, "revoke_messages", [spam.pk], reason="phishing")
    page = su_client.get(CHANGELIST, {"status__exact": str(MsgStatus.REVOKED)}).content.decode()
    assert "root: phishing" in page
    chat_url = reverse("admin:messaging_message_conversation", args=[spam.conversation_id])
    view = su_client.get(chat_url).content.decode()
    assert "revoked by root" in view and "phishing" in view
    assert "hi bob" in view


def test_revoke_of_a_revoked_message_changes_nothing(su_client, chat):
    spam = _msg(chat[1])
    action_post(su_client, CHANGELIST, "revoke_messages", [spam.pk])
    action_post(su_client, CHANGELIST, "revoke_messages", [spam.pk])
    assert AuditLog.objects.filter(action="message.revoke").count() == 1


def test_staff_without_permission_cannot_revoke_or_read(staff_client, chat):
    spam = _msg(chat[1])
    assert staff_client.get(CHANGELIST).status_code == 403
    assert action_post(staff_client, CHANGELIST, "revoke_messages", [spam.pk]).status_code == 403
    url = reverse("admin:messaging_message_conversation", args=[spam.conversation_id])
    assert staff_client.get(url).status_code == 403
    spam.refresh_from_db()
    assert spam.status == MsgStatus.SENT


def test_moderator_cannot_edit_or_delete_messages(mod_client, chat):
    spam = _msg(chat[1])
    change = reverse("admin:messaging_message_change", args=[spam.pk])
    assert mod_client.get(change).status_code == 200
    assert mod_client.post(change, {"content": "{}"}).status_code == 403
    assert mod_client.post(reverse("admin:messaging_message_delete", args=[spam.pk]), {"post": "yes"}).status_code == 403


def test_message_search_by_conversation_sender_text_type_and_time(su_client, chat, alice, carol_chat):
    cid = _msg(chat[0]).conversation_id
    by_conv = su_client.get(CHANGELIST, {"conversation_id": cid}).content.decode()
    assert "hi bob" in by_conv and "carol here" not in by_conv
    by_sender = su_client.get(CHANGELIST, {"send_id": "bob"}).content.decode()
    assert "pills" in by_sender and "hi bob" not in by_sender
    by_text = su_client.get(CHANGELIST, {"q": "pills"}).content.decode()
    assert "pills" in by_text and "hi bob" not in by_text
    assert "hi bob" in su_client.get(CHANGELIST, {"content_type": "101"}).content.decode()
    assert "hi bob" not in su_client.get(CHANGELIST, {"content_type": "102"}).content.decode()
    assert "hi bob" in su_client.get(CHANGELIST, {"sent_from": "2000-01-01", "sent_before": "2999-01-01"}).content.decode()
    assert "hi bob" not in su_client.get(CHANGELIST, {"sent_before": "2000-01-01"}).content.decode()


def test_bad_time_filter_is_not_a_server_error(su_client, chat):
    resp = su_client.get(CHANGELIST, {"sent_from": "yesterday-ish"})
    assert resp.status_code in (200, 302)


@pytest.fixture
def carol_chat(make_user, alice):
    carol = make_user("carol")
    return send_text(carol, to=alice, text="carol here")


def test_conversation_view_reads_like_a_chat_and_pages(su_client, db):
    cid = bulk_messages(250)
    url = reverse("admin:messaging_message_conversation", args=[cid])
    page = su_client.get(url).content.decode()
    assert "message 250" in page and "message 150 " not in page
    assert "?before=151" in page
    older = su_client.get(url, {"before": "151"}).content.decode()
    assert "message 150" in older and "message 51 " in older
    assert su_client.get(url, {"before": "x"}).status_code == 404
    assert su_client.get(reverse("admin:messaging_message_conversation", args=["si_no_body"])).status_code == 404


def test_message_changelist_query_budget(su_client, django_assert_num_queries):
    bulk_messages(120)
    su_client.get(CHANGELIST)
    # session, user, capped count, the page (revoke info is a subquery of it)
    with django_assert_num_queries(4):
        assert su_client.get(CHANGELIST).status_code == 200


def test_a_member_revoke_shows_the_member_in_the_conversation_view(su_client, chat, bob):
    from apps.messaging import services

    spam = _msg(chat[1])
    services.message_revoke(user_id="bob", server_msg_id=spam.server_msg_id, reason="sent to the wrong chat")
    view = su_client.get(reverse("admin:messaging_message_conversation", args=[spam.conversation_id])).content.decode()
    assert "revoked by bob: sent to the wrong chat" in view
    listed = su_client.get(CHANGELIST, {"status__exact": str(MsgStatus.REVOKED)}).content.decode()
    assert "a conversation member" in listed
