"""Login throttle: backoff math, per-IP and per-user counters, no global lock-out."""

from __future__ import annotations

import stat

import pytest
from pruvon_auth.throttle import LoginThrottle, Rule, ip_key, user_key


@pytest.fixture
def throttle(tmp_path, clock):
    return LoginThrottle(tmp_path, clock=clock)


def fail(throttle, ip, user, times):
    for _ in range(times):
        throttle.failure(ip, user)


def test_rule_math():
    rule = Rule(free=5, base=1.0, cap=900.0)
    assert [rule.delay(n) for n in range(4, 9)] == [0, 1, 2, 4, 8]
    assert rule.delay(15) == 900.0
    assert rule.delay(10_000) == 900.0


def test_free_failures_then_doubling_per_user_and_ip(throttle):
    fail(throttle, "198.51.100.7", "admin", 4)
    assert throttle.retry_after("198.51.100.7", "admin") == 0
    throttle.failure("198.51.100.7", "admin")
    assert throttle.retry_after("198.51.100.7", "admin") == pytest.approx(1.0)
    throttle.failure("198.51.100.7", "admin")
    assert throttle.retry_after("198.51.100.7", "admin") == pytest.approx(2.0)
    fail(throttle, "198.51.100.7", "admin", 2)
    assert throttle.retry_after("198.51.100.7", "admin") == pytest.approx(8.0)


def test_wait_runs_down_with_time(throttle, clock):
    fail(throttle, "198.51.100.7", "admin", 7)
    assert throttle.retry_after("198.51.100.7", "admin") == pytest.approx(4.0)
    clock.advance(3)
    assert throttle.retry_after("198.51.100.7", "admin") == pytest.approx(1.0)
    clock.advance(1.5)
    assert throttle.retry_after("198.51.100.7", "admin") == 0


def test_counters_are_forgotten_after_an_hour_of_quiet(throttle, clock):
    fail(throttle, "198.51.100.7", "admin", 12)
    clock.advance(3601)
    assert throttle.retry_after("198.51.100.7", "admin") == 0
    throttle.failure("198.51.100.7", "admin")
    assert throttle.failures("198.51.100.7", "admin") == {"ip": 1, "user_ip": 1, "user": 1}


def test_one_ip_guessing_many_usernames_is_slowed(throttle):
    for index in range(10):
        throttle.failure("203.0.113.9", f"user{index}")
    assert throttle.retry_after("203.0.113.9", "brand-new-name") == pytest.approx(1.0)
    assert throttle.retry_after("203.0.113.10", "brand-new-name") == 0


def test_an_attacker_does_not_lock_the_user_out_from_elsewhere(throttle):
    fail(throttle, "203.0.113.9", "admin", 9)
    assert throttle.retry_after("203.0.113.9", "admin") > 0
    assert throttle.retry_after("192.0.2.44", "admin") == 0


def test_a_botnet_cannot_lock_the_admin_out_of_a_known_good_address(throttle):
    throttle.success("192.0.2.44", "admin")  # the admin's usual address
    for index in range(60):
        throttle.failure(f"10.9.{index // 200}.{index % 200}", "admin")
    # unknown sources are slowed for this username …
    assert throttle.retry_after("10.200.0.1", "admin") > 0
    # … but the admin's own address is not, and other users are untouched
    assert throttle.retry_after("192.0.2.44", "admin") == 0
    assert throttle.retry_after("10.200.0.1", "alice") == 0


def test_known_good_expires_after_30_days(throttle, clock):
    throttle.success("192.0.2.44", "admin")
    clock.advance(31 * 86400)
    for index in range(30):
        throttle.failure(f"10.9.0.{index}", "admin")
    assert throttle.retry_after("192.0.2.44", "admin") > 0


def test_success_clears_only_the_user_ip_counter(throttle):
    for index in range(9):
        throttle.failure("203.0.113.9", f"victim{index}")
    fail(throttle, "203.0.113.9", "mallory", 4)
    throttle.success("203.0.113.9", "mallory")
    counts = throttle.failures("203.0.113.9", "mallory")
    assert counts["user_ip"] == 0
    assert counts["ip"] == 13  # logging into one's own account does not reset the IP budget


def test_ipv6_is_grouped_by_64(throttle):
    for index in range(10):
        throttle.failure(f"2001:db8:1:2::{index + 1:x}", f"u{index}")
    assert throttle.retry_after("2001:db8:1:2:ffff::1", "someone") > 0
    assert throttle.retry_after("2001:db8:1:3::1", "someone") == 0


def test_keys_normalise():
    assert ip_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert ip_key(None) == "unknown"
    assert ip_key("not an ip").startswith("invalid:")
    assert user_key("  Admin ") == "admin"
    assert len(user_key("x" * 1000)) == 128


def test_username_case_variants_share_a_counter(throttle):
    fail(throttle, "203.0.113.9", "Admin", 3)
    fail(throttle, "203.0.113.9", "ADMIN", 2)
    assert throttle.retry_after("203.0.113.9", "admin") > 0


def test_attempt_charges_before_verification_and_refuses_when_throttled(throttle):
    for _ in range(5):
        assert throttle.attempt("203.0.113.9", "admin") == 0
    wait = throttle.attempt("203.0.113.9", "admin")
    assert wait == pytest.approx(1.0)
    assert throttle.failures("203.0.113.9", "admin")["user_ip"] == 5  # refused: not charged


def test_state_is_shared_between_instances_and_private(tmp_path, clock):
    first = LoginThrottle(tmp_path, clock=clock)
    fail(first, "203.0.113.9", "admin", 6)
    second = LoginThrottle(tmp_path, clock=clock)
    assert second.retry_after("203.0.113.9", "admin") > 0
    assert stat.S_IMODE((tmp_path / "throttle.db").stat().st_mode) == 0o600
