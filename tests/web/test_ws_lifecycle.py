"""WebSocket lifecycle through the real ``pruvon serve`` (gunicorn gthread, one worker).

* A socket the server has finished must not stall the worker: gunicorn closes
  finished connections on its main thread and lingers up to 2 s for the
  client's FIN, so every socket is released in its own handler thread.
* Frames are bounded (``SOCK_SERVER_OPTIONS.max_message_size``).
* An open socket ends on everything that ends a web session: logout of that
  session, a rotated signing key, the session's maximum age.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import websocket

from pruvon_testing.sim.core import SimState
from tests.apps.conftest import sim
from tests.web.server import Browser, Server, start_server

pytestmark = pytest.mark.e2e

STALL_BOUND = 1.0  # seconds; gunicorn's linger is 2 s, a normal /healthz takes milliseconds


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("ws-lifecycle"))
    sim(running.sim, "apps:create", "blog")
    sim(running.sim, "git:from-image", "blog", "example/web:1")
    SimState(running.sim).set_knobs(log_traffic_interval=0.2)
    yield running
    running.stop()


def signed_in(server: Server, user: str) -> Browser:
    browser = Browser(server.url)
    assert browser.login(user, server.passwords[user]) == 302
    return browser


def connect(server: Server, path: str, cookie: str) -> websocket.WebSocket:
    return websocket.create_connection(f"ws://127.0.0.1:{server.port}{path}",
                                       origin=server.url, cookie=cookie, timeout=15)


@contextlib.contextmanager
def disabled(server: Server, user: str) -> Iterator[None]:
    """Mark ``user`` disabled in the config for the block (the server re-reads it)."""
    original = server.config.read_text()
    anchor = f"  - username: {user}\n"
    assert anchor in original
    server.config.write_text(original.replace(anchor, anchor + "    disabled: true\n", 1))
    try:
        yield
    finally:
        server.config.write_text(original)


def error_frame(ws: websocket.WebSocket, deadline: float = 10.0) -> dict[str, Any]:
    """The next JSON error frame, skipping log lines and pongs sent before it."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        frame = ws.recv()
        with contextlib.suppress(ValueError):
            message = json.loads(frame)
            if isinstance(message, dict) and message.get("type") == "error":
                return message
    pytest.fail("no error frame")


def slowest_request(server: Server, window: float = 2.5) -> float:
    """The longest /healthz round trip over ``window`` seconds of back-to-back requests."""
    slowest = 0.0
    end = time.monotonic() + window
    while time.monotonic() < end:
        started = time.monotonic()
        with urllib.request.urlopen(server.url + "/healthz", timeout=10) as response:
            assert response.status == 200
        slowest = max(slowest, time.monotonic() - started)
    return slowest


# --------------------------------------------------------------------------- release
def finished_logs(server: Server) -> websocket.WebSocket:
    ws = connect(server, "/ws/apps/no-such-app/logs", signed_in(server, "admin").cookie_header())
    assert "does not exist" in error_frame(ws)["error"]
    return ws


def finished_ping(server: Server) -> websocket.WebSocket:
    ws = connect(server, "/ws/ping", signed_in(server, "victor").cookie_header())
    ws.send("ping")
    assert json.loads(ws.recv())["type"] == "pong"  # authorized before the config changes
    with disabled(server, "victor"):
        ws.send("ping")
        assert error_frame(ws)["error"] == "your access was revoked"
    return ws


def finished_create(server: Server) -> websocket.WebSocket:
    """The create socket re-checks every 2 s: retry until it notices, as a form would."""
    ws = connect(server, "/ws/apps/create", signed_in(server, "alice").cookie_header())
    ws.send(json.dumps({"type": "nothing"}))
    assert "send {" in error_frame(ws)["error"]  # authorized before the config changes
    with disabled(server, "alice"):
        end = time.monotonic() + 10
        while time.monotonic() < end:
            ws.send(json.dumps({"type": "create"}))
            if error_frame(ws)["error"] == "your access was revoked":
                return ws
            time.sleep(0.5)
    pytest.fail("the create socket stayed open for a disabled user")


@pytest.mark.parametrize("finish", [finished_logs, finished_ping, finished_create],
                         ids=["logs", "ping", "create"])
def test_a_finished_socket_the_client_never_closes_does_not_stall_the_worker(server, finish):
    ws = finish(server)  # the server has closed its side; this client stays silent
    try:
        slowest = slowest_request(server)
    finally:
        ws.sock.close()
    assert slowest < STALL_BOUND, f"a plain request waited {slowest:.2f} s behind the socket"


# --------------------------------------------------------------------------- frame size
def test_a_frame_over_one_mebibyte_closes_the_socket(server):
    ws = connect(server, "/ws/ping", signed_in(server, "admin").cookie_header())
    ws.send("x" * 1000)
    assert json.loads(ws.recv())["type"] == "pong"
    ws.send("x" * ((1 << 20) + 1))
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(data[:2], "big") == 1009  # RFC 6455: message too big
    ws.close()


# --------------------------------------------------------------------------- revalidation
def test_logout_closes_that_sessions_ping_socket(server):
    browser = signed_in(server, "admin")
    ws = connect(server, "/ws/ping", browser.cookie_header())
    ws.send("ping")
    assert json.loads(ws.recv())["type"] == "pong"
    assert browser.request("/logout", {"csrf_token": browser.csrf("/")})[0] == 302
    ws.send("ping")
    assert error_frame(ws)["error"] == "this session was signed out"
    ws.close()


def test_logout_closes_that_sessions_log_socket(server):
    browser = signed_in(server, "admin")
    ws = connect(server, "/ws/apps/blog/logs", browser.cookie_header())
    assert ws.recv()  # following
    assert browser.request("/logout", {"csrf_token": browser.csrf("/")})[0] == 302
    assert error_frame(ws)["error"] == "this session was signed out"
    ws.close()


def test_secret_rotation_closes_an_open_ping_socket(server):
    from pruvon_auth.sessions import rotate_session_secret

    ws = connect(server, "/ws/ping", signed_in(server, "admin").cookie_header())
    ws.send("ping")
    assert json.loads(ws.recv())["type"] == "pong"  # the handler is watching
    rotate_session_secret(server.state)
    ws.send("ping")
    assert "rotated" in error_frame(ws)["error"]
    ws.close()


def aged_cookie(server: Server, cookie: str, age: int) -> str:
    """``cookie`` re-signed with the server's key as if the session began ``age`` s ago."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface
    from pruvon_auth.sessions import session_secret

    app = Flask("aged")
    app.secret_key = session_secret(server.state)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    name, _, value = cookie.partition("=")
    data = serializer.loads(value)
    data["created"] = int(time.time()) - age
    return f"{name}={serializer.dumps(data)}"


def test_session_maximum_age_closes_an_open_ping_socket(server):
    limit = 12 * 3600  # the default security.session_max_hours
    cookie = aged_cookie(server, signed_in(server, "admin").cookie_header(), limit - 3)
    ws = connect(server, "/ws/ping", cookie)  # still 3 s short of the limit
    ws.send("ping")
    assert json.loads(ws.recv())["type"] == "pong"
    time.sleep(4.2)
    ws.send("ping")
    assert "maximum age" in error_frame(ws)["error"]
    ws.close()
