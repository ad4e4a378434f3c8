"""TOTP: two-step enrolment, single-use codes, recovery codes, disabling."""

from __future__ import annotations

import stat
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from pruvon_auth.totp import TotpError, TotpStore


@pytest.fixture
def store(tmp_path, clock):
    return TotpStore(tmp_path, clock=clock)


def code_at(secret: str, when: float) -> str:
    return pyotp.TOTP(secret).at(when)


def enrol(store, clock, user="alice"):
    secret, _ = store.begin(user)
    codes = store.confirm(user, code_at(secret, clock()))
    clock.advance(30)  # the confirmation code is spent; move to the next step
    return secret, codes


def test_begin_gives_a_secret_and_an_otpauth_uri(store):
    secret, uri = store.begin("alice")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and "alice" in parsed.path
    assert parse_qs(parsed.query)["secret"] == [secret]
    assert parse_qs(parsed.query)["issuer"] == ["Pruvon"]
    assert not store.enrolled("alice")


def test_confirm_needs_a_correct_code(store, clock):
    secret, _ = store.begin("alice")
    with pytest.raises(TotpError, match="not valid"):
        store.confirm("alice", "000000" if code_at(secret, clock()) != "000000" else "111111")
    codes = store.confirm("alice", code_at(secret, clock()))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert store.enrolled("alice")
    with pytest.raises(TotpError, match="already"):
        store.begin("alice")


def test_confirm_without_begin(store):
    with pytest.raises(TotpError, match="not started"):
        store.confirm("bob", "123456")


def test_a_code_is_accepted_once(store, clock):
    secret, _ = enrol(store, clock)
    code = code_at(secret, clock())
    assert store.verify("alice", code)
    assert not store.verify("alice", code)


def test_an_older_code_is_refused_after_a_newer_one(store, clock):
    secret, _ = enrol(store, clock)
    previous = code_at(secret, clock() - 30)
    current = code_at(secret, clock())
    assert store.verify("alice", current)
    assert not store.verify("alice", previous)


def test_window_is_one_step_either_side(store, clock):
    secret, _ = enrol(store, clock)
    clock.advance(300)
    assert not store.verify("alice", code_at(secret, clock() - 90))
    assert store.verify("alice", code_at(secret, clock() + 30))


def test_two_workers_cannot_both_spend_one_code(tmp_path, clock):
    first = TotpStore(tmp_path, clock=clock)
    secret, _ = enrol(first, clock)
    second = TotpStore(tmp_path, clock=clock)
    code = code_at(secret, clock())
    assert [first.verify("alice", code), second.verify("alice", code)] == [True, False]


def test_recovery_codes_are_single_use_and_hashed(store, clock, tmp_path):
    _, codes = enrol(store, clock)
    text = (tmp_path / "totp.json").read_text()
    assert not any(code in text or code.replace("-", "") in text for code in codes)
    assert stat.S_IMODE((tmp_path / "totp.json").stat().st_mode) == 0o600
    assert store.verify("alice", codes[0].upper())
    assert not store.verify("alice", codes[0])
    assert store.verify("alice", codes[1].replace("-", ""))
    assert store.recovery_codes_left("alice") == 8


def test_unenrolled_users_and_garbage_never_verify(store, clock):
    assert not store.verify("nobody", "123456")
    enrol(store, clock)
    for junk in ("", "12345", "abcdef", "1234567", "../../etc"):
        assert not store.verify("alice", junk)


def test_disable_with_proof_needs_password_and_code(store, clock, monkeypatch):
    monkeypatch.setenv("PRUVON_BCRYPT_ROUNDS", "4")
    from pruvon_auth.passwords import hash_password

    from pruvon_core.config import UserRecord

    record = UserRecord("alice", hash_password("alice-password-1"), "user")
    secret, _ = enrol(store, clock)
    assert not store.disable_with_proof(record, "wrong-password!!", code_at(secret, clock()))
    assert not store.disable_with_proof(record, "alice-password-1", "000000")
    assert store.enrolled("alice")
    assert store.disable_with_proof(record, "alice-password-1", code_at(secret, clock()))
    assert not store.enrolled("alice")


def test_disable_and_enrolled_users(store, clock):
    enrol(store, clock, "alice")
    store.begin("bob")  # pending enrolments do not count
    assert store.enrolled_users() == {"alice"}
    assert store.disable("alice")
    assert not store.disable("alice")
