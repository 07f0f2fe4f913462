"""The chat page in a real browser against a real server process.

Two (or three) separate Chromium sessions act as different users of one daphne server with
its own database (MariaDB when the suite runs against it). Screenshots land in
``var/test-artifacts/chat/``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signing

from apps.accounts.tokens import SALT
from tests.support.processes import Proc, live_database, server_env, start_asgi_node
from tests.webchat.browser import need_browser, new_driver, screenshot, set_offline, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

SECRET = "chat-secret-0123456789"
UPLOAD_MAX = 50_000  # small, so a too-large upload is cheap to make
UPLOAD_TYPES = "image/png,image/jpeg,image/gif,image/webp,text/plain"  # no application/octet-stream
SIGNING_KEY = "chat-browser-tests-" + "k" * 40


def _http(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    req = urllib.request.Request(  # noqa: S310 - loopback
        base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


class Backend:
    """What an app backend does: register users and issue their tokens."""

    def __init__(self, node: Proc) -> None:
        self.node = node
        self.base = node.base_url
        self.admin = _http(self.base, "POST", "/api/v1/auth/admin-token", {"secret": SECRET, "user_id": "imAdmin"})["token"]

    def users(self, *names: str) -> dict[str, str]:
        suffix = secrets.token_hex(2)
        ids = {n: f"{n}{suffix}" for n in names}
        _http(self.base, "POST", "/api/v1/users",
              {"users": [{"user_id": uid, "nickname": n.capitalize()} for n, uid in ids.items()]}, self.admin)
        return ids

    def token(self, user_id: str) -> str:
        return _http(self.base, "POST", "/api/v1/auth/user-token", {"user_id": user_id, "platform_id": 5}, self.admin)["token"]

    def send(self, token: str, recv_id: str, text: str, content_type: int = 101, content: dict | None = None) -> dict:
        body = {"client_msg_id": secrets.token_hex(8), "session_type": 1, "recv_id": recv_id,
                "content_type": content_type, "content": content or {"content": text}}
        return _http(self.base, "POST", "/api/v1/messages", body, token)


def _node_env(tmp: Any, db_url: str, debug: bool) -> dict[str, str]:
    tag = secrets.token_hex(3)
    return server_env({
        "DATABASE_URL": db_url, "IM_SECRET": SECRET, "IM_ADMIN_USER_IDS": "imAdmin", "DEBUG": "1" if debug else "0",
        "DJANGO_SECRET_KEY": SIGNING_KEY, "IM_VAR_DIR": str(tmp / "var"),
        "IM_CHANNEL_PREFIX": f"chat{tag}", "IM_CACHE_PREFIX": f"chat{tag}", "IM_SEND_RATE_PER_SECOND": "0",
        "IM_UPLOAD_MAX_BYTES": str(UPLOAD_MAX), "IM_UPLOAD_ALLOWED_TYPES": UPLOAD_TYPES,
    })


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory) -> Iterator[Backend]:
    need_browser()
    tmp = tmp_path_factory.mktemp("chatsrv")
    with live_database(tmp) as db_url:
        node = start_asgi_node("chat-daphne", _node_env(tmp, db_url, debug=False), tmp / "logs")
        try:
            yield Backend(node)
        except Exception:
            print(node.log())
            raise
        finally:
            node.stop()


@pytest.fixture(scope="module")
def browsers() -> Iterator[list[Any]]:
    need_browser()
    drivers: list[Any] = []
    try:
        for _ in range(3):
            drivers.append(new_driver())
        yield drivers
    finally:
        for drv in drivers:
            with contextlib.suppress(Exception):
                drv.quit()


@pytest.fixture
def pages(browsers) -> Iterator[list[Any]]:
    yield browsers
    for drv in browsers:  # each test starts from a clean, online tab
        with contextlib.suppress(Exception):
            set_offline(drv, False)
            drv.set_window_size(1200, 800)
            drv.get("about:blank")


# ---------------------------------------------------------------- page helpers
def open_chat(drv: Any, base: str, token: str) -> None:
    drv.get(f"{base}/chat/#token={token}")
    wait_for(lambda: drv.find_element("id", "conn").text == "Connected", what="the page to connect")


def open_conversation(drv: Any, name: str) -> None:
    def click() -> bool:
        for btn in drv.find_elements("css selector", "button.conv"):
            if btn.find_element("css selector", ".conv-name").text == name:
                btn.click()
                return True
        return False

    wait_for(click, what=f"conversation {name!r} in the list")
    wait_for(lambda: drv.find_element("id", "chat-title").text == name, what=f"chat with {name!r} open")


def start_dm(drv: Any, user_id: str) -> None:
    box = drv.find_element("id", "new-dm-user")
    box.send_keys(user_id)
    drv.find_element("css selector", "#new-dm-form button").click()
    wait_for(lambda: drv.find_element("id", "chat-view").is_displayed(), what="the chat view")


def type_and_send(drv: Any, text: str) -> None:
    box = drv.find_element("id", "composer-input")
    box.send_keys(text)
    box.send_keys("\n")  # Enter sends


def texts(drv: Any) -> list[str]:
    return [p.text for p in drv.find_elements("css selector", "#message-list li.msg:not(.pending) p.text")]


def bubble(drv: Any, text: str) -> Any:
    for li in drv.find_elements("css selector", "#message-list li.msg"):
        ps = li.find_elements("css selector", "p.text")
        if ps and ps[0].text == text:
            return li
    return None


def wait_texts(drv: Any, expected_tail: list[str], timeout: float = 15) -> list[str]:
    return wait_for(lambda: texts(drv)[-len(expected_tail):] == expected_tail and texts(drv), timeout,
                    what=f"messages {expected_tail}")


def badge(drv: Any, name: str) -> str:
    for btn in drv.find_elements("css selector", "button.conv"):
        if btn.find_element("css selector", ".conv-name").text == name:
            found = btn.find_elements("css selector", ".badge")
            return found[0].text if found else ""
    return "missing"


def console_errors(drv: Any) -> list[str]:
    return [e["message"] for e in drv.get_log("browser") if e["level"] == "SEVERE"]


# ------------------------------------------------------------------------ tests
def test_two_users_chat_both_ways_with_history_paging_receipts_and_typing(chat_server, pages):
    srv = chat_server
    a, b, _ = pages
    ids = srv.users("alice", "bob")
    tok = {n: srv.token(uid) for n, uid in ids.items()}
    for i in range(1, 36):  # history from before: more than one page (30)
        srv.send(tok["alice"], ids["bob"], f"old {i}")

    open_chat(b, srv.base, tok["bob"])
    wait_for(lambda: badge(b, "Alice") == "35", what="35 unread on bob's list")
    wait_for(lambda: "old 35" in b.find_element("css selector", "button.conv .conv-last").text,
             what="the last message in the list")
    open_chat(a, srv.base, tok["alice"])

    open_conversation(b, "Alice")
    shown = wait_texts(b, ["old 35"])
    assert shown == [f"old {i}" for i in range(6, 36)]  # the newest page only
    wait_for(lambda: badge(b, "Alice") == "", what="bob's badge cleared after reading")
    b.execute_script("document.getElementById('messages').scrollTop = 0")  # scroll up: older page
    wait_for(lambda: texts(b)[:1] == ["old 1"], what="the older page")
    assert texts(b) == [f"old {i}" for i in range(1, 36)]
    wait_for(lambda: "Beginning" in b.find_element("id", "history-state").text, what="beginning of history")

    open_conversation(a, "Bob")
    wait_texts(a, ["old 35"])
    wait_for(lambda: bubble(a, "old 35").find_element("css selector", ".receipt").text == "Read",
             what="bob's read receipt on alice's side")
    b.find_element("id", "composer-input").send_keys("typing here")
    wait_for(lambda: "Bob is typing" in a.find_element("id", "typing").text, what="typing indicator")
    b.find_element("id", "composer-input").clear()

    type_and_send(a, "hello bob")
    wait_texts(b, ["hello bob"])
    type_and_send(b, "hi alice, got it")
    wait_texts(a, ["hello bob", "hi alice, got it"])
    wait_texts(b, ["hello bob", "hi alice, got it"])
    assert texts(a).count("hello bob") == 1 and texts(b).count("hi alice, got it") == 1
    # the sender's bubble took its seq from the ack, and the peer's read turns it to "Read"
    mine = bubble(a, "hello bob")
    assert mine.get_attribute("data-seq") == "36"
    wait_for(lambda: mine.find_element("css selector", ".receipt").text == "Read", what="read receipt")
    wait_for(lambda: a.find_element("css selector", "#chat-sub").text.strip() == "online", what="bob shown online")
    # incoming messages are announced to screen readers
    assert "hi alice, got it" in a.find_element("id", "live").get_attribute("textContent")
    screenshot(a, "chat-desktop")
    b.set_window_size(390, 844)  # a phone-sized window: one pane, a back button
    time.sleep(0.3)
    assert b.find_element("id", "back").is_displayed()
    assert not b.find_element("css selector", ".sidebar").is_displayed()
    screenshot(b, "chat-phone")
    b.find_element("id", "back").click()
    wait_for(lambda: b.find_element("css selector", ".sidebar").is_displayed(), what="list on the phone")
    screenshot(b, "chat-phone-list")
    assert console_errors(a) == [] and console_errors(b) == []


def test_offline_client_catches_up_exactly_once_in_order_and_resends_its_own(chat_server, pages):
    srv = chat_server
    a, b, _ = pages
    ids = srv.users("alice", "bob")
    tok = {n: srv.token(uid) for n, uid in ids.items()}
    srv.send(tok["alice"], ids["bob"], "", 102, {"url": f"{srv.base}/static/admin/img/icon-yes.svg", "file_name": "ok.svg"})
    srv.send(tok["alice"], ids["bob"], "", 105, {"url": "javascript:alert(1)", "file_name": "evil.txt"})
    srv.send(tok["alice"], ids["bob"], "before the drop")
    open_chat(a, srv.base, tok["alice"])
    open_chat(b, srv.base, tok["bob"])
    open_conversation(a, "Bob")
    open_conversation(b, "Alice")
    wait_texts(b, ["before the drop"])
    # a picture with a URL shows as a thumbnail linking to it; a non-http(s) URL never becomes a link
    link = b.find_element("css selector", "a.picture")
    assert link.get_attribute("href").endswith("/static/admin/img/icon-yes.svg")
    assert link.find_element("css selector", "img").get_attribute("naturalWidth") not in (None, "0")
    assert "File: evil.txt" in texts(b)
    assert not b.find_elements("css selector", "#message-list a[href^='javascript']")

    set_offline(b, True)
    wait_for(lambda: "offline" in b.find_element("id", "status").text, what="bob's offline banner")
    type_and_send(b, "sent while offline")  # fails, offers a retry, and goes out once back online
    wait_for(lambda: "Not sent" in bubble(b, "sent while offline").text, what="failed bubble")
    assert bubble(b, "sent while offline").find_element("css selector", "button.retry").is_displayed()
    client_msg_id = bubble(b, "sent while offline").get_attribute("data-cmid")
    assert client_msg_id
    screenshot(b, "chat-offline")
    for text in ("one", "two", "three"):
        type_and_send(a, text)
        wait_for(lambda t=text: bubble(a, t) is not None and bubble(a, t).get_attribute("data-seq"), what=f"ack of {text}")
    time.sleep(0.5)
    assert "one" not in texts(b)  # really cut off

    set_offline(b, False)
    wait_for(lambda: b.find_element("id", "conn").text == "Connected", what="bob reconnected")
    wait_for(lambda: "three" in texts(b) and "sent while offline" in texts(b), what="catch-up and resend")
    time.sleep(1)  # let any late duplicate show itself
    got = texts(b)
    assert [t for t in got if t in {"one", "two", "three"}] == ["one", "two", "three"]
    assert got.count("one") == got.count("two") == got.count("three") == 1
    seqs = [int(li.get_attribute("data-seq")) for li in b.find_elements("css selector", "#message-list li[data-seq]")]
    assert seqs == sorted(set(seqs))
    wait_for(lambda: "sent while offline" in texts(a), what="the resent message at alice")
    assert texts(a).count("sent while offline") == 1
    assert texts(b).count("sent while offline") == 1
    # the retry went out with the same client_msg_id as the failed try
    assert bubble(b, "sent while offline").get_attribute("data-cmid") == client_msg_id
    assert bubble(a, "sent while offline").get_attribute("data-cmid") == client_msg_id


def test_group_chat_among_three_users_with_members_and_revoke_in_both_windows(chat_server, pages):
    srv = chat_server
    a, b, c = pages
    ids = srv.users("alice", "bob", "carol")
    tok = {n: srv.token(uid) for n, uid in ids.items()}
    for drv, name in ((a, "alice"), (b, "bob"), (c, "carol")):
        open_chat(drv, srv.base, tok[name])

    c.find_element("css selector", "#new-group summary").click()
    c.find_element("id", "new-group-name").send_keys("Team")
    c.find_element("id", "new-group-members").send_keys(f"{ids['alice']}, {ids['bob']}")
    c.find_element("css selector", "#new-group-form button").click()
    wait_for(lambda: c.find_element("id", "chat-title").text == "Team", what="the new group open")
    type_and_send(c, "welcome, team")
    open_conversation(a, "Team")
    open_conversation(b, "Team")
    wait_texts(a, ["welcome, team"])
    type_and_send(a, "hi from alice")
    wait_texts(b, ["welcome, team", "hi from alice"])
    type_and_send(b, "hi from bob")
    expected = ["welcome, team", "hi from alice", "hi from bob"]
    for drv in (a, b, c):
        wait_for(lambda d=drv: texts(d) == expected, what="the same three messages in every window")
    # sender names in a group
    assert "Alice" in bubble(b, "hi from alice").find_element("css selector", ".sender").text
    # the member list with presence
    c.find_element("id", "members-toggle").click()
    wait_for(lambda: len(c.find_elements("css selector", "#member-list li")) == 3, what="three members")
    assert c.find_element("id", "chat-sub").text.startswith("3 members")
    wait_for(lambda: len(c.find_elements("css selector", "#member-list .dot.on")) == 3, what="all three online")
    screenshot(c, "chat-group")
    c.find_element("id", "members-toggle").click()

    # revoke: alice's own message turns into a notice in every window
    bubble(a, "hi from alice").find_element("css selector", "button.revoke").click()
    for drv in (a, b, c):
        wait_for(lambda d=drv: "hi from alice" not in texts(d), what="revoked message gone")
        wait_for(lambda d=drv: len(d.find_elements("css selector", "li.msg.is-revoked")) == 1, what="revoked bubble")
    shown = [li.find_element("css selector", "p.text, p.revoked").text
             for li in b.find_elements("css selector", "#message-list li.msg")]
    assert shown == ["welcome, team", "This message was revoked", "hi from bob"]
    screenshot(b, "chat-revoked")
    # only own messages offer a revoke
    assert bubble(b, "welcome, team").find_elements("css selector", "button.revoke") == []


def test_bad_and_expired_tokens_show_a_clear_message(chat_server, pages):
    srv = chat_server
    a, b, _ = pages
    a.get(f"{srv.base}/chat/#token=not-a-real-token")
    err = wait_for(lambda: a.find_element("id", "signin-error").is_displayed() and a.find_element("id", "signin-error").text,
                   what="sign-in error")
    assert "not valid" in err and "1502" in err
    assert a.find_element("id", "token-input").is_displayed()
    screenshot(a, "chat-bad-token")

    uid = srv.users("dora")["dora"]
    expired = signing.dumps({"u": uid, "p": 5, "j": "0" * 32, "e": int(time.time()) - 60},
                            key=SIGNING_KEY, salt=SALT, compress=False)
    b.get(f"{srv.base}/chat/#token={expired}")
    err = wait_for(lambda: b.find_element("id", "signin-error").is_displayed() and b.find_element("id", "signin-error").text,
                   what="expired-token error")
    assert "expired" in err and "1501" in err
    # a token pasted into the form works the same way
    b.find_element("id", "token-input").send_keys(srv.token(uid))
    b.find_element("css selector", "#token-form button").click()
    wait_for(lambda: b.find_element("id", "conn").text == "Connected", what="signed in with a pasted token")
    # the session ended from outside (forced logout): a clear message, back to sign-in
    _http(srv.base, "POST", "/api/v1/auth/force-logout", {"user_id": uid, "platform_id": 5}, srv.admin)
    err = wait_for(lambda: b.find_element("id", "signin-error").is_displayed() and b.find_element("id", "signin-error").text,
                   what="kicked message")
    assert "session was ended" in err


def test_demo_sign_in_and_a_lost_server(tmp_path, pages):
    a = pages[0]
    with live_database(tmp_path) as db_url:
        node = start_asgi_node("chat-debug", _node_env(tmp_path, db_url, debug=True), tmp_path / "logs")
        try:
            a.get(f"{node.base_url}/chat/")
            demo = a.find_element("css selector", "section.demo")
            assert "DEBUG only" in demo.text
            screenshot(a, "chat-sign-in-demo")
            a.find_element("id", "demo-user").send_keys("erin")
            a.find_element("id", "demo-nick").send_keys("Erin")
            a.find_element("css selector", "#demo-form button").click()
            wait_for(lambda: a.find_element("id", "conn").text == "Connected", what="demo sign-in")
            assert "Erin (erin)" in a.find_element("id", "me-name").text
            node.kill()  # the server is gone
            text = wait_for(lambda: a.find_element("id", "status").is_displayed() and a.find_element("id", "status").text,
                            what="lost-server banner")
            assert "Connection to the server lost" in text
            assert a.find_element("id", "conn").text in {"Disconnected", "Connecting…"}
            assert a.find_element("id", "app").is_displayed()  # the chat stays on screen, not a blank page
            screenshot(a, "chat-server-lost")
        finally:
            node.stop()


# ------------------------------------------------------------------ pictures and files
def _png(width: int = 480, height: int = 360) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), (31, 95, 191))
    draw = ImageDraw.Draw(img)
    m = min(width, height) // 8
    draw.rectangle((m, m, width - m, height - m), fill=(255, 191, 71))
    draw.ellipse((width // 3, height // 3, 2 * width // 3, 2 * height // 3), fill=(26, 127, 55))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def attach(drv: Any, *paths: Any) -> None:
    """Pick files with the Attach button's file input, as the file dialog would."""
    drv.find_element("id", "attach-input").send_keys("\n".join(str(p) for p in paths))


