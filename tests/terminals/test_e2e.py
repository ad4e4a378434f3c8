"""Terminals end to end: real ``pruvon serve`` (gunicorn), real PTYs, real WebSocket clients."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from tests.terminals.conftest import Term, open_term, session_pids, zombie_children
from tests.web.server import BIN, Browser, Server, server_env

pytestmark = pytest.mark.e2e


def login(server: Server, user: str) -> str:
    browser = Browser(server.url)
    assert browser.login(user, server.passwords[user]) == 302
    return browser.cookie_header()


@contextlib.contextmanager
def terminals_config(server: Server, text: str) -> Iterator[None]:
    """Append a ``terminals:`` section (the server re-reads the file per request)."""
    original = server.config.read_text()
    server.config.write_text(original + "terminals:\n" + text)
    try:
        yield
    finally:
        server.config.write_text(original)


def registry_entries(server: Server) -> list[dict]:
    return [json.loads(p.read_text()) for p in (server.state / "terminals").glob("*.json")]


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def shell(server: Server, user: str = "admin", query: str = "shell=/bin/sh") -> Term:
    term = open_term(server, login(server, user), f"/ws/apps/blog/terminal?{query}")
    term.status("ready")
    return term


def test_type_a_command_and_read_its_output(server):
    term = shell(server, query="cols=100&rows=30")
    assert term.statuses[0]["target"] == "enter blog web /bin/bash"
    term.send("echo hello-$((40+2)) $DYNO\r")
    assert b"hello-42 web.1" in term.expect(b"hello-42 web.1")
    term.send("exit 3\r")
    assert term.status("exited") == {"type": "exited", "code": 3}


def test_resize_changes_stty_size_and_is_clamped(server):
    term = shell(server)
    term.control({"type": "resize", "cols": 132, "rows": 40})
    term.send("stty size\r")
    term.expect(b"40 132")
    term.control({"type": "resize", "cols": 100000, "rows": -5})
    term.send("stty size\r")
    term.expect(b"1 500")
    term.control({"type": "resize", "cols": "$(id)", "rows": 3})
    assert term.status("error")["error"] == "cols must be a number"
    term.send("echo still-here\r")
    term.expect(b"still-here")
    term.close()


def test_control_messages_cannot_touch_the_environment(server):
    term = shell(server)
    for message in ({"type": "env", "name": "INJECTED", "value": "1"},
                    {"type": "resize", "cols": 80, "rows": 24, "env": {"INJECTED": "1"}}):
        term.control(message)
    term.ws.send("not json")
    term.send("echo [${INJECTED:-unset}]\r")
    term.expect(b"[unset]")
    errors = [s["error"] for s in term.statuses if s["type"] == "error"]
    assert errors == ["unknown control message type 'env'", "control message is not JSON"]
    term.close()


def test_ping_is_answered(server):
    term = shell(server)
    term.control({"type": "ping"})
    assert term.status("pong") == {"type": "pong"}
    term.close()


def test_ctrl_c_reaches_the_foreground_process(server):
    term = shell(server)
    term.send("sh -c 'trap \"echo caught-int; exit 0\" INT; echo armed; "
              "while :; do sleep 0.1; done'\r")
    term.expect(b"armed\r\n")
    term.send("\x03")
    term.expect(b"caught-int", timeout=10)
    term.send("sleep 30\r")
    time.sleep(0.3)
    term.send("\x03echo back-$?\r")
    term.expect(b"back-130", timeout=10)
    term.close()


def test_closing_the_socket_leaves_no_process_behind(server):
    before = {e["id"] for e in registry_entries(server)}
    term = shell(server, query="shell=/bin/bash")
    # $$ is the shell's pid inside the sandbox's pid namespace, not the host's: the
    # session is found as the registry entry this terminal added
    term.send("sleep 300 & (sleep 301; true) & echo started-$((6*7))\r")
    term.expect(b"\r\nstarted-42")
    entry = next(e for e in registry_entries(server) if e["id"] not in before)
    leader = entry["leader_pid"]
    assert len(session_pids(leader)) >= 3  # the shell and both background jobs
    term.ws.sock.close()  # the network drops: no close frame at all
    assert wait_until(lambda: not session_pids(leader), timeout=10), session_pids(leader)
    assert wait_until(lambda: not zombie_children(entry["server_pid"]), timeout=5)
    assert wait_until(lambda: all(e["id"] != entry["id"] for e in registry_entries(server)))


def test_idle_timeout_closes_the_terminal(server):
    with terminals_config(server, "  idle_timeout: 1\n"):
        term = shell(server)
        leader = next(e for e in registry_entries(server) if e["label"].startswith("enter"))
        closed = term.status("closed", timeout=10)
    assert closed["reason"] == "idle"
    assert wait_until(lambda: not session_pids(leader["leader_pid"]))


ALICE = "  - username: alice\n"
REVOCATIONS = {
    "disabled": ("    role: user\n", "    role: user\n    disabled: true\n"),
    "demoted": ("    role: user\n", "    role: viewer\n"),
    "app grant removed": ("      - blog\n      - shop-*\n", "      - shop-*\n"),
    "password changed": ("ALICE_HASH", "$2b$04$abcdefghijklmnopqrstuu5JS5Jp4dOt7AfHPoMhgSkQzwO0qE7GK"),
}


@pytest.mark.parametrize("change", sorted(REVOCATIONS))
def test_revoked_user_terminal_is_closed_within_seconds(server, change):
    term = shell(server, user="alice")
    original = server.config.read_text()
    old, new = REVOCATIONS[change]
    if old == "ALICE_HASH":
        old = original.split(ALICE, 1)[1].split("password: ", 1)[1].split("\n", 1)[0]
    head, tail = original.split(ALICE, 1)
    assert old in tail
    try:
        server.config.write_text(head + ALICE + tail.replace(old, new, 1))
        started = time.monotonic()
        closed = term.status("closed", timeout=10)
        assert time.monotonic() - started < 5
    finally:
        server.config.write_text(original)
    assert closed["reason"] == "revoked"
    # a grant change may end the whole session (fingerprint) or only this action
    assert closed["message"] in ("your access was revoked", "you may no longer use apps.terminal")
    if change != "app grant removed":
        assert closed["message"] == "your access was revoked"


def test_api_key_terminal_needs_the_scope_not_an_origin(server):
    from datetime import UTC, datetime, timedelta

    from pruvon_auth.apikeys import ApiKeyStore

    store = ApiKeyStore(server.state)
    expires = datetime.now(UTC) + timedelta(hours=1)
    good, _ = store.create("alice", ["apps.terminal"], expires)
    narrow, _ = store.create("alice", ["apps.read"], expires)
    url = f"ws://127.0.0.1:{server.port}/ws/apps/blog/terminal?shell=/bin/sh"
    term = Term(websocket.create_connection(url, header=[f"Authorization: Bearer {good}"],
                                            timeout=15))
    term.status("ready")
    term.send("echo via-key-$((1+1))\r")
    term.expect(b"via-key-2")
    term.close()
    refused = Term(websocket.create_connection(url, header=[f"Authorization: Bearer {narrow}"],
                                               timeout=15))
    assert refused.status("error") == {"type": "error", "error": "not allowed: apps.terminal"}


def test_logout_closes_that_sessions_terminals(server):
    browser = Browser(server.url)
    browser.login("alice", server.passwords["alice"])
    term = open_term(server, browser.cookie_header(), "/ws/apps/blog/terminal?shell=/bin/sh")
    term.status("ready")
    browser.request("/logout", {"csrf_token": browser.csrf("/")})
    closed = term.status("closed", timeout=10)
    assert closed["message"] == "this session was signed out"


def test_foreign_origin_is_refused_before_the_handshake(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        open_term(server, login(server, "admin"), "/ws/apps/blog/terminal",
                  origin="https://evil.example")
    assert refused.value.status_code == 403


def test_cross_app_request_is_refused(server):
    cookie = login(server, "alice")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        open_term(server, cookie, "/ws/apps/other/terminal")
    assert refused.value.status_code == 403
    browser = Browser(server.url)
    browser.login("alice", server.passwords["alice"])
    assert browser.request("/apps/other/terminal")[0] == 403
    assert browser.request("/apps/blog/terminal")[0] == 200


def test_viewer_may_not_open_a_terminal_and_the_refusal_is_audited(server):
    term = open_term(server, login(server, "victor"), "/ws/apps/blog/terminal")
    assert term.status("error") == {"type": "error", "error": "not allowed: apps.terminal"}
    lines = (server.state / "audit.log").read_text().splitlines()
    denied = [json.loads(line) for line in lines if '"apps.terminal.start"' in line]
    assert any(e["actor"] == "user:victor" and e["result"] == "denied" for e in denied)


def test_per_user_cap(server):
    with terminals_config(server, "  max_per_user: 2\n"):
        first, second = shell(server), shell(server)
        third = open_term(server, login(server, "admin"), "/ws/apps/blog/terminal")
        error = third.status("error")["error"]
        first.close()
        second.close()
    assert "you already have 2 open terminals (terminals.max_per_user: 2)" in error


def test_twenty_concurrent_sessions(server):
    cookie = login(server, "admin")
    results: dict[int, bytes] = {}

    def one(index: int) -> None:
        term = open_term(server, cookie, "/ws/apps/blog/terminal?shell=/bin/sh")
        term.status("ready", timeout=60)
        term.send(f"echo marker-$((1000+{index}))\r")
        results[index] = term.expect(f"marker-{1000 + index}".encode(), timeout=60)
        term.send("exit\r")
        term.status("exited", timeout=30)

    with terminals_config(server, "  max_per_user: 25\n"):
        threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert sorted(results) == list(range(20))


def test_audit_has_start_and_end_but_never_keystrokes(server):
    term = shell(server)
    session = term.statuses[0]["session"]
    term.send("echo top-secret-keystrokes-$((6*7))\r")
    term.expect(b"top-secret-keystrokes-42")
    term.send("exit 5\r")
    term.status("exited")
    log = server.state / "audit.log"
    end = wait_for_end(log, session)[0]
    events = [json.loads(line) for line in log.read_text().splitlines() if session in line]
    start = next(e for e in events if e["action"] == "apps.terminal.start")
    assert start["actor"] == "user:admin" and start["target"] == "app:blog"
    assert start["source_ip"] == "127.0.0.1"
    assert end["details"]["exit_code"] == 5 and end["details"]["duration"] > 0
    assert "top-secret" not in log.read_text()


def wait_for_end(log: Path, session: str) -> list[dict]:
    assert wait_until(lambda: any('"apps.terminal.end"' in line and session in line
                                  for line in log.read_text().splitlines()))
    return [json.loads(line) for line in log.read_text().splitlines()
            if session in line and '"apps.terminal.end"' in line]


def test_one_off_run_passes_its_exit_code(server):
    cookie = login(server, "alice")
    term = open_term(server, cookie, "/ws/apps/blog/run")
    term.control({"type": "start", "cmd": "sh -c 'echo one-off-$DYNO; exit 4'"})
    assert term.status("ready")["target"] == "run blog sh"
    term.expect(b"one-off-run.")
    assert term.status("exited")["code"] == 4
    argv = open_term(server, cookie, "/ws/apps/blog/run")
    argv.control({"type": "start", "cmd": ["sh", "-c", "echo argv-$((6*7))"]})
    argv.expect(b"argv-42")
    assert argv.status("exited")["code"] == 0


@pytest.mark.parametrize(
    ("path", "first", "error"),
    [
        ("/ws/apps/blog/run?cmd=env", None, "not in the URL"),
        ("/ws/apps/blog/run", {"type": "resize", "cols": 9, "rows": 9}, "first message"),
        ("/ws/apps/blog/run", {"type": "start", "cmd": ["sh", 1]}, "list of strings"),
    ],
)
def test_one_off_command_only_in_the_first_frame(server, path, first, error):
    term = open_term(server, login(server, "alice"), path)
    if first is not None:
        term.control(first)
    assert error in term.status("error")["error"]


def test_container_pick_and_shell_fallback(server):
    from pruvon_testing.sim import containers
    from pruvon_testing.sim.core import SimState

    state = SimState(server.sim)
    second = next(c for c in containers.app_containers(state, "blog") if c.dyno == "web.2")
    term = open_term(server, login(server, "admin"),
                     f"/ws/apps/blog/terminal?container={second.id[:12]}&shell=/bin/zsh-missing")
    assert term.status("error")["error"].startswith("shell '/bin/zsh-missing' is not allowed")
    with terminals_config(server, "  shells: [/bin/zsh-missing, /bin/sh]\n"):
        term = open_term(server, login(server, "admin"),
                         f"/ws/apps/blog/terminal?container={second.id[:12]}")
        assert term.status("ready")["target"] == "enter blog web.2 /bin/sh"
    assert "using /bin/sh" in term.status("notice")["message"]
    term.send("echo in-$DYNO\r")
    term.expect(b"in-web.2")
    term.close()


def test_host_shell_is_off_by_default_and_runs_as_the_configured_user(server):
    cookie = login(server, "admin")
    assert open_term(server, cookie, "/ws/host/terminal").status("error")["error"] == (
        "Host shell is switched off in the configuration")
    with terminals_config(server, "  host_shell: true\n  host_user: nobody\n"
                                  "  host_login_shell: /bin/sh\n"):
        term = open_term(server, cookie, "/ws/host/terminal")
        assert term.status("ready")["target"] == "host shell as nobody"
        term.send("id -un\r")
        term.expect(b"nobody")
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            open_term(server, login(server, "alice"), "/ws/host/terminal")
        assert refused.value.status_code == 403
        term.close()


def test_cli_lists_and_kills_a_terminal(server):
    term = shell(server)
    session = term.statuses[0]["session"]
    env = server_env(server.root, server.sim, server.state, server.config)
    listed = subprocess.run([str(BIN / "pruvon"), "terminals", "list", "--format", "json"],
                            env=env, capture_output=True, text=True, timeout=30)
    rows = json.loads(listed.stdout)["terminals"]
    row = next(r for r in rows if r["id"] == session)
    assert row["user"] == "admin" and row["target"] == "enter blog web /bin/sh"
    killed = subprocess.run([str(BIN / "pruvon"), "terminals", "kill", session, "--reason",
                             "maintenance"], env=env, capture_output=True, text=True, timeout=30)
    assert killed.returncode == 0 and f"{session}  admin" in killed.stdout
    assert term.status("closed") == {"type": "closed", "reason": "killed",
                                     "message": "maintenance"}
    missing = subprocess.run([str(BIN / "pruvon"), "terminals", "kill", "abcdef123456"],
                             env=env, capture_output=True, text=True, timeout=30)
    assert missing.returncode == 1 and "no open terminal with id abcdef123456" in missing.stderr


def test_secret_rotation_closes_every_terminal(server):
    from pruvon_auth.sessions import rotate_session_secret

    term = shell(server)
    rotate_session_secret(server.state)
    closed = term.status("closed", timeout=10)
    assert closed["reason"] == "revoked" and "rotated" in closed["message"]


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_server_closes_terminals_and_leaves_no_process(tmp_path, how):
    from tests.terminals.conftest import seed
    from tests.web.server import start_server

    own = start_server(tmp_path / "stopping")
    try:
        seed(own)
        term = open_term(own, login(own, "admin"), "/ws/apps/blog/terminal?shell=/bin/sh")
        term.status("ready")
        leader = registry_entries(own)[0]["leader_pid"]
        own.process.send_signal(how)  # graceful stop / immediate stop (ctrl-C)
        closed = term.status("closed", timeout=20)
        assert closed["reason"] == "shutdown"
        assert own.process.wait(timeout=30) == 0
    finally:
        own.stop()
    assert wait_until(lambda: not session_pids(leader))


def test_admin_page_lists_and_closes_terminals(server):
    term = shell(server, user="alice")
    session = term.statuses[0]["session"]
    admin = Browser(server.url)
    admin.login("admin", server.passwords["admin"])
    status, _, body = admin.request("/settings/terminals")
    assert status == 200 and session in body and "enter blog web /bin/sh" in body
    assert 'href="/settings/terminals"' in body  # the menu entry
    assert admin.request(f"/settings/terminals/{session}/close", {})[0] == 403  # no CSRF token
    token = admin.csrf("/settings/terminals")
    assert admin.request(f"/settings/terminals/{session}/close", {"csrf_token": token})[0] == 303
    assert term.status("closed") == {"type": "closed", "reason": "killed",
                                     "message": "closed by admin"}
    alice = Browser(server.url)
    alice.login("alice", server.passwords["alice"])
    assert alice.request("/settings/terminals")[0] == 403
    assert admin.request("/settings/terminals/abcdef012345/close", {"csrf_token": token})[0] == 404


def test_terminal_page_offers_containers_shells_and_run(server):
    browser = Browser(server.url)
    browser.login("alice", server.passwords["alice"])
    status, _, body = browser.request("/apps/blog/terminal?shell=/bin/sh")
    assert status == 200
    assert "<script" not in body.split("</head>", 1)[1]  # no inline script (CSP)
    for text in (">web.1 (", ">web.2 (", ">worker.1 (", '<option value="/bin/sh" selected>',
                 'data-ws="/ws/apps/blog/terminal"', 'data-query="shell=%2Fbin%2Fsh"',
                 "/static/terminals/terminal.js", 'href="/apps/blog/terminal?mode=run"'):
        assert text in body, text
    status, _, body = browser.request("/apps/blog/terminal?mode=run")
    assert status == 200 and 'data-ws="/ws/apps/blog/run"' in body and 'data-mode="run"' in body
    assert 'name="cmd"' not in body  # the form never puts the command into a URL
    status, _, body = browser.request("/apps/blog/terminal?mode=run&cmd=env")
    assert status == 400 and "not taken from the URL" in body
    assert browser.request("/apps/Bad..Name/terminal")[0] in (403, 404)
    assert browser.request("/host/terminal")[0] == 403
    status, _, body = browser.request("/apps/shop-new/terminal")
    assert status == 200 and "App shop-new has no running container" in body
    assert browser.request("/apps/shop-nosuch/terminal")[0] == 404
    term = open_term(server, login(server, "alice"), "/ws/apps/shop-new/terminal")
    assert term.status("error") == {"type": "error",
                                    "error": "app shop-new has no running container to enter"}
