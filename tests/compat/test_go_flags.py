"""The Go original's flags, called as existing cron jobs and systemd units call them.

Each test runs the installed ``pruvon`` console script in a real subprocess
with the argv a Pruvon 0.2.x cron line or unit has (``pruvon -backup daily
-config /etc/pruvon.yml``, ``ExecStart=pruvon -server -config …``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pruvon_core import __version__
from pruvon_core.compat import CompatError, translate

PRUVON = str(Path(sys.executable).with_name("pruvon"))


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRUVON, *argv], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config_on(pruvon_config, port: int) -> Path:
    text = pruvon_config.path.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    pruvon_config.write(text)
    return pruvon_config.path


# --------------------------------------------------------------------------- the mapping
@pytest.mark.parametrize(("argv", "expected"), [
    (["-version"], ["--version"]),
    (["--version"], ["--version"]),  # today's own flag: unchanged, same answer
    (["-check-listen"], ["serve", "--check-listen"]),
    (["-check-listen", "-config", "/etc/p.yml"], ["--config", "/etc/p.yml", "serve",
                                                   "--check-listen"]),
    (["-backup", "auto", "-config", "/etc/p.yml"], ["--config", "/etc/p.yml", "backup", "auto"]),
    (["-backup=daily", "-config=/etc/p.yml"], ["--config", "/etc/p.yml", "backup", "run",
                                               "--rotation", "daily"]),
    (["-config", "/etc/p.yml", "-backup", "weekly"], ["--config", "/etc/p.yml", "backup", "run",
                                                      "--rotation", "weekly"]),
    (["--backup", "monthly"], ["backup", "run", "--rotation", "monthly"]),
    (["-server", "-config", "/etc/p.yml"], ["--config", "/etc/p.yml", "serve"]),
    (["-config", "/etc/p.yml"], ["--config", "/etc/p.yml", "serve"]),  # Go serves by default
    (["-server"], ["serve"]),
    (["-version", "-backup", "daily"], ["--version"]),  # Go's precedence
    (["-check-listen", "-backup", "daily"], ["serve", "--check-listen"]),
])
def test_go_forms_map_onto_todays_subcommands(argv, expected):
    assert translate(argv) == expected


@pytest.mark.parametrize("argv", [
    ["--config", "/etc/p.yml", "serve"], ["apps", "list", "--format", "json"],
    ["serve", "--check-listen"], ["backup", "run", "-h"], [], ["-h"],
])
def test_todays_argv_is_left_alone(argv):
    assert translate(argv) == argv


@pytest.mark.parametrize(("argv", "message"), [
    (["-backup", "hourly"], "invalid backup command: hourly"),
    (["-backup"], "flag needs an argument: -backup"),
    (["-server", "-listen", "x"], "flag provided but not defined: -listen"),
    (["-server", "apps"], "flag provided but not defined: apps"),
])
def test_unrunnable_go_forms_are_refused(argv, message):
    with pytest.raises(CompatError, match=message):
        translate(argv)


# --------------------------------------------------------------------------- as cron/systemd call them
def test_version_flag():
    result = run("-version")
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout


def test_bad_backup_mode_exits_2_without_traceback(pruvon_config):
    result = run("-backup", "hourly", "-config", str(pruvon_config.path))
    assert result.returncode == 2
    assert "invalid backup command: hourly (valid commands: auto, daily, weekly, monthly)" \
        in result.stderr
    assert "Traceback" not in result.stderr


def test_check_listen_on_a_free_port(pruvon_config):
    port = free_port()
    result = run("-check-listen", "-config", str(config_on(pruvon_config, port)))
    assert result.returncode == 0, result.stderr
    assert f"Listen check succeeded for 127.0.0.1:{port}" in result.stdout


def test_check_listen_on_a_taken_port_fails(pruvon_config):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("-check-listen", "-config", str(config_on(pruvon_config, port)))
    assert result.returncode == 1
    assert f"listen check failed: 127.0.0.1:{port} is not available" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_listen_with_an_invalid_config_fails(tmp_path):
    bad = tmp_path / "pruvon.yml"
    bad.write_text("pruvon: [\n")
    bad.chmod(0o600)
    result = run("-check-listen", "-config", str(bad))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_server_flag_serves_the_web_ui(pruvon_config, tmp_path):
    """``ExecStart=/usr/bin/pruvon -server -config /etc/pruvon.yml`` starts the server."""
    port = free_port()
    path = config_on(pruvon_config, port)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([PRUVON, "-server", "-config", str(path)], stdout=log,
                            stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.3)
        # the second instance's pre-start check sees the port taken
        again = run("-check-listen", "-config", str(path))
        assert again.returncode == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
