"""Project-level guarantees: schema, deploy checks, health, static admin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_openapi_schema_is_valid_and_warning_free(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/auth/admin-token" in text
    assert "bearerAuth" in text


def test_schema_and_swagger_ui_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_check_deploy_is_clean_with_debug_off_and_env_set(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "IM_SECRET": "a-long-random-production-secret",
        "IM_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "imserver.settings",
    }
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_check_deploy_warns_about_the_default_app_secret(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "0", "IM_VAR_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert "imserver.W001" in proc.stdout + proc.stderr


@pytest.mark.django_db
def test_bootstrap_creates_operator_and_admin_users(capsys):
    from apps.accounts.models import User

    call_command("im_bootstrap", "--port", "9999")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:9999/admin/" in out
    assert "/api/docs/" in out
    assert User.objects.filter(user_id="operator", is_superuser=True).exists()
    assert User.objects.get(user_id="imAdmin").is_app_admin
    call_command("im_bootstrap")  # idempotent: no second operator
    assert User.objects.filter(is_superuser=True).count() == 1


@pytest.mark.django_db
def test_bootstrap_says_how_to_log_in_on_every_run(capsys):
    call_command("im_bootstrap")
    first = capsys.readouterr().out
    assert "operator login: operator / " in first
    call_command("im_bootstrap")
    second = capsys.readouterr().out
    assert "operator login: operator, with the password shown at the first run" in second
    assert "manage.py changepassword operator" in second


def test_chat_demo_without_a_server_prints_one_line_and_fails():
    from tests.support.processes import free_port

    run = subprocess.run(
        [sys.executable, "scripts/chat_demo.py", "--base", f"http://127.0.0.1:{free_port()}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode != 0
    assert "Traceback" not in run.stderr + run.stdout
    lines = (run.stderr + run.stdout).strip().splitlines()
    assert len(lines) == 1 and "cannot reach the imserver" in lines[0], lines


def _settings_knobs() -> set[str]:
    import re

    text = (ROOT / "imserver" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|float|list)\(\s*"([A-Z0-9_]+)"', text))


def _readme_knobs() -> set[str]:
    import re

    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]{2,})`", row.split("|")[1])}


def test_every_settings_knob_is_in_the_readme_table_and_back():
    knobs, documented = _settings_knobs(), _readme_knobs()
    assert len(knobs) > 30
    assert knobs - documented == set(), "knobs missing from the README configuration table"
    assert documented - knobs == set(), "README lists variables that settings.py does not read"
