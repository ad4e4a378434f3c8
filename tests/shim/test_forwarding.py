"""`dokku pruvon:<cmd> …` reaches pruvon with its arguments unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shim.conftest import PLUGIN_DIR

HOSTILE_ARGS = [
    "two words",
    "$(id)",
    "`id`",
    "${HOME}",
    "it's",
    'say "hi"',
    "a;b && c | d > /tmp/x",
    "*",
    "--",
    "-h",
    "--help",
    "",
    "line1\nline2",
    "tab\there",
    "ünïcødé",
    "\\backslash\\",
]


def test_command_is_passed_to_pruvon_as_argv(shim):
    shim.use_recorder()
    proc = shim.run("commands", "pruvon:report", "--format", "json")
    assert proc.returncode == 0
    assert proc.stdout == "recorder stdout\n"
    assert shim.recorded_argv() == ["dokku-exec", "report", "--", "--format", "json"]


def test_hostile_arguments_reach_pruvon_unchanged(shim):
    shim.use_recorder()
    proc = shim.run("commands", "pruvon:shimtest-echo-args", *HOSTILE_ARGS)
    assert proc.returncode == 0, proc.stderr
    assert shim.recorded_argv() == ["dokku-exec", "shimtest-echo-args", "--", *HOSTILE_ARGS]
    assert not (shim.tmp / "x").exists()


def test_hostile_arguments_reach_the_real_command_unchanged(shim):
    """End to end through the real CLI and a third-party plugin's command.

    The result is exactly what running ``pruvon shimtest echo-args ARGS``
    directly gives: click treats the first bare ``--`` as end of options there
    too, every other argument arrives byte for byte.
    """
    wrapper = shim.use_real_cli()
    proc = shim.run("commands", "pruvon:shimtest-echo-args", *HOSTILE_ARGS)
    assert proc.returncode == 0, proc.stderr
    direct = subprocess.run(
        [str(wrapper), "shimtest", "echo-args", *HOSTILE_ARGS],
        capture_output=True, text=True, env=shim.env, check=True,
    )
    assert proc.stdout == direct.stdout
    expected = list(HOSTILE_ARGS)
    expected.remove("--")
    assert json.loads(proc.stdout) == expected


def test_bare_pruvon_passes_arguments_verbatim(shim):
    shim.use_recorder()
    proc = shim.run("commands", "pruvon", "user", "add", "$(id)", "--role", "admin")
    assert proc.returncode == 0
    assert shim.recorded_argv() == ["user", "add", "$(id)", "--role", "admin"]


def test_dokku_subcommand_dispatch_paths_forward_the_same(shim):
    """Dokku runs subcommands/<name> or subcommands/default with "$@" when present."""
    shim.use_recorder()
    shim.run("subcommands/report", "pruvon:report", "--format", "json", "a b")
    assert shim.recorded_argv() == ["dokku-exec", "report", "--", "--format", "json", "a b"]
    shim.run("subcommands/default", "pruvon", "--version", "$(id)")
    assert shim.recorded_argv() == ["--version", "$(id)"]
    # Dokku's lookup also lands in subcommands/default for `dokku pruvon:default`
    shim.run("subcommands/default", "pruvon:default", "x")
    assert shim.recorded_argv() == ["dokku-exec", "default", "--", "x"]


@pytest.mark.parametrize(("status", "expected"), [(0, 0), (1, 1), (2, 2), (7, 7), (10, 1), (20, 20)])
def test_exit_status_is_propagated_except_dokkus_not_implemented(shim, status, expected):
    shim.use_recorder()
    proc = shim.run("commands", "pruvon:report", extra_env={"RECORD_EXIT": str(status)})
    assert proc.returncode == expected


def test_real_cli_exit_10_is_not_mistaken_for_not_implemented(shim):
    shim.use_real_cli()
    assert shim.run("commands", "pruvon:shimtest-exit-with", "10").returncode == 1
    assert shim.run("commands", "pruvon:shimtest-exit-with", "3").returncode == 3


def test_stdin_reaches_pruvon(shim):
    """Interactive commands (confirmations, imports) read the shim's stdin."""
    shim.use_real_cli()
    proc = subprocess.run(
        [str(PLUGIN_DIR / "commands"), "pruvon:shimtest-read-stdin"],
        input="piped data\n", capture_output=True, text=True, env=shim.env, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "read: piped data\n"


# ------------------------------------------------------------------ group mapping (real CLI)
@pytest.mark.parametrize(
    ("dokku_name", "args", "expected"),
    [
        ("shimtest-echo-args", ["x"], '["x"]'),
        ("shimtest:echo-args", ["x"], '["x"]'),
        ("my-tools-run", ["web", "--verbose"], "my-tools run web verbose=True"),
        ("my-tools:run", ["web"], "my-tools run web verbose=False"),
    ],
)
def test_third_party_group_commands_are_mapped(shim, dokku_name, args, expected):
    shim.use_real_cli()
    proc = shim.run("commands", f"pruvon:{dokku_name}", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected


def test_core_commands_are_mapped_with_the_real_cli(shim):
    shim.use_real_cli()
    proc = shim.run("commands", "pruvon:config-validate", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"path": shim.env["PRUVON_CONFIG"], "valid": True, "errors": []}
    plugins = shim.run("commands", "pruvon:plugins", "--format", "json")
    assert [p["name"] for p in json.loads(plugins.stdout)["plugins"]] == ["shimtest"]


@pytest.mark.parametrize("name", ["nope", "shimtest-nope", "trigger", "dokku-exec", "shimtest:", "a b"])
def test_unknown_command_gives_dokku_style_error(shim, name):
    shim.use_real_cli()
    proc = shim.run("commands", f"pruvon:{name}", "post-create", "x")
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == f" !     `pruvon:{name}` is not a pruvon command."
    assert lines[-1] == " !     See `dokku pruvon:help` for a list of available commands."
    assert shim.triggers() == []


def test_unknown_command_suggests_the_closest(shim):
    shim.use_real_cli()
    proc = shim.run("commands", "pruvon:shimtest-echo-arg")
    assert " !     Did you mean `pruvon:shimtest-echo-args`?" in proc.stderr.splitlines()


def test_permission_error_says_the_command_needs_root(shim):
    shim.use_real_cli()
    proc = shim.run("commands", "pruvon:shimtest-write-config")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(" !     Permission denied: /etc/pruvon.yml (running as ")
    assert lines[1].endswith("as root: sudo pruvon shimtest write-config …")


def test_trace_mode_is_honoured(shim):
    shim.use_recorder()
    proc = shim.run("commands", "pruvon:report", extra_env={"DOKKU_TRACE": "1"})
    assert proc.returncode == 0
    assert "+ fn-pruvon-command report" in proc.stderr


def _installed_cli_registers_shim() -> bool:
    from pruvon_core.cli import cli

    return all(name in cli.commands for name in ("dokku-exec", "dokku-help", "trigger", "report"))


@pytest.mark.skipif(not _installed_cli_registers_shim(),
                    reason="pruvon_core/cli.py does not register the shim commands yet")
def test_installed_pruvon_console_script(shim):
    """The console script from the venv, unwrapped, behind the shim."""
    shim.use_bin(Path(sys.executable).parent / "pruvon")
    proc = shim.run("commands", "pruvon:shimtest-echo-args", "a b", "$(id)")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["a b", "$(id)"]
    assert shim.run("commands", "pruvon:help").returncode == 0
    assert shim.run("post-create", "blog").returncode == 0
    assert shim.triggers() == [{"name": "post-create", "args": ["blog"]}]
