"""Review: a login attempt is charged to the throttle *before* its secret is checked.

The views used to ask ``retry_after`` and charge ``failure`` only after bcrypt
(or the TOTP check) had run, so N parallel guesses (gunicorn runs 32 threads)
all passed the check before any was charged: the backoff bounded rounds of
guesses, not guesses.  Now each attempt is checked and charged in one
transaction (``LoginThrottle.attempt``) and refunded when it turns out right.
"""

from __future__ import annotations

import pytest

from tests.web.conftest import csrf_from, login

pytestmark = pytest.mark.usefixtures("sim_root")
IP = "127.0.0.1"  # the Flask test client's address


def _counts(pruvon_config, username: str) -> dict[str, int]:
    from pruvon_auth.throttle import LoginThrottle

    return LoginThrottle(pruvon_config.state_dir).failures(IP, username)


@pytest.fixture
def seen_during_verify(monkeypatch, pruvon_config):
    """The throttle counters as they stand while bcrypt is verifying."""
    from pruvon_auth import passwords, public

    seen: list[dict[str, int]] = []
    real = passwords.verify_password

    def spy(password: str, hashed: str) -> bool:
        seen.append(_counts(pruvon_config, "alice"))
        return real(password, hashed)

    monkeypatch.setattr(passwords, "verify_password", spy)
    # the web plugin reaches pruvon_auth through its public API: spy there too
    monkeypatch.setattr(public, "verify_password", spy)
    return seen


def test_wrong_password_is_charged_before_bcrypt_and_only_once(client, seen_during_verify,
                                                               pruvon_config):
    assert login(client, "alice", "not the password!").status_code == 401
    assert seen_during_verify == [{"ip": 1, "user_ip": 1, "user": 1}]
    assert _counts(pruvon_config, "alice") == {"ip": 1, "user_ip": 1, "user": 1}


def test_right_password_is_refunded(client, seen_during_verify, pruvon_config):
    assert login(client, "alice", "not the password!").status_code == 401
    assert login(client, "alice", pruvon_config.passwords["alice"]).status_code == 302
    assert seen_during_verify[-1] == {"ip": 2, "user_ip": 2, "user": 2}
    # the success costs nothing; the earlier failure stays on the address and user
    assert _counts(pruvon_config, "alice") == {"ip": 1, "user_ip": 0, "user": 1}


def test_totp_code_is_charged_before_it_is_checked(app, client, monkeypatch, pruvon_config):
    from pruvon_auth.totp import TotpStore

    from tests.web.test_auth import _enrol_fresh

    totp = _enrol_fresh(pruvon_config, "alice")
    assert login(client, "alice", pruvon_config.passwords["alice"]).status_code == 302
    seen: list[dict[str, int]] = []
    real = TotpStore.verify

    def spy(self, user: str, code: str) -> bool:
        seen.append(_counts(pruvon_config, "alice"))
        return real(self, user, code)

    monkeypatch.setattr(TotpStore, "verify", spy)
    page = client.get("/login/totp").get_data(as_text=True)
    bad = client.post("/login/totp", data={"code": "000000", "csrf_token": csrf_from(page)})
    assert bad.status_code == 401
    assert seen == [{"ip": 1, "user_ip": 1, "user": 1}]
    assert _counts(pruvon_config, "alice")["ip"] == 1
    ok = client.post("/login/totp", data={"code": totp.now(), "csrf_token": csrf_from(page)})
    assert ok.status_code == 302
    assert _counts(pruvon_config, "alice") == {"ip": 1, "user_ip": 0, "user": 1}


def test_totp_disable_is_charged_before_the_password_is_checked(client, login_as,
                                                                 seen_during_verify,
                                                                 pruvon_config):
    from tests.web.test_auth import _enrol_fresh

    totp = _enrol_fresh(pruvon_config, "alice")
    token = _signed_in_with_totp(client, pruvon_config, totp)
    seen_during_verify.clear()
    off = client.post("/account", data={"step": "disable", "code": totp.now(),
                                        "password": "not the password!", "csrf_token": token})
    assert off.status_code == 400
    assert seen_during_verify == [{"ip": 1, "user_ip": 1, "user": 1}]
    assert _counts(pruvon_config, "alice") == {"ip": 1, "user_ip": 1, "user": 1}


def _signed_in_with_totp(client, pruvon_config, totp) -> str:
    """Sign in through both steps; returns the CSRF token of the account page."""
    import time

    login(client, "alice", pruvon_config.passwords["alice"])
    page = client.get("/login/totp").get_data(as_text=True)
    code = totp.at(time.time())
    assert client.post("/login/totp", data={"code": code, "csrf_token": csrf_from(page)}
                       ).status_code == 302
    return csrf_from(client.get("/account").get_data(as_text=True))
