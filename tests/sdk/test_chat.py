"""The terminal chat (``python -m imclient chat``) driven by Textual's test pilot against a real server."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from imclient.chat import ChatApp

from tests.sdk.conftest import Deployment
from tests.sdk.helpers import make_client, single_cid, texts, wait_for

pytestmark = pytest.mark.slow


async def test_chat_lists_conversations_with_unread_counts_sends_and_shows_live_messages(deployment: Deployment):
    alice, bob, carol = deployment.users("alice", "bob", "carol")
    async with make_client(deployment.base_url, deployment.token(bob)) as b, \
            make_client(deployment.base_url, deployment.token(carol)) as c:
        await b.send_text(to_user_id=alice, text="hi alice")
        await b.send_text(to_user_id=alice, text="are you there")
        await c.send_text(to_user_id=alice, text="lunch?")

        async with make_client(deployment.base_url, deployment.token(alice)) as a:
            app = ChatApp(a)
            async with app.run_test(size=(110, 30)) as pilot:
                await wait_for(lambda: len(app.rows) == 2, what="the conversation list")
                # newest first: carol's conversation is open (so read), bob's shows 2 unread
                assert app.current == single_cid(alice, carol)
                assert app.rows[0].startswith(f"@{carol}") and "(" not in app.rows[0]
                assert app.rows[1] == f"@{bob} (2)  are you there"
                assert app.lines[-1].endswith(f"{carol}: lunch?")
                svg = app.export_screenshot()
                assert bob in svg and "(2)" in svg

                # pick bob's conversation with the keyboard: its history shows, the count clears
                await pilot.press("shift+tab")  # from the input to the list
                assert app.focused is app.query_one("#convs")
                await pilot.press("down", "enter")
                await wait_for(lambda: app.current == single_cid(alice, bob), what="bob's conversation open")
                assert [line.split(": ", 1)[1] for line in app.lines] == ["hi alice", "are you there"]
                await wait_for(lambda: any(r.startswith(f"@{bob}") and "(" not in r for r in app.rows),
                               what="the unread count to clear")
                await wait_for(lambda: b.conversation(single_cid(alice, bob)).peer_read_seq == 2,
                               what="bob to learn that alice read both")

                # type a reply and send it with Enter
                assert app.focused is app.query_one("#input")  # picking a conversation moves to the input
                await pilot.press(*"on my way", "enter")
                await wait_for(lambda: app.lines[-1].endswith(f"{alice}: on my way"), what="the sent line")
                await b.sync()
                assert texts(b.history(single_cid(alice, bob)))[-1] == "on my way"

                # a live message from bob appears at once; one from carol raises her unread count
                await b.send_text(to_user_id=alice, text="see you")
                await c.send_text(to_user_id=alice, text="still hungry")
                await wait_for(lambda: app.lines[-1].endswith(f"{bob}: see you"), what="bob's live message")
                await wait_for(lambda: any(r.startswith(f"@{carol} (1)") for r in app.rows), what="carol's count")
                await pilot.pause()
                assert "still" in app.export_screenshot()

                # /to opens a new conversation
                app.query_one("#input").focus()
                await pilot.press(*f"/to {carol}", "enter")
                assert app.current == single_cid(alice, carol)
                assert app.lines[-1].endswith(f"{carol}: still hungry")


def test_chat_command_line_needs_server_and_token():
    proc = subprocess.run([sys.executable, "-m", "imclient", "chat"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--server" in proc.stderr


async def test_chat_command_starts_against_a_real_server(deployment: Deployment):
    """``python -m imclient chat`` in a real terminal-less run: it connects, then quits on Ctrl+Q."""
    (alice,) = deployment.users("alice")
    app = ChatApp(server=deployment.base_url, token=deployment.token(alice))
    async with app.run_test() as pilot:
        await wait_for(lambda: app.client is not None and app.client.user_id == alice, what="connect")
        await wait_for(lambda: app.status == "connected" or "connected" in str(app.sub_title), what="state")
        await pilot.press("ctrl+q")
    await asyncio.sleep(0)
    assert app.client is not None and app.client.connected is False
