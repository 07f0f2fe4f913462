"""Operators delete messages for everyone: placeholder for pullers, one audit row, by permission."""

from __future__ import annotations

import orjson
import pytest
from django.urls import reverse

from apps.audit.models import AuditLog
from apps.common.errors import Code, DomainError
from apps.messaging import selectors, services
from apps.messaging.models import Message, MsgStatus, OfflineMessage
from tests.admin.conftest import OPERATOR_IP, action_post
from tests.admin.factories import send_text

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:messaging_message_changelist")


@pytest.fixture
def spam(alice, bob):
    send_text(alice, to=bob, text="hi bob")
    wire = send_text(bob, to=alice, text="buy cheap pills at spam.example")
    return Message.objects.get(server_msg_id=wire["server_msg_id"])


def _pulled(user_id: str, msg: Message) -> dict:
    result = selectors.messages_pull(user_id=user_id, conversation_id=msg.conversation_id, seqs=[msg.seq])
    return orjson.loads(orjson.dumps(result.messages))[0]


def _deleted_and_placeholder(msg: Message) -> None:
    msg.refresh_from_db()
    assert msg.status == MsgStatus.DELETED
    assert msg.content == {"content": "buy cheap pills at spam.example"}  # operators still see it
    stored = orjson.loads(OfflineMessage.objects.get(conversation_id=msg.conversation_id, seq=msg.seq).payload)
    assert stored["status"] == 4 and stored["content"] == {} and stored["send_id"] == ""
    for user_id in ("alice", "bob"):
        pulled = _pulled(user_id, msg)
        assert (pulled["seq"], pulled["status"], pulled["server_msg_id"], pulled["content"]) == (
            msg.seq, 4, msg.server_msg_id, {}
        )
    history = selectors.messages_history(user_id="alice", conversation_id=msg.conversation_id)
    assert msg.seq not in [m.seq for m in history]


def test_moderator_deletes_a_message_with_reason_and_exactly_one_audit_row(mod_client, spam):
    resp = action_post(mod_client, CHANGELIST, "delete_messages", [spam.pk], reason="illegal content")
    assert resp.status_code == 302
    _deleted_and_placeholder(spam)
    rows = list(AuditLog.objects.filter(target_type="message"))
    assert [(r.actor, r.action, r.target_id, r.ip, r.details["reason"]) for r in rows] == [
        ("mod", "message.delete", spam.server_msg_id, OPERATOR_IP, "illegal content")
    ]


def test_superuser_deletes_and_sees_who_and_why(su_client, spam):
    action_post(su_client, CHANGELIST, "delete_messages", [spam.pk], reason="phishing")
    _deleted_and_placeholder(spam)
    page = su_client.get(CHANGELIST, {"status__exact": str(MsgStatus.DELETED)}).content.decode()
    assert "root: phishing" in page


def test_deleting_twice_leaves_one_row(su_client, spam):
    action_post(su_client, CHANGELIST, "delete_messages", [spam.pk], reason="once")
    action_post(su_client, CHANGELIST, "delete_messages", [spam.pk], reason="twice")
    assert AuditLog.objects.filter(action="message.delete").count() == 1


def test_the_action_first_asks_for_a_reason(su_client, spam):
    page = action_post(su_client, CHANGELIST, "delete_messages", [spam.pk], reason=None)
    assert page.status_code == 200 and "reason" in page.content.decode()
    spam.refresh_from_db()
    assert spam.status == MsgStatus.SENT


def test_staff_without_permission_cannot_delete(staff_client, spam):
    assert action_post(staff_client, CHANGELIST, "delete_messages", [spam.pk]).status_code == 403
    spam.refresh_from_db()
    assert spam.status == MsgStatus.SENT
    assert not AuditLog.objects.filter(action="message.delete").exists()


def test_a_user_with_only_the_revoke_permission_is_not_offered_delete(make_user, spam):
    from django.contrib.auth.models import Permission
    from django.test import Client

    user = make_user("revoker", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="revoke_message"), Permission.objects.get(codename="view_message")
    )
    client = Client()
    client.force_login(user)
    page = client.get(CHANGELIST).content.decode()
    assert "revoke_messages" in page and "delete_messages" not in page
    action_post(client, CHANGELIST, "delete_messages", [spam.pk])
    spam.refresh_from_db()
    assert spam.status == MsgStatus.SENT


def test_service_needs_a_reason_and_an_existing_message(superuser, spam):
    with pytest.raises(DomainError) as err:
        services.message_delete(server_msg_id=spam.server_msg_id, actor=superuser, reason=" ")
    assert err.value.code == Code.BAD_ARGS
    with pytest.raises(DomainError) as err:
        services.message_delete(server_msg_id="nope", actor=superuser, reason="x")
    assert err.value.code == Code.MESSAGE_NOT_FOUND
    notice = services.message_delete(server_msg_id=spam.server_msg_id, actor=superuser, reason="x", ip="198.51.100.1")
    assert notice == {"conversation_id": spam.conversation_id, "seq": spam.seq, "server_msg_id": spam.server_msg_id}
    # a deleted message can no longer be revoked
    with pytest.raises(DomainError) as err:
        services.message_revoke(user_id="bob", server_msg_id=spam.server_msg_id)
    assert err.value.code == Code.MESSAGE_NOT_FOUND
