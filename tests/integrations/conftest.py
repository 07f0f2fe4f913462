from __future__ import annotations

import pytest

from tests.integrations.receiver import Receiver
from tests.messaging.conftest import tokens  # noqa: F401 - fixture

SECRET = "whsec-test-0123456789"


@pytest.fixture
def receiver(settings):
    r = Receiver(secret=SECRET).start()
    settings.IM_WEBHOOK_URL = r.url
    settings.IM_WEBHOOK_SECRET = SECRET
    settings.IM_WEBHOOK_EVENTS = ["*"]
    settings.IM_WEBHOOK_BEFORE_SEND = False
    settings.IM_WEBHOOK_RETRY_BACKOFF_MAX_SECONDS = 1
    yield r
    r.stop()
