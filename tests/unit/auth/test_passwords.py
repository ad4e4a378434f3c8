"""Password hashing: bcrypt compatibility, no truncation, policy, cost floor."""

from __future__ import annotations

import bcrypt
import pytest
from pruvon_auth import passwords
from pruvon_auth.passwords import (
    WeakRoundsRefused,
    bcrypt_rounds,
    check_policy,
    hash_cost,
    hash_password,
    verify_dummy,
    verify_password,
)


@pytest.fixture(autouse=True)
def fast_rounds(monkeypatch):
    monkeypatch.setenv("PRUVON_BCRYPT_ROUNDS", "4")


def test_round_trip_and_wrong_password():
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$2b$04$")
    assert verify_password("correct horse battery", hashed)
    assert not verify_password("correct horse batterY", hashed)


def test_long_passwords_are_not_truncated():
    base = "x" * 72
    hashed = hash_password(base + "tail-one")
    assert verify_password(base + "tail-one", hashed)
    assert not verify_password(base + "tail-two", hashed)
    assert not verify_password(base, hashed)


def test_multibyte_passwords_past_72_bytes_keep_their_tail():
    word = "é" * 40  # 80 bytes in UTF-8
    hashed = hash_password(word + "a")
    assert verify_password(word + "a", hashed)
    assert not verify_password(word + "b", hashed)


def test_128_character_passwords_pass_policy_and_verify():
    password = "Tr0ub4dor&3-" * 11  # 132 characters
    check_policy(password)
    assert verify_password(password, hash_password(password))


def test_plain_bcrypt_hashes_from_existing_configs_verify():
    made_by_pruvon = bcrypt.hashpw(b"old-admin-password", bcrypt.gensalt(4)).decode()
    assert verify_password("old-admin-password", made_by_pruvon)
    go_style = made_by_pruvon.replace("$2b$", "$2a$", 1)
    assert verify_password("old-admin-password", go_style)
    assert not verify_password("old-admin-passwort", go_style)


@pytest.mark.parametrize("bad", ["", "not-a-hash", "$2b$04$short", "$2b$xx$" + "a" * 53])
def test_malformed_hashes_never_verify_and_never_raise(bad):
    assert verify_password("anything at all", bad) is False


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw", "at least 12 characters"),
        ("x" * 1025, "at most 1024"),
        ("twelve chars\n", "control characters"),
        ("with\x00nul-char", "control characters"),
        (" " * 20, "only whitespace"),
        ("Alice-The-Admin", "must not be the username"),
    ],
)
def test_policy_rejections(password, message):
    with pytest.raises(ValueError, match=message):
        check_policy(password, username="alice-the-admin")


def test_policy_accepts_unicode_and_spaces():
    check_policy("correct horse battery staple")
    check_policy("пароль-достаточно-длинный")


def test_rounds_default_is_12(monkeypatch):
    monkeypatch.delenv("PRUVON_BCRYPT_ROUNDS")
    assert bcrypt_rounds() == 12


def test_low_rounds_are_refused_outside_the_test_suite(monkeypatch):
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    with pytest.raises(WeakRoundsRefused, match="only allowed inside the test suite"):
        bcrypt_rounds()
    monkeypatch.setenv("PRUVON_BCRYPT_ROUNDS", "13")
    assert bcrypt_rounds() == 13


@pytest.mark.parametrize("value", ["abc", "3", "17"])
def test_nonsense_rounds_are_refused(monkeypatch, value):
    monkeypatch.setenv("PRUVON_BCRYPT_ROUNDS", value)
    with pytest.raises(WeakRoundsRefused):
        bcrypt_rounds()


def test_hash_cost():
    assert hash_cost(hash_password("correct horse battery")) == 4
    assert hash_cost("garbage") is None


def test_verify_dummy_costs_one_verification_of_the_same_cost(monkeypatch):
    """Unknown users take a wrong password's time: one checkpw at the same cost."""
    real = hash_password("correct horse battery")
    seen: list[int] = []
    original = bcrypt.checkpw

    def spy(candidate, hashed):
        seen.append(hash_cost(hashed.decode()))
        return original(candidate, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", spy)
    assert verify_password("wrong password here", real) is False
    assert verify_dummy("wrong password here") is False
    assert seen == [4, 4]
    assert verify_dummy("x" * 200, rounds=5) is False
    assert seen[-1] == 5
