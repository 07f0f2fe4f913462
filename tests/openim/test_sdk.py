"""Two real, unmodified ``@openim/client-sdk`` 0.0.14 instances in Node against a real server process.

The driver (tests/openim/js/drive.mjs) runs the whole flow and prints one ``STEP … ok``
line per proven behaviour; this test starts the server, runs the driver, requires every
step, and then checks on the server side what the SDK's read mark and messages left
behind. ``npm ci`` in tests/openim/js installs the pinned SDK (``.ci/run`` does it and sets
``IM_REQUIRE_OPENIM_SDK=1``, so there the test runs or fails, never skips).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import live_database, processes, server_env, start_asgi_node

pytestmark = pytest.mark.slow

JS = Path(__file__).resolve().parent / "js"
SECRET = "openim-sdk-secret-0123456789"
STEPS = [
    "bootstrap",
    "login and initial sync",
    "heartbeat",
    "1:1 both ways",
    "mark as read",
    "offline messages and unread count at next login",
    "dropped connection catches up on reconnect",
    "group created (OnJoinedGroupAdded), group message received, member invited (OnGroupMemberAdded)",
    "friend application and acceptance raise friend events",
    "native user and OpenIM SDK user chat",
    "force logout reported as kicked",
]


def _need_sdk() -> str:
    node = shutil.which("node")
    installed = (JS / "node_modules" / "@openim" / "client-sdk" / "package.json").is_file()
    if node and installed:
        return node
    why = "node is not installed" if not node else "run `npm ci` in tests/openim/js"
    if os.environ.get("IM_REQUIRE_OPENIM_SDK", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"the OpenIM SDK test is required (IM_REQUIRE_OPENIM_SDK=1): {why}")
    pytest.skip(why)


def _post(base: str, path: str, body: dict, token: str) -> dict:
    req = urllib.request.Request(  # noqa: S310 - loopback
        base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "operationID": "check", "token": token},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


@pytest.mark.timeout(420)
def test_two_unmodified_openim_sdks_and_a_native_client_chat_through_imserver(tmp_path):
    node = _need_sdk()
    with live_database(tmp_path) as db_url, processes() as procs:
        env = server_env({"DATABASE_URL": db_url, "IM_SECRET": SECRET, "IM_ADMIN_USER_IDS": "imAdmin",
                          "IM_VAR_DIR": str(tmp_path / "var"), "IM_CHANNEL_PREFIX": f"oim{tmp_path.name[-6:]}",
                          "IM_CACHE_PREFIX": f"oim{tmp_path.name[-6:]}",
                          # group fan-out runs in the server process: this test starts no Celery worker
                          "CELERY_BROKER_URL": ""})
        server = start_asgi_node("daphne", env, tmp_path / "logs")
        procs.append(server)
        base = server.base_url
        run_id = tmp_path.name[-6:].replace("_", "").lower()
        drive_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", str(tmp_path)),
                     "OPENIM_API": f"{base}/openim", "OPENIM_WS": f"{base.replace('http', 'ws')}/openim/ws",
                     "IM_BASE": base, "IM_SECRET": SECRET, "IM_ADMIN": "imAdmin", "RUN_ID": run_id}
        proc = subprocess.run([node, "drive.mjs"], cwd=JS, env=drive_env, capture_output=True, text=True,
                              timeout=240)
        out = proc.stdout + proc.stderr
        try:
            assert proc.returncode == 0, out[-8000:]
            for step in STEPS:
                assert f"STEP {step} ok" in out, f"missing step {step!r}:\n{out[-8000:]}"
            assert "ALL OK" in out
            assert "NOTE unhandled rejections" not in out, out[-8000:]  # no server reply made the SDK throw
            # server side: the SDK's read mark and its messages are stored like any other
            admin = _post(base, "/openim/auth/get_admin_token", {"secret": SECRET, "userID": "imAdmin"}, "")
            token = admin["data"]["token"]
            alice, bob = f"alice{run_id}", f"bob{run_id}"
            seqs = _post(base, "/openim/msg/get_conversations_has_read_and_max_seq",
                         {"userID": alice, "conversationIDs": []}, token)["data"]["seqs"]
            single = seqs[f"si_{alice}_{bob}"]
            # six texts, then the friend application and acceptance tips
            assert single["maxSeq"] == 8
            assert single["hasReadSeq"] >= 6  # her read mark, then her own sends moved it along
            pulled = _post(base, "/openim/msg/pull_msg_by_seq", {"userID": alice, "seqRanges": [
                {"conversationID": f"si_{alice}_{bob}", "begin": 1, "end": 8, "num": 10}]}, token)["data"]
            msgs = pulled["msgs"][f"si_{alice}_{bob}"]["Msgs"]
            assert [m["seq"] for m in msgs] == list(range(1, 9))
            sent = [json.loads(base64.b64decode(m["content"]))["content"] for m in msgs if m["contentType"] == 101]
            assert sent == ["hello bob", "hello alice", "one more", "offline 1", "offline 2", "while you were away"]
            assert [m["contentType"] for m in msgs[6:]] == [1203, 1201]
        except AssertionError:
            print(server.log())
            raise
