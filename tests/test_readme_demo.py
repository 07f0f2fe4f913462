"""The README's websocket tour works against a real server process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.processes import ROOT, live_database, processes, server_env, start_asgi_node


@pytest.mark.slow
def test_chat_demo_script_round_trip(tmp_path):
    with live_database(tmp_path) as db_url, processes() as procs:
        env = server_env({"DATABASE_URL": db_url, "IM_VAR_DIR": str(tmp_path / "var"), "IM_SECRET": "demo-secret-123456"})
        node = start_asgi_node("node", env, tmp_path / "logs")
        procs.append(node)
        run = subprocess.run(
            [sys.executable, "scripts/chat_demo.py", "--base", node.base_url, "--secret", "demo-secret-123456"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert run.returncode == 0, run.stdout + run.stderr + node.log()
        assert "bob's push: push.msg {'content': 'hello bob'} seq 1" in run.stdout
        assert "bob pulls 1 message(s), is_end = True" in run.stdout