def file_links(drv: Any) -> list[Any]:
    return drv.find_elements("css selector", "#message-list li.msg:not(.pending) a.file[href]")


def pictures(drv: Any) -> list[Any]:
    """Thumbnails that have loaded."""
    return [img for img in drv.find_elements("css selector", "#message-list li.msg:not(.pending) a.picture img")
            if int(img.get_attribute("naturalWidth") or 0) > 0]


def failed_upload(drv: Any, name: str) -> Any:
    for li in drv.find_elements("css selector", "#message-list li.msg.pending.failed"):
        if li.find_element("css selector", "p.file-pending").text.startswith(name):
            return li
    return None


def test_pictures_and_files_upload_show_as_thumbnail_and_link_and_download_the_same_bytes(chat_server, pages, tmp_path):
    srv = chat_server
    a, b, c = pages
    ids = srv.users("alice", "bob")
    tok = {n: srv.token(uid) for n, uid in ids.items()}
    srv.send(tok["alice"], ids["bob"], "files coming")
    for drv in (b, c):
        console_errors(drv)  # drain what earlier tests left in the browser logs
    png = _png()
    notes = "shopping list\n- milk\n- bread, ä ö ü\n".encode()
    (tmp_path / "holiday.png").write_bytes(png)
    (tmp_path / "notes.txt").write_bytes(notes)
    open_chat(a, srv.base, tok["alice"])
    open_chat(b, srv.base, tok["bob"])
    open_conversation(a, "Bob")
    open_conversation(b, "Alice")
    wait_texts(b, ["files coming"])
    assert a.find_element("id", "attach").is_enabled()

    attach(a, tmp_path / "holiday.png", tmp_path / "notes.txt")
    # alice's bubbles take their seqs from the acks and show what she sent
    wait_for(lambda: len(pictures(a)) == 1 and len(file_links(a)) == 1, what="alice's own picture and file")
    assert a.find_element("id", "attach").text == "Attach"  # no upload left running

    # bob sees them live: the thumbnail (a signed link of this server), and the file with its size
    wait_for(lambda: len(pictures(b)) == 1 and len(file_links(b)) == 1, what="bob's picture and file link")
    thumb = pictures(b)[0]
    src = thumb.get_attribute("src")
    assert src.startswith(srv.base + "/api/v1/files/") and "/thumbnail?sig=" in src
    assert int(thumb.get_attribute("naturalWidth")) == 320  # the server's thumbnail, not the 480 px picture
    assert thumb.get_attribute("alt") == "holiday.png"
    full = b.find_element("css selector", "a.picture").get_attribute("href")
    assert full.startswith(srv.base) and "/content?sig=" in full
    status, got, headers = _get(full)  # the link needs no header: what a click opens
    assert status == 200 and got == png and headers["Content-Type"] == "image/png"
    link = file_links(b)[0]
    assert link.text == f"File: notes.txt · {len(notes)} B"
    href = link.get_attribute("href")
    status, got, headers = _get(href)
    assert status == 200 and got == notes
    assert headers["Content-Disposition"].startswith("attachment")
    # and fetched in the page itself, under its Content-Security-Policy
    in_page = b.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.arrayBuffer())"
        ".then(buf => done(btoa(String.fromCharCode(...new Uint8Array(buf)))), e => done('error ' + e));",
        href,
    )
    assert base64.b64decode(in_page) == notes
    # the list shows what came last (read inside wait_for: the list re-renders on presence and reads)
    wait_for(lambda: "[File] notes.txt" in b.find_element("css selector", "button.conv .conv-last").text,
             what="the file as the conversation's last message")
    screenshot(b, "chat-files")

    # pulled from history in a fresh window (signed links asked for again)
    open_chat(c, srv.base, tok["bob"])
    open_conversation(c, "Alice")
    wait_for(lambda: len(pictures(c)) == 1 and len(file_links(c)) == 1, what="picture and file from history")
    status, got, _ = _get(file_links(c)[0].get_attribute("href"))
    assert status == 200 and got == notes

    # a file dropped on the conversation is sent too
    a.execute_script(
        "const dt = new DataTransfer();"
        "dt.items.add(new File(['dropped text'], 'dropped.txt', {type: 'text/plain'}));"
        "const view = document.getElementById('chat-view');"
        "view.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));"
        "view.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));"
    )
    wait_for(lambda: any(lk.text.startswith("File: dropped.txt") for lk in file_links(b)), what="the dropped file at bob")
    dropped = next(lk for lk in file_links(b) if lk.text.startswith("File: dropped.txt"))
    assert _get(dropped.get_attribute("href"))[1] == b"dropped text"
    # and a picture pasted into the message box
    a.execute_script(
        "const bytes = Uint8Array.from(atob(arguments[0]), ch => ch.charCodeAt(0));"
        "const dt = new DataTransfer();"
        "dt.items.add(new File([bytes], 'pasted.png', {type: 'image/png'}));"
        "document.getElementById('composer-input').dispatchEvent("
        "  new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));",
        base64.b64encode(_png(40, 30)).decode(),
    )
    wait_for(lambda: len(pictures(b)) == 2, what="the pasted picture at bob")
    # a picture sent while bob is offline shows after his reconnect, from the catch-up pull
    set_offline(b, True)
    wait_for(lambda: "offline" in b.find_element("id", "status").text, what="bob offline")
    (tmp_path / "later.png").write_bytes(_png(200, 100))
    attach(a, tmp_path / "later.png")
    wait_for(lambda: len(pictures(a)) == 3, what="alice's third picture acked")
    set_offline(b, False)
    wait_for(lambda: len(pictures(b)) == 3, what="the picture sent while bob was offline")
    assert [img.get_attribute("alt") for img in pictures(b)] == ["holiday.png", "pasted.png", "later.png"]
    assert console_errors(b) == [] and console_errors(c) == []  # nothing blocked by the page's policy


