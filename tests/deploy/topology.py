"""The shipped deployment (deploy/), run for real in a temp dir.

``render_nginx`` turns deploy/nginx/imserver.conf into a configuration nginx can run
as an ordinary process: the same file with only its host-specific values replaced
(ports, node addresses, certificate, log and static paths), each replacement checked so
an edit of the shipped file that a test no longer covers fails loudly. ``unit_argv``
reads a systemd unit's ``ExecStart`` and expands it like systemd would.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.processes import ROOT

DEPLOY = ROOT / "deploy"
SHIPPED_PYTHON = "/opt/imserver/.venv/bin/python"


def _replace(text: str, pattern: str, repl: str, *, count: int) -> str:
    new, n = re.subn(pattern, repl, text)
    assert n == count, f"deploy/nginx/imserver.conf: expected {count} match(es) of {pattern!r}, found {n}"
    return new


def _upstream(site: str, name: str, ports: list[int], shipped: int) -> str:
    """Point the shipped ``upstream <name>`` block (``shipped`` server lines) at ``ports``."""
    block = re.search(rf"(?ms)^upstream {name} {{\n.*?^}}\n", site)
    assert block, f"deploy/nginx/imserver.conf: no upstream {name}"
    lines = re.findall(r"^    server 127\.0\.0\.1:\d+ ([^\n]*);$", block.group(0), flags=re.M)
    assert len(lines) == shipped, f"the shipped upstream {name} lists {shipped} server(s)"
    servers = "".join(f"    server 127.0.0.1:{port} {lines[0]};\n" for port in ports)
    new = _replace(block.group(0), r"(?m)^    server 127\.0\.0\.1:\d+ [^\n]*;\n(?:    server 127\.0\.0\.1:\d+ [^\n]*;\n)*",
                   servers, count=1)
    return site.replace(block.group(0), new)


def render_nginx(
    tmp: Path, *, https_port: int, http_port: int, node_ports: list[int], http_ports: list[int], static_root: Path,
    cert: Path, key: Path,
) -> Path:
    """Write ``tmp/nginx.conf`` (main file + the shipped site) and return its path: websockets
    to ``node_ports`` (the gateway nodes), everything else to ``http_ports`` (the HTTP unit)."""
    site = (DEPLOY / "nginx" / "imserver.conf").read_text()
    site = _upstream(site, "imserver_nodes", node_ports, shipped=2)
    site = _upstream(site, "imserver_http", http_ports, shipped=1)
    site = _replace(site, r"listen 80;", f"listen 127.0.0.1:{http_port};", count=1)
    site = _replace(site, r"listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;", count=1)
    site = _replace(site, r"\n *listen \[::\]:(80|443)[^;]*;", "", count=2)
    site = _replace(site, r"/etc/ssl/imserver/fullchain\.pem", str(cert), count=1)
    site = _replace(site, r"/etc/ssl/imserver/privkey\.pem", str(key), count=1)
    site = _replace(site, r"/var/log/nginx/", f"{tmp}/logs/", count=2)
    site = _replace(site, r"alias /var/lib/imserver/static/;", f"alias {static_root}/;", count=1)
    site = _replace(site, r"root /var/www/letsencrypt;", f"root {tmp}/acme;", count=1)
    (tmp / "logs").mkdir(parents=True, exist_ok=True)
    (tmp / "temp").mkdir(exist_ok=True)
    temp = "\n".join(f"    {kind}_temp_path {tmp}/temp/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = f"""
{'user root;' if os.geteuid() == 0 else ''}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/logs/error.log info;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {tmp}/logs/access.log;
{temp}
{site}
}}
"""
    path = tmp / "nginx.conf"
    path.write_text(conf)
    return path


def self_signed_certificate(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made with openssl; (cert, key)."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def unit_environment(unit: str) -> dict[str, str]:
    """The defaults a unit sets with ``Environment=`` (the environment file overrides them)."""
    env: dict[str, str] = {}
    for line in (DEPLOY / "systemd" / unit).read_text().splitlines():
        if line.startswith("Environment="):
            for item in shlex.split(line.removeprefix("Environment=")):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def unit_argv(unit: str, instance: str, env: dict[str, str]) -> list[str]:
    """A unit's ``ExecStart`` as systemd would run it: ``%i``, ``%H`` and ``${VAR}`` expanded."""
    text = (DEPLOY / "systemd" / unit).read_text()
    lines = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1, f"{unit}: one ExecStart"
    command = lines[0].removeprefix("ExecStart=").replace("%i", instance).replace("%H", socket.gethostname())
    command = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], command)
    argv = shlex.split(command)
    assert argv[0] == SHIPPED_PYTHON, f"{unit}: runs the deployment's virtualenv"
    return [sys.executable, *argv[1:]]


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")
