"""``dokku pruvon:services-*``: the services CLI through the Dokku plugin shim on the simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shim.conftest import PLUGIN_DIR, Shim, shim  # noqa: F401  (fixture re-used)

SIM = Path(sys.executable).parent / "pruvon-dokku-sim"


@pytest.fixture
def host(shim: Shim) -> Shim:  # noqa: F811
    """The simulator with our plugin enabled and the built-in services plugin loaded."""
    root = shim.tmp / "sim"
    enabled = root / "plugins" / "enabled"
    enabled.mkdir(parents=True)
    (enabled / "pruvon").symlink_to(PLUGIN_DIR)
    bindir = Path(sys.executable).parent
    shim.env.update(PRUVON_SIM_ROOT=str(root), PRUVON_PLUGINS="services",
                    PRUVON_DOKKU_COMMAND=str(bindir / "pruvon-dokku-sim"),
                    PRUVON_DOCKER_COMMAND=str(bindir / "pruvon-docker-sim"))
    shim.use_real_cli()
    return shim


def dokku(env: Shim, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([str(SIM), *args], input=stdin, capture_output=True, text=True,
                          env=env.env, cwd=env.tmp, timeout=120, check=False)


def test_services_commands_are_listed_in_dokkus_help_format(host: Shim) -> None:
    proc = dokku(host, "pruvon:help")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for usage in ("pruvon:services-list", "pruvon:services-create <type> <name>",
                  "pruvon:services-link <type> <name> <app>",
                  "pruvon:services-export <type> <name>",
                  "pruvon:services-import <type> <name> <file>",
                  "pruvon:services-destroy <type> <name> [--force]"):
        assert any(line.startswith(f"    {usage}") for line in lines), usage


def test_create_list_and_destroy_through_dokku(host: Shim) -> None:
    created = dokku(host, "pruvon:services-create", "redis", "cache")
    assert created.returncode == 0, created.stderr
    listed = dokku(host, "pruvon:services-list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [(s["type"], s["name"], s["status"]) for s in json.loads(listed.stdout)["services"]
            ] == [("redis", "cache", "running")]
    refused = dokku(host, "pruvon:services-create", "redis", "$(id)")
    assert refused.returncode == 2 and "service name '$(id)' is invalid" in refused.stderr
    gone = dokku(host, "pruvon:services-destroy", "redis", "cache", "--force")
    assert gone.returncode == 0, gone.stderr
    assert "cache" not in dokku(host, "redis:list").stdout
