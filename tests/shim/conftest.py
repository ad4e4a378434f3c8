"""Fixtures for the Dokku plugin shim tests.

The shim's bash scripts run for real, as subprocesses, with a controlled
environment: the defaults file (``PRUVON_SHIM_DEFAULTS``) points ``PRUVON_BIN``
at either the real pruvon CLI (with the shim commands registered, as
``cli.py`` does) or a recorder that writes the argv it received.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "dokku-plugin"
TEST_PLUGIN_PATH = Path(__file__).resolve().parent / "testplugin"
TRIGGERS = (
    "install",
    "post-create",
    "pre-delete",
    "post-delete",
    "post-deploy",
    "post-domains-update",
    "post-config-update",
    "post-app-rename",
)

# The real pruvon CLI with the shim's commands registered when cli.py does not
# (yet) register them itself; identical to the installed console script otherwise.
CLI_WRAPPER = """#!{python}
from pruvon_core.cli import cli, main
from pruvon_core.shim_commands import SHIM_COMMANDS

for command in SHIM_COMMANDS:
    if command.name not in cli.commands:
        cli.add_command(command)
main()
"""

# Records argv (NUL-separated, so any byte survives) and exits with $RECORD_EXIT.
RECORDER = """#!/bin/bash
printf '%s\\0' "$@" > "{record}"
echo "recorder stdout"
[[ -n "$RECORD_SLEEP" ]] && sleep "$RECORD_SLEEP"
exit "${{RECORD_EXIT:-0}}"
"""


@dataclass
class Shim:
    """One isolated shim environment: a defaults file, a pruvon, a config."""

    tmp: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def record_file(self) -> Path:
        return self.tmp / "argv.record"

    @property
    def trigger_log(self) -> Path:
        return self.tmp / "triggers.jsonl"

    def use_bin(self, path: Path | str | None) -> None:
        """Point PRUVON_BIN in the defaults file at ``path`` (None: no defaults file)."""
        defaults = Path(self.env["PRUVON_SHIM_DEFAULTS"])
        if path is None:
            defaults.unlink(missing_ok=True)
        else:
            defaults.write_text(f"# written by the installer\nPRUVON_BIN={path}\n")

    def use_real_cli(self) -> Path:
        wrapper = self.tmp / "bin" / "pruvon-cli"
        wrapper.write_text(CLI_WRAPPER.format(python=sys.executable))
        wrapper.chmod(0o755)
        self.use_bin(wrapper)
        return wrapper

    def use_recorder(self) -> Path:
        recorder = self.tmp / "bin" / "pruvon-recorder"
        recorder.write_text(RECORDER.format(record=self.record_file))
        recorder.chmod(0o755)
        self.use_bin(recorder)
        return recorder

    def recorded_argv(self) -> list[str]:
        data = self.record_file.read_bytes()
        assert data.endswith(b"\0") or data == b""
        return [part.decode() for part in data.split(b"\0")[:-1]]

    def triggers(self) -> list[dict]:
        if not self.trigger_log.exists():
            return []
        return [json.loads(line) for line in self.trigger_log.read_text().splitlines()]

    def run(self, script: str, *args: str, extra_env: dict[str, str] | None = None,
            cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        """Execute ``dokku-plugin/<script> ARGS`` exactly as Dokku would (argv, no shell)."""
        env = {**self.env, **(extra_env or {})}
        return subprocess.run(
            [str(PLUGIN_DIR / script), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd or self.tmp,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def shim(tmp_path: Path) -> Shim:
    """A shim environment with no pruvon reachable until a test chooses one."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "state").mkdir()
    config = tmp_path / "pruvon.yml"
    config.write_text("pruvon:\n  listen: 127.0.0.1:9099\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PRUVON_SHIM_DEFAULTS": str(tmp_path / "default-pruvon"),
        "PRUVON_SHIM_OPT_BIN": str(tmp_path / "opt" / "pruvon"),
        "PRUVON_CONFIG": str(config),
        "PRUVON_STATE_DIR": str(tmp_path / "state"),
        "PRUVON_PLUGINS": "shimtest",
        "PYTHONPATH": str(TEST_PLUGIN_PATH),
        "SHIMTEST_TRIGGER_LOG": str(tmp_path / "triggers.jsonl"),
        "DOKKU_NOT_IMPLEMENTED_EXIT": "10",
    }
    return Shim(tmp=tmp_path, env=env)
