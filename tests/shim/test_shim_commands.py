"""pruvon_core.shim_commands in-process: report, trigger, name resolution, help rows."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pruvon_core import __version__
from pruvon_core.hookspecs import hookimpl
from pruvon_core.plugins import get_plugin_manager, reset_plugin_manager
from pruvon_core.shim_commands import (
    EXIT_VETO,
    SHIM_COMMANDS,
    command_usage,
    dokku_report_lines,
    resolve_dokku_name,
    service_state,
)


class RecordingPlugin:
    """An in-process plugin whose trigger answer the test chooses."""

    def __init__(self, answer=None, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.answer = answer
        self.error = error

    @hookimpl
    def pruvon_dokku_trigger(self, name, args):
        self.calls.append((name, args))
        if self.error:
            raise self.error
        return self.answer


@pytest.fixture
def manager(monkeypatch):
    """A plugin manager with no entry points loaded; tests register what they need."""
    monkeypatch.setenv("PRUVON_PLUGINS", "")
    reset_plugin_manager()
    yield get_plugin_manager()
    reset_plugin_manager()


@pytest.fixture
def cli():
    """A root group shaped like pruvon's, with the shim commands and a few groups."""

    @click.group()
    @click.option("--config", "config_file", default=None)
    def root(config_file):
        """Test root."""

    for command in SHIM_COMMANDS:
        root.add_command(command)

    @root.group("user")
    def user():
        """Users."""

    @user.command("add")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["admin", "viewer"]), default="viewer")
    @click.option("--disabled", is_flag=True)
    def user_add(username, role, disabled):
        """Add a user."""
        click.echo(f"add {username} {role} {disabled}")

    @user.command("reset-password")
    @click.argument("username")
    def reset_password(username):
        """Reset a password, by email."""
        click.echo(f"reset {username}")

    @root.group("my-tools")
    def my_tools():
        """Dashed group."""

    @my_tools.group("deep")
    def deep():
        """Nested group."""

    @deep.command("run")
    @click.argument("things", nargs=-1)
    def deep_run(things):
        """Run deep."""
        click.echo("deep " + " ".join(things))

    @root.command("self-update", hidden=False)
    def self_update():
        """A top-level command with a dash."""
        click.echo("self-update")

    @root.command("secret", hidden=True)
    def secret():
        """Hidden."""

    return root


def _resolve(root: click.Group, name: str):
    ctx = click.Context(root, info_name="pruvon")
    return resolve_dokku_name(root, ctx, name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("user-add", ["user", "add"]),
        ("user-reset-password", ["user", "reset-password"]),
        ("user:reset-password", ["user", "reset-password"]),
        ("my-tools-deep-run", ["my-tools", "deep", "run"]),
        ("my-tools:deep:run", ["my-tools", "deep", "run"]),
        ("self-update", ["self-update"]),
        ("user", ["user"]),
        ("report", ["report"]),
    ],
)
def test_resolution_rule(cli, name, expected):
    assert _resolve(cli, name) == expected


@pytest.mark.parametrize(
    "name",
    ["nope", "user-nope", "user:", ":user", "secret", "trigger", "dokku-exec", "dokku-help",
     "user add", "../x", "-user", "", "user::add", "self-update-x"],
)
def test_unresolvable_names(cli, name):
    assert _resolve(cli, name) is None


def test_dokku_exec_runs_the_resolved_command(cli, manager):
    result = CliRunner().invoke(cli, ["dokku-exec", "user-add", "--", "bob", "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert result.output == "add bob admin False\n"


def test_dokku_exec_unknown_is_a_dokku_error(cli, manager):
    result = CliRunner().invoke(cli, ["dokku-exec", "user-ad"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        " !     `pruvon:user-ad` is not a pruvon command.",
        " !     Did you mean `pruvon:user-add`?",
        " !     See `dokku pruvon:help` for a list of available commands.",
    ]


def test_dokku_help_lists_every_visible_leaf(cli, manager):
    result = CliRunner().invoke(cli, ["dokku-help"])
    assert result.exit_code == 0, result.output
    body = result.output.splitlines()[5:]
    usages = [line[4:].split("  ")[0] for line in body]
    assert "pruvon:user-add <username> [--role admin|viewer] [--disabled]" in usages
    assert "pruvon:my-tools-deep-run [<things>...]" in usages
    assert "pruvon:self-update" in usages
    assert not any("secret" in line or "trigger" in line for line in body)
    assert any("Reset a password, by email." in line for line in body)


def test_help_uses_colons_when_the_dashed_name_would_resolve_elsewhere(manager):
    @click.group()
    def root():
        """Root."""

    @root.group("a")
    def a():
        """A."""

    @a.command("b-c")
    def a_b_c():
        """A b-c."""

    @root.group("a-b")
    def a_b():
        """A-b."""

    @a_b.command("c")
    def a_b_c2():
        """A-b c."""

    root.add_command(SHIM_COMMANDS[3])
    result = CliRunner().invoke(root, ["dokku-help"])
    assert "    pruvon:a:b-c " in result.output
    assert "    pruvon:a-b-c " in result.output
    assert _resolve(root, "a-b-c") == ["a-b", "c"]
    assert _resolve(root, "a:b-c") == ["a", "b-c"]


def test_command_usage_is_dokku_style():
    @click.command()
    @click.argument("app")
    @click.argument("rest", nargs=-1, required=False)
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]))
    @click.option("--out-file", required=True)
    def command(app, rest, fmt, out_file):
        """X."""

    full = "<app> [<rest>...] [--format table|json] --out-file <out-file>"
    assert command_usage(command, width=len(full)) == full
    assert command_usage(command, width=len(full) - 1) == "<app> [<rest>...] [flags]"


