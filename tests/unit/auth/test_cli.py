"""``pruvon user|apikey|audit|secret`` through click, in-process."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pruvon_auth.passwords import verify_password

from pruvon_core.cli import cli

NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture
def run(pruvon_config):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def audit_text(pruvon_config) -> str:
    path = pruvon_config.state_dir / "audit.log"
    return path.read_text() if path.exists() else ""


def test_user_add_with_password_stdin(run, pruvon_config):
    result = run("user", "add", "carol", "--role", "viewer", "--app", "blog",
                 "--service", "redis:cache", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    carol = pruvon_config.user("carol")
    assert carol.role == "viewer" and carol.services == {"redis": ("cache",)}
    assert verify_password(NEW_PASSWORD, carol.password_hash)
    assert NEW_PASSWORD not in audit_text(pruvon_config)
    assert '"users.add"' in audit_text(pruvon_config)


def test_user_add_prompts_twice(run, pruvon_config):
    result = run("user", "add", "carol", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert verify_password(NEW_PASSWORD, pruvon_config.user("carol").password_hash)
    assert NEW_PASSWORD not in result.output


def test_mismatched_prompts_are_asked_again(run, pruvon_config):
    result = run("user", "add", "carol",
                 input=f"{NEW_PASSWORD}\nsomething-else-entirely\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0
    assert "do not match" in result.output


def test_passwords_are_never_accepted_as_arguments(run):
    result = CliRunner().invoke(cli, ["user", "add", "carol", "--password", NEW_PASSWORD])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_weak_password_is_refused(run, pruvon_config):
    result = run("user", "add", "carol", "--password-stdin", input="short\n")
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert pruvon_config.user("carol") is None


def test_long_password_from_stdin_keeps_every_byte(run, pruvon_config):
    long_password = "p" * 100 + " with spaces "
    result = run("user", "passwd", "alice", "--password-stdin", input=long_password + "\n")
    assert result.exit_code == 0, result.output
    hashed = pruvon_config.user("alice").password_hash
    assert verify_password(long_password, hashed)
    assert not verify_password("p" * 100 + " with spaces!", hashed)


def test_user_list_json_never_shows_hashes(run, pruvon_config):
    result = run("user", "list", "--format", "json")
    data = json.loads(result.output)
    assert [u["username"] for u in data["users"]] == ["admin", "alice", "victor", "dave"]
    assert "$2b$" not in result.output
    assert data["users"][3]["disabled"] is True


def test_disable_enable_role_grant_revoke(run, pruvon_config):
    assert run("user", "disable", "alice").exit_code == 0
    assert pruvon_config.user("alice").disabled
    assert run("user", "enable", "alice").exit_code == 0
    assert not pruvon_config.user("alice").disabled
    assert run("user", "role", "alice", "viewer").exit_code == 0
    assert pruvon_config.user("alice").role == "viewer"
    assert run("user", "grant", "victor", "--app", "wiki", "--route", "/logs").exit_code == 0
    assert "wiki" in pruvon_config.user("victor").apps
    assert run("user", "revoke", "victor", "--app", "wiki").exit_code == 0
    assert "wiki" not in pruvon_config.user("victor").apps
    result = run("user", "revoke", "victor", "--app", "wiki")
    assert result.exit_code == 1 and "has no apps grant" in result.output
    assert run("user", "grant", "victor").exit_code == 1
    actions = [json.loads(line)["action"] for line in audit_text(pruvon_config).splitlines()]
    assert actions == ["users.disable", "users.enable", "users.role", "users.grant", "users.revoke"]


@pytest.mark.parametrize(
    "args", [("user", "remove", "admin"), ("user", "disable", "admin"), ("user", "role", "admin", "user")]
)
def test_last_admin_guard_on_the_cli(run, pruvon_config, args):
    result = run(*args)
    assert result.exit_code == 1
    assert "no enabled admin" in result.output
    assert pruvon_config.user("admin").role == "admin"


def test_bad_service_syntax_and_admin_grants(run):
    assert "use TYPE:NAME" in run("user", "grant", "alice", "--service", "postgres").output
    result = run("user", "add", "root2", "--role", "admin", "--app", "x", "--password-stdin",
                 input=NEW_PASSWORD + "\n")
    assert result.exit_code == 1 and "admins hold every right" in result.output


def test_remove_revokes_keys_and_totp(run, pruvon_config):
    from pruvon_auth.apikeys import ApiKeyStore
    from pruvon_auth.totp import TotpStore

    ApiKeyStore(pruvon_config.state_dir).create("alice", ["apps.read"], None)
    TotpStore(pruvon_config.state_dir).begin("alice")
    result = run("user", "remove", "alice")
    assert result.exit_code == 0 and "revoked 1 API key" in result.output
    assert pruvon_config.user("alice") is None
    assert ApiKeyStore(pruvon_config.state_dir).list(include_revoked=False) == []
    assert "alice" not in TotpStore(pruvon_config.state_dir).store.read().get("users", {})


def test_totp_reset(run, pruvon_config):
    from pruvon_auth.totp import TotpStore

    assert run("user", "totp-reset", "alice").exit_code == 1
    TotpStore(pruvon_config.state_dir).begin("alice")
    assert run("user", "totp-reset", "alice").exit_code == 0


def test_apikey_create_list_revoke(run, pruvon_config):
    result = run("apikey", "create", "--scope", "apps.read", "--scope", "apps.logs",
                 "--user", "alice", "--expires", "30d", "--format", "json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    token = created["token"]
    listing = run("apikey", "list", "--format", "json").output
    assert token not in listing
    assert json.loads(listing)["apikeys"][0]["scopes"] == ["apps.logs", "apps.read"]
    assert token not in audit_text(pruvon_config)
    assert run("apikey", "revoke", created["apikey"]["prefix"]).exit_code == 0
    assert json.loads(run("apikey", "list", "--format", "json").output)["apikeys"][0]["revoked_at"]
    assert run("apikey", "revoke", "000000000000").exit_code == 1


def test_apikey_table_output_prints_the_token_alone_on_stdout(run):
    result = CliRunner().invoke(cli, ["apikey", "create", "--scope", "users.write"])
    assert result.exit_code == 0
    assert result.stdout.strip().startswith("pvk_") and "\n" not in result.stdout.strip()
    assert "not shown again" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--scope", "users.write", "--user", "alice"), "may not perform users.write"),
        (("--scope", "apps.config.write", "--user", "victor"), "may not perform"),
        (("--scope", "apps.fly", "--user", "alice"), "unknown action"),
        (("--scope", "apps.read", "--user", "dave"), "dave is disabled"),
        (("--scope", "apps.read", "--user", "ghost"), "no user 'ghost'"),
        (("--scope", "apps.read", "--user", "alice", "--expires", "yesterday"), "use a duration"),
    ],
)
def test_apikey_create_refusals(run, args, message):
    result = run("apikey", "create", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_apikey_scopes_for_a_user(run):
    data = json.loads(run("apikey", "scopes", "--user", "victor", "--format", "json").output)
    assert data["scopes"] and all(row["read_only"] for row in data["scopes"])


def test_audit_list_filters_and_json(run, pruvon_config):
    run("user", "disable", "alice")
    run("user", "enable", "alice")
    data = json.loads(run("audit", "list", "--action", "users.dis*", "--format", "json").output)
    assert [e["action"] for e in data["events"]] == ["users.disable"]
    assert data["events"][0]["details"]["via"] == "cli"
    assert run("audit", "list", "--since", "nonsense").exit_code == 2
    assert "users.enable" in run("audit", "list", "--since", "1h").output
    bare = json.loads(run("audit", "--actor", "system", "--limit", "1", "--format", "json").output)
    assert [e["action"] for e in bare["events"]] == ["users.enable"]


def test_secret_rotate(run, pruvon_config):
    from pruvon_auth.sessions import session_secret

    before = session_secret(pruvon_config.state_dir)
    assert run("secret", "rotate").exit_code == 0
    assert session_secret(pruvon_config.state_dir) != before
    assert '"secret.rotate"' in audit_text(pruvon_config)


def test_user_hosts_limits_grants_to_named_hosts_and_all_lifts_it(run, pruvon_config):
    """``hosts:`` is a limit (absent: every host), so it is set, not granted piecemeal."""
    text = pruvon_config.path.read_text()
    pruvon_config.path.write_text(
        text + "hosts:\n  - {name: staging, ssh: dokku@staging.example.com}\n"
               "  - {name: prod, ssh: dokku@prod.example.com}\n")
    done = run("user", "hosts", "alice", "staging", "local")
    assert done.exit_code == 0, done.output
    assert "alice: grants apply on staging, local only" in done.output
    assert pruvon_config.config().user("alice").hosts == ("staging", "local")
    listed = json.loads(run("user", "list", "--format", "json").output)["users"]
    assert next(u for u in listed if u["username"] == "alice")["hosts"] == ["staging", "local"]
    unknown = run("user", "hosts", "alice", "stagng")
    assert unknown.exit_code == 1 and "no host named 'stagng'" in unknown.output
    assert pruvon_config.config().user("alice").hosts == ("staging", "local")  # unchanged
    assert run("user", "hosts", "alice").exit_code == 2  # neither names nor --all
    assert run("user", "hosts", "alice", "prod", "--all").exit_code == 2
    lifted = run("user", "hosts", "alice", "--all")
    assert lifted.exit_code == 0 and "every host" in lifted.output
    assert pruvon_config.config().user("alice").hosts is None
    assert "users.hosts" in audit_text(pruvon_config)
