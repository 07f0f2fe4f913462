"""Admin clients: a superuser, a moderator (the "moderator" group) and plain staff."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.console.permissions import MODERATOR_GROUP, moderator_group_sync

OPERATOR_IP = "203.0.113.7"


def _client(user: User) -> Client:
    client = Client(REMOTE_ADDR=OPERATOR_IP)
    client.force_login(user)
    return client


@pytest.fixture
def superuser(make_user) -> User:
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def moderator(make_user) -> User:
    user = make_user("mod", is_staff=True)
    user.groups.add(moderator_group_sync())
    assert user.groups.filter(name=MODERATOR_GROUP).exists()
    return user


@pytest.fixture
def staff(make_user) -> User:
    return make_user("clerk", is_staff=True)


@pytest.fixture
def su_client(superuser) -> Client:
    return _client(superuser)


@pytest.fixture
def mod_client(moderator) -> Client:
    return _client(moderator)


@pytest.fixture
def staff_client(staff) -> Client:
    return _client(staff)


def action_post(client: Client, url: str, action: str, ids: list, reason: str | None = "spam", **extra: str):
    """Post an admin changelist action; with a reason, also confirm it on the reason page."""
    data = {"action": action, "_selected_action": [str(i) for i in ids], "index": "0", **extra}
    if reason is not None:
        data.update({"apply": "1", "reason": reason})
    return client.post(url, data)
