"""`commands help`, `help --all`, `pruvon:help` and the exit-10 contract."""

from __future__ import annotations

import re
import subprocess

import pytest

from pruvon_testing.reference import REFERENCE_DIR
from tests.shim.conftest import PLUGIN_DIR

SUMMARY = "    pruvon, Administer this Dokku host with Pruvon (web UI and CLI)\n"


def _capture_stdout(name: str) -> str:
    """The stdout section of a dokku-reference capture."""
    text = (REFERENCE_DIR / name).read_text()
    return text.split("--- stdout\n", 1)[1].split("--- stderr", 1)[0]


def _dokku_help_pipeline(*command_outputs: str) -> str:
    """Dokku's community-plugin help formatting: ``sort | column -c2 -t -s,``."""
    proc = subprocess.run(
        ["bash", "-c", "LC_ALL=C sort | column -c2 -t -s,"],
        input="".join(command_outputs),
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


def test_help_prints_the_summary_line(shim):
    shim.use_recorder()
    proc = shim.run("commands", "help")
    assert proc.returncode == 0
    assert proc.stdout == SUMMARY
    assert proc.stderr == ""
    assert not shim.record_file.exists(), "dokku help must not start pruvon"


def test_help_works_without_any_pruvon_or_python(shim):
    """`dokku help` stays plain shell: no pruvon, no python on PATH, empty env."""
    proc = subprocess.run(
        [str(PLUGIN_DIR / "commands"), "help"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PRUVON_SHIM_DEFAULTS": "/nonexistent"},
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, SUMMARY, "")


def test_help_line_is_formatted_like_dokku_community_plugins(shim):
    """Through Dokku's own pipeline our line aligns like `testplug` in help.txt."""
    testplug = "    testplug, Local test plugin\n"
    ours = shim.run("commands", "help").stdout
    formatted = _dokku_help_pipeline(ours, testplug).splitlines()
    assert formatted == [
        "    pruvon     Administer this Dokku host with Pruvon (web UI and CLI)",
        "    testplug   Local test plugin",
    ]
    # the capture shows the same layout for a community plugin
    assert "    testplug   Local test plugin" in _capture_stdout("help.txt").splitlines()


def test_help_all_lists_commands_in_dokku_columns(shim):
    """Dokku only passes `help`; the --all is read from the parent's argv."""
    shim.use_recorder()
    proc = subprocess.run(
        ["bash", "-c", '"$0" help; true', str(PLUGIN_DIR / "commands"), "--all"],
        capture_output=True,
        text=True,
        env=shim.env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) >= 4
    for line in lines:
        usage, _, description = line.partition(", ")
        assert re.fullmatch(r"    pruvon(:\S+)?( .*)?", usage), line
        assert description and "," not in description, line
    assert any(line.startswith("    pruvon:report [--format table|json], ") for line in lines)
    assert not shim.record_file.exists()
    formatted = _dokku_help_pipeline(proc.stdout).splitlines()
    starts = {len(re.match(r"(    \S.*?\s{2,})\S", line).group(1)) for line in formatted}
    assert len(starts) == 1, formatted


@pytest.mark.parametrize(
    "command",
    ["apps:list", "pruvonx", "pruvonx:report", "help:pruvon", "pruvon-report", "nope:cmd", ""],
)
def test_foreign_commands_exit_10(shim, command):
    shim.use_recorder()
    proc = shim.run("commands", command, "pruvon:report")
    assert (proc.returncode, proc.stdout, proc.stderr) == (10, "", "")
    assert not shim.record_file.exists()


def test_foreign_command_honours_dokku_not_implemented_exit(shim):
    proc = shim.run("commands", "apps:list", extra_env={"DOKKU_NOT_IMPLEMENTED_EXIT": "42"})
    assert proc.returncode == 42


def test_pruvon_help_matches_dokku_plugin_help_format(shim):
    shim.use_real_cli()
    proc = shim.run("commands", "pruvon:help")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    reference = _capture_stdout("apps-help.txt").splitlines()
    assert lines[0] == "Usage: dokku pruvon[:COMMAND]"
    assert reference[0] == "Usage: dokku apps[:COMMAND]"
    assert lines[1:5] == ["", "Administer this Dokku host with Pruvon (web UI and CLI)", "",
                          "Additional commands:"]
    assert [reference[1], reference[3], reference[4]] == ["", "", "Additional commands:"]
    body = lines[5:]
    # one column start for every description, two spaces after the longest usage
    starts = {len(re.match(r"(    \S.*?\s{2,})\S", line).group(1)) for line in body}
    assert len(starts) == 1, body
    start = starts.pop()
    longest = max(len(line[:start].rstrip()) for line in body)
    assert start == longest + 2
    assert all(line.startswith("    pruvon") for line in body)
    assert body == sorted(body)
    assert any(line.startswith("    pruvon:shimtest-echo-args [<words>...]  ") for line in body)
    assert any(line.startswith("    pruvon:my-tools-run <target> [--verbose]  ") for line in body)
    assert not any("trigger" in line or "dokku-exec" in line for line in body)


def test_pruvon_help_through_subcommand_and_bare_pruvon(shim):
    shim.use_real_cli()
    via_commands = shim.run("commands", "pruvon:help")
    via_subcommand = shim.run("subcommands/help", "pruvon:help")
    bare = shim.run("subcommands/default", "pruvon")
    bare_commands = shim.run("commands", "pruvon")
    assert via_commands.returncode == 0
    assert via_subcommand.stdout == via_commands.stdout
    assert bare.stdout == via_commands.stdout
    assert bare_commands.stdout == via_commands.stdout
