"""``manage.py check_deployment``: each problem named, exit status 1; clean when all is well.

The all-well case with a real worker and beat runs in test_topology.py; here the bad cases
(embedded settings, an unmigrated database, unreachable services, no worker, no beat) and
the deployment-shaped shipped files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.cluster.conftest import broker_url
from tests.conftest import need_service
from tests.support.processes import ROOT, free_port

DEPLOY = ROOT / "deploy"
PROD = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "DJANGO_SETTINGS_MODULE": "imserver.settings",
    "DEBUG": "0",
    "IM_SECRET": "a-long-random-production-secret",
}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check_deployment", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _line(stdout: str, name: str) -> str:
    return next(line for line in stdout.splitlines() if re.match(rf"^\S+\s+{re.escape(name)}\s", line))


@pytest.mark.django_db
def test_embedded_settings_are_not_a_deployment(capsys, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    with pytest.raises(CommandError, match=r"problem\(s\): .*redis, broker"):
        call_command("check_deployment")
    out = capsys.readouterr().out
    assert _line(out, "database").startswith("ok")  # the test database is migrated
    assert _line(out, "redis").startswith("FAIL") and "REDIS_URL is not set" in out
    assert _line(out, "broker").startswith("FAIL") and "CELERY_BROKER_URL is not set" in out
    assert _line(out, "worker").startswith("skip") and _line(out, "beat").startswith("skip")


def test_a_bad_timeout_is_refused():
    with pytest.raises(CommandError, match="--timeout must be positive"):
        call_command("check_deployment", "--timeout", "0")


def test_an_unmigrated_database_and_unreachable_services_are_each_named(tmp_path):
    dead = free_port()  # nothing listens there
    env = {
        **PROD,
        "IM_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3",
        "REDIS_URL": f"redis://127.0.0.1:{dead}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{dead}/1",
    }
    proc = _run(env, "--timeout", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "migration(s) not applied" in _line(proc.stdout, "database") and "run manage.py migrate" in proc.stdout
    assert _line(proc.stdout, "redis").startswith("FAIL") and "unreachable" in _line(proc.stdout, "redis")
    assert _line(proc.stdout, "broker").startswith("FAIL") and "unreachable" in _line(proc.stdout, "broker")
    assert _line(proc.stdout, "check --deploy").startswith("ok")
    assert "3 problem(s): database, redis, broker" in proc.stderr


def test_check_deploy_warnings_are_reported(tmp_path):
    env = {**PROD, "IM_VAR_DIR": str(tmp_path), "SECURE_SSL_REDIRECT": "0"}
    env.pop("IM_SECRET")
    proc = _run(env)
    assert proc.returncode == 1
    line = _line(proc.stdout, "check --deploy")
    assert line.startswith("FAIL") and "security.W008" in line and "imserver.W001" in line


@pytest.mark.django_db
@pytest.mark.services
def test_no_worker_and_no_beat_are_named_with_real_services(tmp_path, redis_url):
    db_url = os.environ.get("DATABASE_URL", "")
    need_service("MariaDB/MySQL (DATABASE_URL=mysql://...)", db_url.startswith("mysql"))
    test_db = connection.settings_dict["NAME"]  # pytest-django's database: migrated
    env = {
        **PROD,
        "IM_VAR_DIR": str(tmp_path),
        "DATABASE_URL": db_url.rsplit("/", 1)[0] + "/" + test_db,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url(redis_url),
        "IM_CELERY_QUEUE": f"nobody-listens-{os.getpid()}",
        "IM_CACHE_PREFIX": f"nohb{os.getpid()}",
    }
    proc = _run(env, "--timeout", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for name in ("database", "redis", "broker", "check --deploy"):
        assert _line(proc.stdout, name).startswith("ok"), proc.stdout
    assert "no worker" in _line(proc.stdout, "worker") and "nobody-listens" in _line(proc.stdout, "worker")
    assert "no heartbeat recorded" in _line(proc.stdout, "beat")
    assert "2 problem(s): worker, beat" in proc.stderr


def test_the_env_example_sets_only_known_variables():
    from tests.test_project import _settings_knobs

    names = {
        line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    # read by the unit files (and uvicorn)
    unit_only = {"IM_BIND", "FORWARDED_ALLOW_IPS", "IM_HTTP_PORT", "IM_HTTP_WORKERS", "IM_WORKER_CONCURRENCY"}
    assert names - unit_only <= _settings_knobs(), names - unit_only - _settings_knobs()
    assert {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "IM_BEHIND_TLS_PROXY", "DJANGO_SECRET_KEY"} <= names
    units = "".join(p.read_text() for p in (DEPLOY / "systemd").glob("*.service"))
    assert units.count("EnvironmentFile=/etc/imserver/env") == 4
    for name in unit_only - {"FORWARDED_ALLOW_IPS"}:
        assert "${" + name + "}" in units, name


def test_the_nginx_client_body_limit_covers_the_servers_request_limits():
    from django.conf import settings

    conf = (DEPLOY / "nginx" / "imserver.conf").read_text()
    limit = re.search(r"client_max_body_size (\d+)m;", conf)
    assert limit, "client_max_body_size in megabytes"
    # above it the server answers itself (its own error, not nginx's HTML page)
    assert int(limit.group(1)) * 1024 * 1024 >= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_the_shipped_readme_names_every_shipped_file():
    readme = (DEPLOY / "README.md").read_text()
    for path in Path(DEPLOY).rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert path.name in readme, path.name
