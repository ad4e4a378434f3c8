"""A real ``pruvon serve`` (gunicorn) on a free loopback port, for e2e and browser tests."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pruvon_testing.fixtures_config import CONFIG_TEMPLATE, PASSWORDS, _hashes

BIN = Path(sys.executable).parent
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One running server and the files it uses."""

    root: Path
    port: int
    process: subprocess.Popen
    config: Path
    state: Path
    sim: Path
    passwords: dict[str, str] = field(default_factory=lambda: dict(PASSWORDS))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return (self.root / "server.log").read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM, 15)


def stop_process(process: subprocess.Popen, sig: int, timeout: float) -> None:
    """Send ``sig``, then kill what is still running after ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_env(root: Path, sim: Path, state: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUVON_")}
    env.update(
        PRUVON_CONFIG=str(config),
        PRUVON_STATE_DIR=str(state),
        PRUVON_SIM_ROOT=str(sim),
        PRUVON_DOKKU_COMMAND=str(BIN / "pruvon-dokku-sim"),
        PRUVON_DOCKER_COMMAND=str(BIN / "pruvon-docker-sim"),
    )
    return env


def wait_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"pruvon serve exited {server.process.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"pruvon serve not ready in {timeout} s:\n{server.output()}")


def start_server(root: Path, extra_args: tuple[str, ...] = (), extra_config: str = "") -> Server:
    """Write the fixture config (plus ``extra_config``), then run ``pruvon … serve --listen …``."""
    root.mkdir(parents=True, exist_ok=True)
    sim, state = root / "sim", root / "state"
    sim.mkdir()
    state.mkdir(mode=0o700)
    config = root / "pruvon.yml"
    config.write_text(CONFIG_TEMPLATE.format(**_hashes()) + extra_config, encoding="utf-8")
    os.chmod(config, 0o600)
    port = free_port()
    log = open(root / "server.log", "wb")  # noqa: SIM115 - owned by the process for its life
    process = subprocess.Popen(
        [str(BIN / "pruvon"), "--config", str(config), "serve", "--listen",
         f"127.0.0.1:{port}", "--threads", "8", *extra_args],
        env=server_env(root, sim, state, config), stdout=log, stderr=subprocess.STDOUT,
    )
    server = Server(root=root, port=port, process=process, config=config, state=state, sim=sim)
    wait_ready(server)
    return server


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """A tiny cookie-keeping HTTP client (stdlib only) for the e2e tests."""

    def __init__(self, base: str, context: ssl.SSLContext | None = None) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect(),
            urllib.request.HTTPSHandler(context=context),
        )

    def request(self, path: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=20) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def csrf(self, path: str = "/login") -> str:
        match = CSRF_RE.search(self.request(path)[2])
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str, password: str) -> int:
        token = self.csrf("/login")
        status, _, _ = self.request(
            "/login", {"username": username, "password": password, "csrf_token": token})
        return status

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def socket_closes(ws: Any, marker: str, timeout: float = 15.0) -> bool:
    """Whether ``ws`` is closed (or sends a frame holding ``marker``) within ``timeout`` s."""
    import websocket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = ws.recv()
        except websocket.WebSocketConnectionClosedException:
            return True
        if frame == "" or marker in str(frame):
            return True
    return False
