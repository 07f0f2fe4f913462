"""10,000 messages caught up into a fresh store. The time is printed (and reported in
docs/performance.md, "SDK catch-up"); the test asserts completeness, never speed.

The messages come from 20 senders, 500 each (the benchmark suite's catch-up scenario):
the server answers one connection's requests one after another, so many connections
fill the log far faster than one.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tests.sdk.conftest import Deployment
from tests.sdk.helpers import assert_contiguous, make_client, single_cid

pytestmark = pytest.mark.slow

COUNT = int(os.environ.get("IM_SDK_CATCH_UP_MESSAGES", "10000"))  # smaller for a quick local run
SENDERS = 20


@pytest.mark.timeout(400)
async def test_ten_thousand_messages_caught_up_into_the_store(deployment: Deployment, tmp_path):
    *senders, bob = deployment.users(*(f"s{i:02d}x" for i in range(SENDERS)), "bob")
    per_sender = COUNT // SENDERS

    async def send_all(user_id: str) -> list[int]:
        async with make_client(deployment.base_url, await asyncio.to_thread(deployment.token, user_id)) as c:
            acked = await asyncio.gather(*(c.send_text(to_user_id=bob, text=f"{user_id}-{i}") for i in range(per_sender)))
            return [m.seq for m in acked]

    started = time.monotonic()
    seqs = await asyncio.gather(*(send_all(s) for s in senders))
    filled = time.monotonic() - started
    assert all(sorted(s) == list(range(1, per_sender + 1)) for s in seqs)

    token = deployment.token(bob)
    started = time.monotonic()
    async with make_client(deployment.base_url, token, tmp_path / "bob.db") as b:
        await b.sync()
        caught_up = time.monotonic() - started
        assert b.store.count_messages() == per_sender * SENDERS
        for sender in senders:
            held = b.history(single_cid(sender, bob), limit=per_sender)
            assert_contiguous(held)
            assert [m.text for m in held] == [f"{sender}-{i}" for i in range(per_sender)]
        convs = b.conversations()
        assert len(convs) == SENDERS and all(c.unread == per_sender for c in convs)
    print(f"\nSDK catch-up: {per_sender * SENDERS} messages in {SENDERS} conversations into a fresh store (file) "
          f"in {caught_up:.2f}s ({per_sender * SENDERS / caught_up:.0f} msg/s), connect and sync; "
          f"the {SENDERS} senders took {filled:.1f}s")
