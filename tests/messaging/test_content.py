"""Content is validated per content type; bad content is 1001 with a readable message."""

from __future__ import annotations

import pytest

from apps.common.errors import Code, DomainError
from apps.messaging.content import content_validate

GOOD = [
    (101, {"content": "hello"}),
    (102, {"source_picture": {"url": "https://x/p.png", "width": 10}}),
    (103, {"url": "https://x/v.ogg", "duration": 3}),
    (104, {"video_url": "https://x/v.mp4"}),
    (105, {"url": "https://x/f.pdf", "file_name": "f.pdf"}),
    (106, {"text": "@bob hi", "at_user_ids": ["bob"]}),
    (107, {"messages": [], "title": "chat"}),
    (108, {"user_id": "carol"}),
    (109, {"latitude": 52.5, "longitude": 13.4}),
    (110, {"data": {"anything": [1, 2]}}),
    (114, {"text": "agreed", "quote_message": {"seq": 3}}),
    (115, {"index": 4}),
]

BAD = [
    (101, {"content": ""}),
    (101, {"content": 5}),
    (101, {"text": "wrong key"}),
    (102, {"source_picture": {}}),
    (105, {"url": "https://x/f.pdf"}),
    (106, {"text": "hi", "at_user_ids": "bob"}),
    (108, {}),
    (109, {"latitude": 91, "longitude": 0}),
    (109, {"latitude": True, "longitude": 0}),
    (110, {}),
    (114, {"text": "x"}),
    (115, {}),
    (999, {"content": "x"}),
    (1501, {}),
    (101, "not an object"),
]


@pytest.mark.parametrize(("content_type", "content"), GOOD)
def test_valid_content_passes(content_type, content):
    content_validate(content_type=content_type, content=content)


@pytest.mark.parametrize(("content_type", "content"), BAD)
def test_invalid_content_is_1001_with_a_message(content_type, content):
    with pytest.raises(DomainError) as err:
        content_validate(content_type=content_type, content=content)
    assert err.value.code == Code.BAD_ARGS and err.value.msg


def test_text_and_size_limits(settings):
    settings.IM_TEXT_MAX_CHARS = 10
    with pytest.raises(DomainError):
        content_validate(content_type=101, content={"content": "x" * 11})
    settings.IM_CONTENT_MAX_BYTES = 300
    with pytest.raises(DomainError) as err:
        content_validate(content_type=110, content={"data": "x" * 400})
    assert "bytes" in err.value.msg


def test_notification_types_only_for_trusted_senders():
    content_validate(content_type=1501, content={}, allow_notifications=True)
    content_validate(content_type=2101, content={"seq": 1}, allow_notifications=True)
