"""Finding the pruvon executable, and the error when it is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.shim.conftest import CLI_WRAPPER, PLUGIN_DIR


def _missing_lines(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    assert lines, "expected an error on stderr"
    assert all(line.startswith(" !     ") for line in lines), lines
    return lines


def test_missing_executable_gives_dokku_style_error_with_the_fix(shim):
    proc = shim.run("commands", "pruvon:report")
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = _missing_lines(proc.stderr)
    assert "The pruvon executable was not found" in lines[0]
    assert shim.env["PRUVON_SHIM_DEFAULTS"] in lines[0]
    assert shim.env["PRUVON_SHIM_OPT_BIN"] in lines[0]
    assert any(f"PRUVON_BIN=/path/to/pruvon' | sudo tee {shim.env['PRUVON_SHIM_DEFAULTS']}" in line
               for line in lines)
    assert any("dokku user" in line for line in lines)


@pytest.mark.parametrize("command", ["pruvon:help", "pruvon", "pruvon:anything"])
def test_every_command_path_reports_the_missing_executable(shim, command):
    proc = shim.run("commands", command)
    assert proc.returncode == 1
    _missing_lines(proc.stderr)


def test_configured_but_unusable_bin_is_an_error_not_a_fallback(shim):
    opt = shim.tmp / "opt"
    opt.mkdir()
    (opt / "pruvon").write_text("#!/bin/sh\necho fallback\n")
    (opt / "pruvon").chmod(0o755)
    not_executable = shim.tmp / "bin" / "pruvon"
    not_executable.write_text("#!/bin/sh\necho nope\n")
    shim.use_bin(not_executable)
    proc = shim.run("commands", "pruvon", "x")
    assert proc.returncode == 1
    assert "fallback" not in proc.stdout
    lines = _missing_lines(proc.stderr)
    assert f"PRUVON_BIN={not_executable} (from {shim.env['PRUVON_SHIM_DEFAULTS']})" in lines[0]
    assert "is not an executable file for user" in lines[0]


def test_opt_venv_is_used_without_defaults_file(shim):
    opt = shim.tmp / "opt"
    opt.mkdir()
    (opt / "pruvon").write_text('#!/bin/sh\necho "opt pruvon $*"\n')
    (opt / "pruvon").chmod(0o755)
    proc = shim.run("commands", "pruvon", "a")
    assert (proc.returncode, proc.stdout) == (0, "opt pruvon a\n")


def test_path_is_the_last_resort(shim):
    (shim.tmp / "bin" / "pruvon").write_text('#!/bin/sh\necho "path pruvon $*"\n')
    (shim.tmp / "bin" / "pruvon").chmod(0o755)
    env = {"PATH": f"{shim.tmp / 'bin'}:/usr/bin:/bin"}
    proc = shim.run("commands", "pruvon", "b", extra_env=env)
    assert (proc.returncode, proc.stdout) == (0, "path pruvon b\n")


@pytest.mark.parametrize(
    "line",
    [
        "PRUVON_BIN={bin}",
        "export PRUVON_BIN={bin}",
        'PRUVON_BIN="{bin}"',
        "PRUVON_BIN='{bin}'",
        "  PRUVON_BIN={bin}  ",
    ],
)
def test_defaults_file_forms(shim, line):
    recorder = shim.use_recorder()
    defaults = shim.tmp / "default-pruvon"
    defaults.write_text(f"# PRUVON_BIN=/commented/out\nPRUVON_OTHER=1\n{line.format(bin=recorder)}\n")
    proc = shim.run("commands", "pruvon", "ok")
    assert proc.returncode == 0, proc.stderr
    assert shim.recorded_argv() == ["ok"]


def test_defaults_file_is_parsed_not_executed(shim):
    marker = shim.tmp / "executed"
    defaults = shim.tmp / "default-pruvon"
    defaults.write_text(f"touch {marker}\nPRUVON_BIN=$(touch {marker})\n")
    proc = shim.run("commands", "pruvon", "x")
    assert proc.returncode == 1
    assert not marker.exists()
    assert f"PRUVON_BIN=$(touch {marker})" in proc.stderr


def test_environment_pruvon_bin_is_ignored(shim):
    """One source of truth: a stray PRUVON_BIN in an operator's shell does not redirect Dokku."""
    recorder = shim.use_recorder()
    shim.use_bin(None)
    proc = shim.run("commands", "pruvon", "x", extra_env={"PRUVON_BIN": str(recorder)})
    assert proc.returncode == 1
    assert not shim.record_file.exists()


def test_relative_pruvon_bin_is_refused(shim):
    """A relative path would run whatever `pruvon` sits in Dokku's working directory."""
    (shim.tmp / "pruvon").write_text("#!/bin/sh\necho relative\n")
    (shim.tmp / "pruvon").chmod(0o755)
    shim.use_bin("pruvon")
    proc = shim.run("commands", "pruvon", "x")
    assert proc.returncode == 1
    assert "relative" not in proc.stdout
    assert "must be an absolute path" in proc.stderr


def test_unreadable_defaults_file_is_an_error():
    """As Dokku's unprivileged user (nobody here): an unreadable file is not skipped silently."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run the shim as another user")
    public = Path(tempfile.mkdtemp(prefix="pruvon-shim-"))
    try:
        public.chmod(0o755)
        defaults = public / "default-pruvon"
        defaults.write_text("PRUVON_BIN=/bin/true\n")
        defaults.chmod(0o600)
        proc = subprocess.run(
            [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
             str(PLUGIN_DIR / "commands"), "pruvon", "x"],
            capture_output=True, text=True, check=False, cwd=public,
            env={"PATH": "/usr/bin:/bin", "PRUVON_SHIM_DEFAULTS": str(defaults)},
        )
        assert proc.returncode == 1
        assert f"{defaults} is not readable by user " in proc.stderr
    finally:
        shutil.rmtree(public)


def test_report_as_the_dokku_user_explains_an_unreadable_config():
    """`dokku pruvon:report` runs as Dokku's user: a 0600 root config is unreadable, and said so."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run the shim as another user")
    probe = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                            "/bin/sh", "-c", '"$0" -c "import pruvon_core"', sys.executable],
                           capture_output=True, check=False, cwd="/")
    if probe.returncode != 0:
        pytest.skip(f"{sys.executable} is not usable by an unprivileged user here")
    public = Path(tempfile.mkdtemp(prefix="pruvon-shim-"))
    try:
        public.chmod(0o755)
        wrapper = public / "pruvon"
        wrapper.write_text(CLI_WRAPPER.format(python=sys.executable))
        wrapper.chmod(0o755)
        (public / "default-pruvon").write_text(f"PRUVON_BIN={wrapper}\n")
        config = public / "pruvon.yml"
        config.write_text("pruvon:\n  listen: 127.0.0.1:8080\n")
        config.chmod(0o600)
        proc = subprocess.run(
            [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
             str(PLUGIN_DIR / "commands"), "pruvon:report"],
            capture_output=True, text=True, check=False, cwd=public,
            env={"PATH": "/usr/bin:/bin", "HOME": str(public), "PRUVON_PLUGINS": "",
                 "PRUVON_SHIM_DEFAULTS": str(public / "default-pruvon"),
                 "PRUVON_CONFIG": str(config)},
        )
        assert proc.returncode == 0, proc.stderr
        assert "       Config readable:   false" in proc.stdout.splitlines()
        assert f"cannot read {config}" in proc.stdout
        assert f" !     nobody cannot read {config}: commands that need the config must run as root" in proc.stderr
    finally:
        shutil.rmtree(public)
