from __future__ import annotations

import pytest

from tests.relations.notes import NoteRecorder


@pytest.fixture
def notes(monkeypatch) -> NoteRecorder:
    return NoteRecorder.install(monkeypatch)
