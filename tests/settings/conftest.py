"""Fixtures for the host pages: a recorded simulator, SSH keys, a stand-in for GitHub."""

from __future__ import annotations

import http.server
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.fixtures_web import signer, use_simulator

SIM = Path(sys.executable).parent / "pruvon-dokku-sim"


@pytest.fixture
def sim_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_simulator(tmp_path / "sim", monkeypatch)


@pytest.fixture
def dokku_log(tmp_path: Path, sim_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every ``dokku`` argv Pruvon runs, one per line (the simulator behind a recorder)."""
    log = tmp_path / "dokku-calls.log"
    log.touch()
    wrapper = tmp_path / "recording-dokku"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{SIM}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(wrapper))
    return log


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines()


def writes(log: Path) -> list[str]:
    """The calls that change something (every read of the pages is a report or list)."""
    reads = ("ssh-keys:list", "domains:report", "cron:report", "plugin:list", "version",
             "letsencrypt:report", "letsencrypt:list", "letsencrypt:cron-job", "app-json:report",
             "ps:report", "apps:list")
    return [c for c in calls(log) if not c.startswith(reads) or c == "letsencrypt:cron-job --add"
            or c == "letsencrypt:cron-job --remove"]


def make_key(tmp_path: Path, kind: str = "ed25519", bits: str | None = None,
             comment: str = "me@host") -> tuple[str, str]:
    """A fresh public key line and ``ssh-keygen -lf``'s fingerprint of it."""
    path = tmp_path / f"key-{kind}-{bits}-{len(list(tmp_path.glob('key-*')))}"
    args = ["ssh-keygen", "-q", "-N", "", "-C", comment, "-t", kind, "-f", str(path)]
    subprocess.run(args + (["-b", bits] if bits else []), check=True)
    line = Path(f"{path}.pub").read_text().strip()
    fp = subprocess.run(["ssh-keygen", "-lf", f"{path}.pub"], capture_output=True, text=True,
                        check=True).stdout.split()[1]
    return line, fp


class KeysServer:
    """A local HTTP server standing in for ``https://github.com/<user>.keys``."""

    def __init__(self) -> None:
        self.keys: dict[str, list[str]] = {}
        self.status: dict[str, int] = {}
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                user = self.path.lstrip("/").removesuffix(".keys")
                code = owner.status.get(user, 200 if user in owner.keys else 404)
                body = "\n".join(owner.keys.get(user, [])).encode() + b"\n"
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github(pruvon_config: Any) -> Iterator[KeysServer]:
    """The stand-in server, and the config pointing at it: alice is GitHub user ``alice-gh``."""
    server = KeysServer()
    text = pruvon_config.path.read_text()
    text = text.replace("  - username: alice\n", "  - username: alice\n    github:\n"
                        "      username: alice-gh\n", 1)
    text = text.replace("  - username: dave\n", "  - username: dave\n    github:\n"
                        "      username: dave-gh\n", 1)
    text += f"\ngithub:\n  keys_url: {server.url}\n"
    pruvon_config.write(text)
    yield server
    server.close()


@pytest.fixture
def web(pruvon_config: Any, sim_root: Path) -> Any:
    from pruvon_web.app import create_app

    app = create_app(pruvon_config.path, state_dir=pruvon_config.state_dir)
    app.testing = False
    return app.test_client()


@pytest.fixture
def login_as(web: Any, pruvon_config: Any) -> Any:
    """``login_as("alice")`` signs the client in and returns a CSRF token."""
    return signer(web, pruvon_config)