# ------------------------------------------------------------------ trigger
def test_trigger_calls_the_hook(cli, manager):
    plugin = RecordingPlugin()
    manager.register(plugin, "recording")
    result = CliRunner().invoke(cli, ["trigger", "post-create", "--", "blog", "--force"])
    assert result.exit_code == 0, result.output
    assert plugin.calls == [("post-create", ["blog", "--force"])]


def test_trigger_veto_only_counts_on_pre_triggers(cli, manager):
    manager.register(RecordingPlugin(answer=False), "vetoer")
    pre = CliRunner().invoke(cli, ["trigger", "pre-delete", "--", "blog", "latest"])
    assert pre.exit_code == EXIT_VETO
    assert " !     pruvon: a plugin vetoed Dokku trigger pre-delete for blog\n" in pre.output
    post = CliRunner().invoke(cli, ["trigger", "post-delete", "--", "blog"])
    assert post.exit_code == 0
    assert "only pre-* triggers can be vetoed" in post.output


def test_trigger_true_and_none_do_not_veto(cli, manager):
    manager.register(RecordingPlugin(answer=True), "yes")
    manager.register(RecordingPlugin(answer=None), "abstain")
    assert CliRunner().invoke(cli, ["trigger", "pre-delete", "--", "blog"]).exit_code == 0


def test_raising_plugin_is_reported_and_others_still_run(cli, manager):
    manager.register(RecordingPlugin(error=RuntimeError("boom")), "broken")
    healthy = RecordingPlugin()
    manager.register(healthy, "healthy")
    result = CliRunner().invoke(cli, ["trigger", "pre-delete", "--", "blog"])
    assert result.exit_code == 0
    assert "plugin broken failed on trigger pre-delete: RuntimeError: boom" in result.output
    assert healthy.calls == [("pre-delete", ["blog"])]


@pytest.mark.parametrize("name", ["Post-Create", "../x", "post create", "-x", ""])
def test_trigger_rejects_bad_names(cli, manager, name):
    plugin = RecordingPlugin()
    manager.register(plugin, "recording")
    result = CliRunner().invoke(cli, ["trigger", name])
    assert result.exit_code == 2
    assert plugin.calls == []


# ------------------------------------------------------------------ report
def test_report_json_for_a_valid_config(cli, manager, tmp_path, monkeypatch):
    config = tmp_path / "pruvon.yml"
    config.write_text("pruvon:\n  listen: 0.0.0.0:8443\n")
    monkeypatch.setenv("PATH", str(tmp_path))  # no systemctl
    result = CliRunner().invoke(cli, ["--config", str(config), "report", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["version"] == __version__
    assert data["listen"] == "0.0.0.0:8443"
    assert data["service"] == "unknown"
    assert data["config"] == {"path": str(config), "readable": True, "valid": True, "errors": []}
    assert data["plugins"] == []


def test_report_shows_config_errors_and_plugin_errors(cli, manager, tmp_path):
    config = tmp_path / "pruvon.yml"
    config.write_text("pruvon:\n  listen: nowhere\n")
    manager.register(RecordingPlugin(error=RuntimeError("boom")), "broken")
    CliRunner().invoke(cli, ["trigger", "post-create", "--", "x"])
    result = CliRunner().invoke(cli, ["--config", str(config), "report", "--format", "json"])
    data = json.loads(result.output)
    assert data["listen"] is None
    assert data["config"]["valid"] is False
    assert data["config"]["readable"] is True
    assert data["config"]["errors"] and data["config"]["errors"][0].startswith("pruvon.listen: ")
    broken = next(p for p in data["plugins"] if p["name"] == "broken")
    assert broken["hook_errors"] == [{"hook": "pruvon_dokku_trigger", "error": "RuntimeError: boom"}]


def test_report_table_uses_dokku_report_layout(cli, manager, tmp_path):
    missing = tmp_path / "missing.yml"
    result = CliRunner().invoke(cli, ["--config", str(missing), "report"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "=====> pruvon information"
    assert f"       Config path:       {missing}" in lines
    assert "       Config readable:   false" in lines
    assert f"       Config error:      file not found: {missing}" in lines


def test_dokku_report_lines_match_the_reference_layout():
    reference = Path(__file__).resolve().parents[1] / "fixtures" / "dokku-reference" / "apps-report-app.txt"
    expected = reference.read_text().split("--- stdout\n")[1].split("--- stderr")[0].splitlines()
    rows = [(line[7:].split(":", 1)[0], line.split(":", 1)[1].strip()) for line in expected[1:]]
    assert dokku_report_lines("ref-web app information", rows) == expected


def test_service_state_uses_systemctl(tmp_path, monkeypatch):
    fake = tmp_path / "systemctl"
    fake.write_text('#!/bin/sh\n[ "$1 $2" = "is-active pruvon" ] && echo inactive && exit 3\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert service_state() == "inactive"
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert service_state() == "unknown"


def test_dokku_exec_keeps_the_root_config_option(cli, manager, tmp_path):
    config = tmp_path / "other.yml"
    config.write_text("pruvon:\n  listen: 127.0.0.1:7000\n")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "dokku-exec", "report", "--", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["config"]["path"] == str(config)
