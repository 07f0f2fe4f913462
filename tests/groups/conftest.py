from __future__ import annotations

import pytest

from tests.relations.notes import NoteRecorder


@pytest.fixture
def notes(monkeypatch) -> NoteRecorder:
    return NoteRecorder.install(monkeypatch)


@pytest.fixture
def tokens(issue_token, make_user):
    """``tokens("alice")`` → a fresh web token (the user is created on first use)."""
    from apps.accounts.models import User

    def make(user_id: str, platform_id: int = 5) -> str:
        user = User.objects.filter(user_id=user_id).first() or make_user(user_id)
        return issue_token(user, platform_id)

    return make
