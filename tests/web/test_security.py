"""The security layer, rule by rule, through Flask's test client."""

from __future__ import annotations

import os
import time

import pytest
from pruvon_web.security import TrustedProxyMiddleware

from pruvon_core.config import is_loopback_listen
from tests.web.conftest import csrf_from, login

pytestmark = pytest.mark.usefixtures("sim_root")


def _rewrite(environ: dict, trusted: tuple) -> dict:
    seen: dict = {}

    def app(env, start_response):
        seen.update(env)
        return []

    import ipaddress

    nets = tuple(ipaddress.ip_network(n) for n in trusted)
    # X-Forwarded-Host switched on (security.trust_forwarded_host) to see that even then
    # only a trusted peer's header counts
    TrustedProxyMiddleware(app, lambda: nets, lambda: True)(environ, lambda *a: None)
    return seen


# --------------------------------------------------------------------------- headers
def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers
    assert "<script>" not in response.get_data(as_text=True)  # no inline script at all


def test_hsts_and_secure_cookie_only_over_https_from_trusted_proxy(app, pruvon_config):
    pruvon_config.write(pruvon_config.path.read_text() + "security:\n  trusted_proxies: [127.0.0.1]\n")
    https = {"X-Forwarded-Proto": "https"}
    response = app.test_client().get("/login", headers=https)  # peer 127.0.0.1: configured
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in response.headers["Set-Cookie"]
    spoofed = app.test_client().get("/login", headers=https, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert "Strict-Transport-Security" not in spoofed.headers
    assert "Secure" not in spoofed.headers["Set-Cookie"]


def test_session_cookie_is_httponly_and_samesite_strict(client):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_proxy_headers_only_from_trusted_peers():
    # two proxies: 10.0.0.3 saw the client, 10.0.0.2 saw 10.0.0.3 (an entry equal to the
    # appending proxy's own address would be a client on that address: see test_review_proxy_forms)
    forwarded = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 10.0.0.3", "HTTP_X_FORWARDED_HOST": "p.example"}
    trusted = _rewrite({"REMOTE_ADDR": "10.0.0.2", **forwarded}, ("10.0.0.0/8",))
    assert trusted["REMOTE_ADDR"] == "198.51.100.7"  # right-most untrusted hop
    assert trusted["HTTP_HOST"] == "p.example"
    untrusted = _rewrite({"REMOTE_ADDR": "192.0.2.1", **forwarded}, ("10.0.0.0/8",))
    assert untrusted["REMOTE_ADDR"] == "192.0.2.1" and "HTTP_HOST" not in untrusted
    spoof = _rewrite({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.7"},
                     ("127.0.0.0/8",))
    assert spoof["REMOTE_ADDR"] == "198.51.100.7"  # the client-written left part is ignored


def test_loopback_listen_detection():
    assert is_loopback_listen("127.0.0.1:8080") and is_loopback_listen("[::1]:80")
    assert is_loopback_listen("localhost:8080")
    assert not is_loopback_listen("0.0.0.0:8080") and not is_loopback_listen("10.1.2.3:80")


# --------------------------------------------------------------------------- sessions
def test_anonymous_pages_redirect_and_api_answers_401_json(client):
    page = client.get("/settings/users")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    api = client.get("/api/v1/me")
    assert api.status_code == 401 and api.get_json() == {"error": "authentication required"}


def test_session_rotated_at_login(client, pruvon_config):
    before = csrf_from(client.get("/login").get_data(as_text=True))
    cookie_before = client.get_cookie("pruvon_session").value
    response = login(client, "admin", pruvon_config.passwords["admin"])
    assert response.status_code == 302
    after = csrf_from(client.get("/account").get_data(as_text=True))
    assert after != before
    assert client.get_cookie("pruvon_session").value != cookie_before


def test_logout_revokes_a_copied_cookie(app, client, login_as):
    token = login_as("admin")
    stolen = client.get_cookie("pruvon_session").value
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("pruvon_session", stolen)
    assert thief.get("/account").status_code == 302  # sent to /login


def _edit_config(pruvon_config, old: str, new: str) -> None:
    text = pruvon_config.path.read_text()
    assert old in text
    pruvon_config.write(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    role: user\n    routes:", "    role: user\n    disabled: true\n    routes:"),  # disabled
        ("  - username: alice\n", "  - username: alice2\n"),  # removed
        ("    role: user\n    routes:", "    role: viewer\n    routes:"),  # demoted
    ],
    ids=["disabled", "removed", "demoted"],
)
def test_user_record_revalidated_on_every_request(client, login_as, pruvon_config, old, new):
    login_as("alice")
    assert client.get("/account").status_code == 200
    _edit_config(pruvon_config, old, new)
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "sign in again" in page or "no longer active" in page


def test_password_change_ends_sessions(client, login_as, pruvon_config):
    login_as("alice")
    _edit_config(pruvon_config, pruvon_config.hashes["alice"], pruvon_config.hashes["admin"])
    assert client.get("/api/v1/me").status_code == 401


def test_idle_and_absolute_timeouts(client, login_as, monkeypatch):
    login_as("admin")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 31 * 60)  # default idle: 30 minutes
    assert client.get("/account").status_code == 302
    monkeypatch.undo()


def test_absolute_timeout_despite_activity(client, login_as, monkeypatch):
    login_as("admin")
    start = time.time()
    for minutes in range(20, 13 * 60, 20):  # active every 20 minutes for 13 hours
        monkeypatch.setattr(time, "time", lambda m=minutes: start + m * 60)
        if client.get("/api/v1/me").status_code == 401:
            assert minutes > 12 * 60 - 20
            return
    pytest.fail("session outlived the 12-hour absolute limit")


