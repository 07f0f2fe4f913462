#!/usr/bin/env python
"""Take PNG screenshots of the operator console in headless Chromium.

By default this starts its own server on a free port over a throw-away SQLite database,
fills it with demo data, logs in as a demo operator, revokes a message through the
moderation view, and saves:

    docs/screenshots/dashboard.png                the dashboard
    docs/screenshots/moderation-conversation.png  a conversation read as a chat, with a revoked message
    docs/screenshots/moderation-revoke.png        the revoke confirmation (reason) page
    docs/screenshots/moderation-list.png          the message search list

With ``--url`` it uses a running server instead (give ``--user``/``--password`` of an operator
and ``--conversation`` to show); nothing is created there and nothing is revoked.

Needs Chromium and its driver (Debian: ``apt-get install -y chromium chromium-driver``) and
selenium (requirements-dev.txt). No network access is used.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "screenshots"
CHROME_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
)
DEMO_CONVERSATION = "sg_hikers"


# ----------------------------------------------------------------- demo server
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(var_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update({
        "IM_VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "imserver.settings",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    })
    return env


def seed() -> None:
    """Demo data (run inside the server's environment): users, a group chat, 14 days of history."""
    import django

    django.setup()
    import random
    import uuid
    from datetime import UTC, datetime, timedelta

    from apps.accounts.models import User
    from apps.groups import services as groups
    from apps.messaging import services as messaging
    from apps.messaging.models import Conversation, Message

    rng = random.Random(7)
    operator = User.objects.create_superuser("operator", os.environ["DEMO_PASSWORD"], nickname="Operator")
    names = {"alice": "Alice", "bob": "Bob", "carol": "Carol", "dave": "Dave", "erin": "Erin", "spammer": "Deals4U"}
    users = {uid: User.objects.create_user(uid, nickname=nick) for uid, nick in names.items()}
    for i in range(40):
        User.objects.create_user(f"user{i:03d}", nickname=f"User {i}")
    User.objects.filter(user_id="user007").update(is_banned=True, banned_reason="fraud")
    groups.group_create(owner=users["alice"], name="Weekend hikers", group_id="hikers",
                        member_ids=["carol", "dave", "erin", "spammer"], admin_ids=["bob"])
    groups.group_create(owner=users["carol"], name="Book club", member_ids=["alice", "erin"], admin_ids=[])
    lines = [
        ("alice", "Morning all! Saturday's hike is on: Blue Ridge loop, 14 km."),
        ("bob", "Great. Meeting point at the north car park, 8:30?"),
        ("carol", "I'll bring the first-aid kit and spare water."),
        ("spammer", "CHEAP WATCHES!!! 90% off at deals-4-u.example — click now!!!"),
        ("dave", "Can someone give me a lift from the station?"),
        ("erin", "Dave, I pass by the station at 8:00, I'll pick you up."),
        ("alice", "Forecast says light rain after 2 pm, pack a jacket."),
        ("spammer", "Earn $5000/week from home, DM me for the secret method"),
        ("bob", "Map and GPX track are pinned in the group notice."),
        ("carol", "See you Saturday!"),
    ]
    for sender, text in lines:
        messaging.message_send(send_id=sender, session_type=3, group_id="hikers", content_type=101,
                               content={"content": text}, client_msg_id=uuid.uuid4().hex)
    messaging.message_send(send_id="alice", session_type=1, recv_id="bob", content_type=101,
                           content={"content": "Thanks for organising!"}, client_msg_id=uuid.uuid4().hex)
    # 14 days of history for the chart (older rows, as if sent on those days)
    cid, now = "si_dave_erin", datetime.now(UTC)
    rows, seq = [], 0
    for back in range(13, -1, -1):
        day = (now - timedelta(days=back)).replace(hour=9, minute=0, second=0, microsecond=0)
        count = int(60 + 45 * (1 + (back % 7 in (1, 2))) + rng.randint(0, 60))
        for _ in range(count):
            seq += 1
            sender, recv = ("dave", "erin") if seq % 2 else ("erin", "dave")
            sent = day + timedelta(seconds=rng.randint(0, 12 * 3600))
            rows.append(Message(server_msg_id=uuid.uuid4().hex, client_msg_id=uuid.uuid4().hex, conversation_id=cid,
                                seq=seq, send_id=sender, recv_id=recv, session_type=1, content_type=101,
                                content={"content": f"message {seq}"}, send_time=int(sent.timestamp() * 1000)))
    Message.objects.bulk_create(rows, batch_size=500)
    Conversation.objects.update_or_create(
        conversation_id=cid,
        defaults={"session_type": 1, "user_a": "dave", "user_b": "erin", "max_seq": seq,
                  "last_msg_time": rows[-1].send_time},
    )
    print(f"seeded: operator={operator.user_id}, {len(rows) + len(lines) + 1} messages")


class DemoServer:
    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="imshots-")
        self.port = _free_port()
        self.password = secrets.token_urlsafe(12)
        self.env = _server_env(self.tmp.name)
        self.env["DEMO_PASSWORD"] = self.password
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DemoServer:
        py = sys.executable
        subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True)  # noqa: S603
        subprocess.run([py, str(Path(__file__).resolve()), "_seed"], cwd=ROOT, env=self.env, check=True)  # noqa: S603
        self.proc = subprocess.Popen(  # noqa: S603 (fixed argv)
            [py, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "imserver.asgi:application"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):  # noqa: S310 (local URL)
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("the server exited: " + (self.proc.stderr.read() or b"").decode()[-2000:]) from None
                time.sleep(0.3)
        raise RuntimeError("the server did not start within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.tmp.cleanup()


# --------------------------------------------------------------------- browser
def _browser(width: int, height: int):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def _shoot(driver, path: Path, width: int, max_height: int = 3000) -> None:  # type: ignore[no-untyped-def]
    """A full-page PNG: the viewport is stretched to the page's height first."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": min(int(height), max_height), "deviceScaleFactor": 1,
                            "mobile": False})
    time.sleep(0.2)
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def take(url: str, user: str, password: str, out: Path, conversation: str, revoke_demo: bool, width: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(width, 900)
    try:
        driver.get(f"{url}/admin/login/")
        driver.find_element(By.NAME, "username").send_keys(user)
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        if "/admin/login/" in driver.current_url:
            raise RuntimeError("login failed: check --user and --password")
        # the navigation sidebar takes a third of the width: keep it folded in the pictures
        driver.execute_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        driver.get(f"{url}/admin/dashboard/")
        _shoot(driver, out / "dashboard.png", width)
        chat = f"{url}/admin/messaging/message/conversation/{conversation}/"
        if revoke_demo:
            driver.get(chat)
            bubbles = driver.find_elements(By.CSS_SELECTOR, ".msg")
            spam = [b for b in bubbles if "Deals4U" in b.text]
            for bubble in spam[:1]:
                bubble.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
            driver.find_element(By.CSS_SELECTOR, ".chat-actions input[type=submit]").click()
            driver.find_element(By.NAME, "reason").send_keys("Spam: advertising links in a group chat")
            _shoot(driver, out / "moderation-revoke.png", width)
            driver.find_element(By.CSS_SELECTOR, "form input[type=submit].default").click()
            WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "ul.messagelist"))
        driver.get(chat)
        _shoot(driver, out / "moderation-conversation.png", width)
        driver.get(f"{url}/admin/messaging/message/?group_id=hikers")
        _shoot(driver, out / "moderation-list.png", max(width, 1600))
    finally:
        driver.quit()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_seed":
        sys.path.insert(0, str(ROOT))
        seed()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="use this running server (e.g. http://127.0.0.1:8000) instead of a demo one")
    parser.add_argument("--user", help="operator user id (with --url)")
    parser.add_argument("--password", help="operator password (with --url)")
    parser.add_argument("--conversation", default=DEMO_CONVERSATION, help="conversation to show (default sg_hikers)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs (default docs/screenshots)")
    parser.add_argument("--width", type=int, default=1366)
    args = parser.parse_args()
    if args.url:
        if not (args.user and args.password):
            parser.error("--url needs --user and --password")
        take(args.url.rstrip("/"), args.user, args.password, args.out, args.conversation, False, args.width)
        return 0
    with DemoServer() as server:
        take(server.url, "operator", server.password, args.out, args.conversation, True, args.width)
    return 0


if __name__ == "__main__":
    sys.exit(main())
