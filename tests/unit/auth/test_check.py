"""``pruvon check``: each finding, severities and exit codes."""

from __future__ import annotations

import json
import os
import time

import pytest
from click.testing import CliRunner
from pruvon_auth.check import EXAMPLE_HASHES, exit_code, run_checks

from pruvon_core.cli import cli

EXAMPLE_HASH = next(iter(EXAMPLE_HASHES))


def ids(pruvon_config, **kwargs):
    return {f.id: f.severity for f in run_checks(pruvon_config.path, pruvon_config.state_dir, **kwargs)}


def invoke(*args):
    return CliRunner().invoke(cli, ["check", *args], catch_exceptions=False)


def test_fixture_install_has_only_warnings(pruvon_config):
    findings = run_checks(pruvon_config.path, pruvon_config.state_dir)
    got = {(f.id, f.severity) for f in findings}
    assert ("user.admin_without_totp", "warn") in got
    assert ("user.weak_hash", "warn") in got  # the fixture hashes at cost 4
    assert ("user.disabled", "info") in got
    assert ("user.wildcard_grant", "info") in got  # alice: redis *
    assert exit_code(findings) == 0
    assert exit_code(findings, strict=True) == 1


def test_cli_exit_codes_and_json(pruvon_config):
    result = invoke("--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["ok"] is True and data["findings"]
    assert invoke("--strict").exit_code == 1


def test_example_hash_is_high(pruvon_config):
    text = pruvon_config.path.read_text().replace(pruvon_config.hashes["admin"], EXAMPLE_HASH)
    pruvon_config.write(text)
    assert ids(pruvon_config)["user.example_hash"] == "high"
    assert invoke().exit_code == 1


def test_shared_hashes_are_warned(pruvon_config):
    text = pruvon_config.path.read_text().replace(
        pruvon_config.hashes["victor"], pruvon_config.hashes["alice"])
    pruvon_config.write(text)
    assert ids(pruvon_config)["user.shared_hash"] == "warn"


@pytest.mark.parametrize(
    ("listen", "proxies", "expected"),
    [
        ("127.0.0.1:8080", False, None),
        ("[::1]:8080", False, None),
        ("localhost:8080", False, None),
        ("0.0.0.0:8080", False, "high"),
        ("10.0.0.5:8080", False, "high"),
        ("0.0.0.0:8080", True, "info"),
    ],
)
def test_listen_address(pruvon_config, listen, proxies, expected):
    text = pruvon_config.path.read_text().replace("127.0.0.1:8080", listen)
    if proxies:
        text += "security:\n  trusted_proxies: [127.0.0.1/32]\n"
    pruvon_config.write(text)
    assert ids(pruvon_config).get("listen.public") == expected


def test_file_modes(pruvon_config):
    os.chmod(pruvon_config.path, 0o644)
    os.chmod(pruvon_config.state_dir, 0o755)
    (pruvon_config.state_dir / "audit.log").write_text("")
    os.chmod(pruvon_config.state_dir / "audit.log", 0o640)
    found = [f for f in run_checks(pruvon_config.path, pruvon_config.state_dir)
             if f.id.endswith(".mode")]
    assert {f.id for f in found} == {"config.mode", "state_dir.mode", "state_file.mode"}
    assert all(f.severity == "high" for f in found)
    assert "chmod 600" in found[0].fix
    assert invoke().exit_code == 1


def test_invalid_config_is_high(pruvon_config):
    pruvon_config.write("users: 12\n")
    assert ids(pruvon_config)["config.invalid"] == "high"


def test_totp_enrolled_admin_is_not_warned(pruvon_config, clock):
    import pyotp
    from pruvon_auth.totp import TotpStore

    store = TotpStore(pruvon_config.state_dir, clock=clock)
    secret, _ = store.begin("admin")
    store.confirm("admin", pyotp.TOTP(secret).at(clock()))
    assert "user.admin_without_totp" not in ids(pruvon_config)


def test_api_key_findings(pruvon_config):
    from pruvon_auth.apikeys import ApiKeyStore
    from pruvon_auth.users import set_disabled

    store = ApiKeyStore(pruvon_config.state_dir)
    store.create("alice", ["apps.read"], None)
    store.create("victor", ["apps.read"], time.time() + 60)
    set_disabled(pruvon_config.store, "victor", True)
    found = ids(pruvon_config)
    assert found["apikey.no_expiry"] == "warn"
    assert found["apikey.orphan"] == "info"
    assert ids(pruvon_config, now=time.time() + 120)["apikey.expired"] == "info"


def test_old_session_secret(pruvon_config):
    from pruvon_auth.sessions import session_secret

    session_secret(pruvon_config.state_dir)
    assert "secret.old" not in ids(pruvon_config)
    assert ids(pruvon_config, now=time.time() + 400 * 86400)["secret.old"] == "warn"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("", None),
        ("terminals:\n  host_shell: false\n  host_user: root\n", None),
        ("terminals:\n  host_shell: true\n", ("terminals.host_shell", "warn")),
        ("terminals:\n  host_shell: true\n  host_user: root\n", ("terminals.host_shell_root", "high")),
    ],
)
def test_host_shell_findings(pruvon_config, section, expected):
    pruvon_config.write(pruvon_config.path.read_text() + section)
    found = [
        (f.id, f.severity)
        for f in run_checks(pruvon_config.path, pruvon_config.state_dir)
        if f.id.startswith("terminals.")
    ]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("listen", "security", "named"),
    [
        ("127.0.0.1:8080", "", None),
        ("127.0.0.1:8080", "  trusted_proxies: [127.0.0.1]\n", "security.trusted_proxies is set"),
        ("0.0.0.0:8080", "", "pruvon.listen is 0.0.0.0:8080"),
        ("127.0.0.1:8080", "  trusted_proxies: [127.0.0.1]\n  allowed_hosts: [p.example]\n",
         None),
        ("10.0.0.5:8080", "  allowed_hosts: [p.example]\n", None),
    ],
)
def test_missing_allowed_hosts_named(pruvon_config, listen, security, named):
    """Issue 14: behind a proxy or on a public listener, the operator's name must be listed."""
    text = pruvon_config.path.read_text().replace("127.0.0.1:8080", listen)
    if security:
        text += "security:\n" + security
    pruvon_config.write(text)
    found = {f.id: f for f in run_checks(pruvon_config.path, pruvon_config.state_dir)}
    finding = found.get("security.allowed_hosts_missing")
    if named is None:
        assert finding is None
    else:
        assert finding.severity == "warn" and named in finding.message
        assert "security.allowed_hosts" in finding.message and "allowed_hosts:" in finding.fix