def test_rotating_the_secret_logs_everyone_out(client, login_as, pruvon_config):
    from pruvon_auth.sessions import rotate_session_secret

    login_as("admin")
    rotate_session_secret(pruvon_config.state_dir)
    assert client.get("/api/v1/me").status_code == 401


# --------------------------------------------------------------------------- CSRF
def test_state_changing_requests_need_the_csrf_token(client, login_as):
    token = login_as("admin")
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf_token": "x" * 43}).status_code == 403
    htmx = client.post("/settings/apikeys", data={"op": "nothing"},
                       headers={"X-CSRF-Token": token})
    assert htmx.status_code == 400  # token accepted from the htmx header; bad op refused
    api = client.post("/api/v1/users", json={"username": "eve"})
    assert api.status_code == 403 and "CSRF" in api.get_json()["error"]
    assert client.get("/api/v1/me").status_code == 200  # still signed in


def test_cross_origin_post_refused_even_with_token(client, login_as):
    token = login_as("admin")
    response = client.post("/logout", data={"csrf_token": token},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_login_without_csrf_token_rerenders_the_form(client, pruvon_config):
    client.get("/login")
    response = client.post("/login", data={"username": "admin",
                                           "password": pruvon_config.passwords["admin"]})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


# --------------------------------------------------------------------------- WebSocket gate
def test_websocket_upgrade_refused_for_foreign_origin(client, login_as):
    login_as("admin")
    headers = {"Origin": "https://evil.example", "Upgrade": "websocket", "Connection": "Upgrade"}
    response = client.get("/ws/ping", headers=headers)
    assert response.status_code == 403
    assert response.get_json() == {"error": "WebSocket origin not allowed"}
    missing = client.get("/ws/ping", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert missing.status_code == 403  # a cookie-bearing upgrade must name its origin


def test_websocket_extra_origins_from_config(client, login_as, pruvon_config):
    text = pruvon_config.path.read_text()
    pruvon_config.write(text + "security:\n  allowed_origins: ['https://ops.example']\n")
    login_as("admin")
    ok = client.get("/ws/ping", headers={"Origin": "https://ops.example"})
    assert ok.status_code == 426  # not a real upgrade: the answer names the headers a proxy must pass
    assert ok.get_json()["missing"] == ["Upgrade", "Connection"]


# --------------------------------------------------------------------------- errors
def test_error_pages_never_show_tracebacks(app, client, login_as):
    def boom():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/boom", view_func=boom)
    app.add_url_rule("/api/v1/boom", view_func=boom)
    login_as("admin")
    page = client.get("/boom")
    assert page.status_code == 500
    body = page.get_data(as_text=True)
    assert "Traceback" not in body and "secret internal detail" not in body
    assert "Internal error" in body
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and "Traceback" not in api.get_data(as_text=True)
    assert set(api.get_json()) == {"error"}
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Not found" in missing.get_data(as_text=True)


def test_revoked_sessions_file_prunes_expired_ids(tmp_path):
    from pruvon_web.security import RevokedSessions

    store = RevokedSessions(tmp_path / "revoked")
    now = int(time.time())
    store.revoke("old-1", now - 10)
    store.revoke("old-2", now - 5)
    store.revoke("live", now + 3600)
    assert store.is_revoked("live")
    assert not RevokedSessions(tmp_path / "revoked").is_revoked("old-1")  # pruned
    assert oct((tmp_path / "revoked").stat().st_mode & 0o777) == "0o600"


def test_revocation_seen_by_another_worker_when_pruning_keeps_the_size(tmp_path, monkeypatch):
    """Worker B must see a logout recorded by worker A even when A's prune of one
    expired id plus its append leaves the file the same size (B re-read on size only)."""
    from pruvon_web.security import RevokedSessions

    path = tmp_path / "revoked"
    now = int(time.time())
    worker_a, worker_b = RevokedSessions(path), RevokedSessions(path)
    worker_a.revoke("sid-old", now + 60)
    worker_a.revoke("sid-one", now + 3600)
    assert worker_b.is_revoked("sid-one")  # B has read the file at this size
    size = path.stat().st_size
    monkeypatch.setattr(time, "time", lambda: now + 120)  # sid-old has expired
    worker_a.revoke("sid-two", now + 3600)  # prunes sid-old, adds sid-two
    assert path.stat().st_size == size
    assert worker_b.is_revoked("sid-two")


def test_revocations_survive_a_failed_prune(tmp_path, monkeypatch):
    """A full disk while the file is rewritten must not drop earlier revocations
    (the old code truncated the file in place, then wrote it again)."""
    import errno

    from pruvon_web.security import RevokedSessions

    from pruvon_core import files

    path = tmp_path / "revoked"
    now = int(time.time())
    store = RevokedSessions(path)
    store.revoke("sid-expiring", now + 60)
    store.revoke("sid-kept", now + 3600)
    monkeypatch.setattr(time, "time", lambda: now + 120)  # the next revoke prunes
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", full)
    with pytest.raises(OSError):
        store.revoke("sid-new", now + 3600)
    monkeypatch.setattr(files.os, "write", real_write)
    fresh = RevokedSessions(path)
    assert fresh.is_revoked("sid-kept")
    assert not list(tmp_path.glob(".revoked.*.tmp"))


def test_reason_for_ending_a_session_survives_a_background_request(client, login_as, pruvon_config):
    """Regression: a dashboard card's htmx/API call that found the session ended
    used to swallow the reason, so the next page said only "Please sign in"."""
    login_as("alice")
    _edit_config(pruvon_config, "  - username: alice\n", "  - username: alice2\n")
    assert client.get("/api/v1/apps").status_code == 401
    response = client.get("/account")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "no longer active" in page
