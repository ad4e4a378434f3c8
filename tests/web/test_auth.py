"""Sign-in: generic failures, throttling, TOTP, audit, safe redirects."""

from __future__ import annotations

import re

import pyotp
import pytest

from pruvon_core import audit
from tests.web.conftest import csrf_from, login

pytestmark = pytest.mark.usefixtures("sim_root")


def _normalised(response, username: str) -> tuple[int, str]:
    """Status and body with the per-session token and the echoed username removed."""
    body = response.get_data(as_text=True)
    body = re.sub(r'value="[A-Za-z0-9_-]{40,}"', 'value="TOKEN"', body)
    body = body.replace(f'value="{username}"', 'value="USER"')
    body = re.sub(r'"X-CSRF-Token": "[^"]+"', '"X-CSRF-Token": "TOKEN"', body)
    return response.status_code, body


def test_login_success_redirects_to_safe_next(client, pruvon_config):
    token = csrf_from(client.get("/login?next=/logs").get_data(as_text=True))
    response = client.post("/login", data={"username": "admin", "csrf_token": token,
                                           "password": pruvon_config.passwords["admin"],
                                           "next": "/logs"})
    assert response.status_code == 302 and response.headers["Location"] == "/logs"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(client, pruvon_config, target):
    response = login(client, "admin", pruvon_config.passwords["admin"], next=target)
    assert response.headers["Location"] == "/"


def test_unknown_user_wrong_password_and_disabled_look_the_same(client, pruvon_config):
    wrong = login(client, "alice", "not-the-password")
    unknown = login(client, "mallory", "not-the-password")
    disabled = login(client, "dave", pruvon_config.passwords["dave"])
    assert wrong.status_code == unknown.status_code == disabled.status_code == 401
    assert _normalised(wrong, "alice")[1] == _normalised(unknown, "mallory")[1]
    assert _normalised(wrong, "alice")[1] == _normalised(disabled, "dave")[1]
    assert "Invalid username or password." in wrong.get_data(as_text=True)


def test_empty_fields_get_a_specific_message(client):
    response = login(client, "", "")
    assert response.status_code == 400
    assert "Enter your username and password." in response.get_data(as_text=True)


def test_throttled_response_identical_for_unknown_user_and_wrong_password(client):
    for _ in range(5):  # per user+IP: 5 free failures
        login(client, "alice", "wrong-password-x")
        login(client, "ghost", "wrong-password-x")
    wrong = login(client, "alice", "wrong-password-x")
    unknown = login(client, "ghost", "wrong-password-x")
    assert wrong.status_code == unknown.status_code == 429
    assert wrong.headers["Retry-After"] == unknown.headers["Retry-After"]
    assert _normalised(wrong, "alice") == _normalised(unknown, "ghost")
    assert "Too many attempts" in wrong.get_data(as_text=True)


def test_throttle_blocks_even_the_right_password(client, pruvon_config):
    for _ in range(5):
        login(client, "alice", "wrong-password-x")
    response = login(client, "alice", pruvon_config.passwords["alice"])
    assert response.status_code == 429


def test_login_outcomes_are_audited_with_source_ip(client, pruvon_config):
    login(client, "alice", "wrong-password-x")
    login(client, "alice", pruvon_config.passwords["alice"])
    events = audit.read(action="auth.login", state_dir=pruvon_config.state_dir)
    assert [e.result for e in events] == ["failed", "ok"]
    assert all(e.source_ip == "127.0.0.1" for e in events)
    assert "wrong-password-x" not in pruvon_config.state_dir.joinpath("audit.log").read_text()


def test_totp_step_required_and_codes_single_use(app, client, pruvon_config):
    totp = _enrol_fresh(pruvon_config, "alice")
    response = login(client, "alice", pruvon_config.passwords["alice"])
    assert response.status_code == 302 and response.headers["Location"] == "/login/totp"
    assert client.get("/api/v1/me").status_code == 401  # not signed in yet
    page = client.get("/login/totp").get_data(as_text=True)
    bad = client.post("/login/totp", data={"code": "000000", "csrf_token": csrf_from(page)})
    assert bad.status_code == 401 and "not valid" in bad.get_data(as_text=True)
    code = totp.now()
    ok = client.post("/login/totp", data={"code": code, "csrf_token": csrf_from(page)})
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    assert client.get("/api/v1/me").get_json()["username"] == "alice"
    other = app.test_client()  # the same code cannot be replayed
    login(other, "alice", pruvon_config.passwords["alice"])
    page = other.get("/login/totp").get_data(as_text=True)
    replay = other.post("/login/totp", data={"code": code, "csrf_token": csrf_from(page)})
    assert replay.status_code == 401


def _enrol_fresh(pruvon_config, username: str) -> pyotp.TOTP:
    """Enrol with a code from the previous time step, so ``now()`` stays unused."""
    import time

    from pruvon_auth.totp import TotpStore

    store = TotpStore(pruvon_config.state_dir)
    secret, _ = store.begin(username)
    totp = pyotp.TOTP(secret)
    store.confirm(username, totp.at(time.time() - totp.interval))
    return totp


def test_totp_step_without_password_is_refused(client):
    response = client.get("/login/totp")
    assert response.status_code == 400
    assert "start again" in response.get_data(as_text=True)


def test_totp_enrolment_through_the_account_page(client, login_as):
    token = login_as("alice")
    page = client.post("/account", data={"step": "begin", "csrf_token": token})
    secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', page.get_data(as_text=True))
    assert secret
    wrong = client.post("/account", data={"step": "confirm", "code": "12345", "csrf_token": token})
    assert wrong.status_code == 400 and "6-digit" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret.group(1)).now()
    done = client.post("/account", data={"step": "confirm", "code": code, "csrf_token": token})
    assert done.status_code == 200
    assert 'id="recovery-codes"' in done.get_data(as_text=True)
    off = client.post("/account", data={"step": "disable", "code": code, "password": "bad",
                                        "csrf_token": token})
    assert off.status_code == 400 and "stays on" in off.get_data(as_text=True)
