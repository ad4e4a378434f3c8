"""Static analysis of every shell script of the plugin, the build script and the installer."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.shim.conftest import PLUGIN_DIR, REPO


def _scripts() -> list[str]:
    found = [str(p) for p in sorted(PLUGIN_DIR.rglob("*"))
             if p.is_file() and p.read_bytes().startswith(b"#!/usr/bin/env bash")]
    return [*found, *(str(REPO / "scripts" / name) for name in ("build-dokku-plugin", "install.sh"))]


def test_every_plugin_script_is_bash_and_executable():
    scripts = _scripts()
    assert len(scripts) >= 14
    for script in scripts:
        assert os.access(script, os.X_OK), script
        assert subprocess.run(["bash", "-n", script], check=False).returncode == 0, script


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_is_clean():
    proc = subprocess.run(["shellcheck", "-x", *_scripts()], capture_output=True, text=True,
                          cwd=PLUGIN_DIR, check=False)
    assert proc.returncode == 0, proc.stdout
