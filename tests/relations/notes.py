"""Records the notifications relations/groups store, without the message log behind them."""

from __future__ import annotations

from typing import Any


class NoteRecorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    @classmethod
    def install(cls, monkeypatch: Any) -> NoteRecorder:
        rec = cls()

        def store(**kwargs: Any) -> dict[str, Any]:
            rec.calls.append(kwargs)
            return {"seq": len(rec.calls)}

        monkeypatch.setattr("apps.messaging.notifications.notification_send", store)
        return rec

    def types(self) -> list[int]:
        return [c["content_type"] for c in self.calls]

    def of(self, content_type: int) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["content_type"] == content_type]

    def clear(self) -> None:
        self.calls.clear()