def test_too_large_and_refused_uploads_show_the_servers_reason(chat_server, pages, tmp_path):
    srv = chat_server
    a, b, _ = pages
    ids = srv.users("alice", "bob")
    tok = {n: srv.token(uid) for n, uid in ids.items()}
    srv.send(tok["alice"], ids["bob"], "about to fail")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (UPLOAD_MAX + 1000))  # over the limit, inside the multipart slack: refused by the view
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"y" * (UPLOAD_MAX + 200_000))  # refused from its Content-Length, before the body is read
    blob = tmp_path / "data.bin"
    blob.write_bytes(bytes(range(256)) * 8)  # application/octet-stream: not in the allowed types here
    open_chat(a, srv.base, tok["alice"])
    open_conversation(a, "Bob")
    wait_texts(a, ["about to fail"])

    attach(a, big)
    li = wait_for(lambda: failed_upload(a, "big.txt"), what="the too-large upload failing")
    assert f"uploads are limited to {UPLOAD_MAX} bytes" in li.text or f"larger than {UPLOAD_MAX} bytes" in li.text
    assert "code 1701" in li.text
    alert = a.find_element("id", "alert")
    assert alert.is_displayed() and "big.txt" in alert.text and "1701" in alert.text
    assert li.find_elements("css selector", "button.retry") == []  # it would only be refused again
    assert li.find_element("css selector", "button.dismiss").is_displayed()
    screenshot(a, "chat-upload-too-large")

    attach(a, huge)
    li = wait_for(lambda: failed_upload(a, "huge.txt"), what="the far too large upload failing")
    assert "Not sent:" in li.text
    assert f"uploads are limited to {UPLOAD_MAX} bytes" in li.text and "code 1701" in li.text

    attach(a, blob)
    li = wait_for(lambda: failed_upload(a, "data.bin"), what="the refused type")
    assert "files of type application/octet-stream are not accepted" in li.text and "code 1001" in li.text
    # a failed upload can be dismissed; nothing reached bob
    li.find_element("css selector", "button.dismiss").click()
    wait_for(lambda: failed_upload(a, "data.bin") is None, what="the dismissed bubble gone")
    assert a.find_element("id", "attach").text == "Attach"
    open_chat(b, srv.base, tok["bob"])
    open_conversation(b, "Alice")
    wait_texts(b, ["about to fail"])
    time.sleep(0.5)
    assert file_links(b) == [] and len(b.find_elements("css selector", "#message-list li.msg")) == 1
