"""The real plugin installed into the Dokku simulator, driven as `dokku` would be.

Needs SIM-A's plugin dispatch (``testing/pruvon_testing/sim/dispatch.py``): the
simulator runs ``<root>/plugins/enabled/<name>/`` scripts with Dokku's rules,
fires triggers at them, and builds ``help`` from their ``commands help``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shim.conftest import PLUGIN_DIR, Shim

pytest.importorskip("pruvon_testing.sim.dispatch", reason="needs the simulator's plugin dispatch")

SIM = Path(sys.executable).parent / "pruvon-dokku-sim"
SUMMARY = "Administer this Dokku host with Pruvon (web UI and CLI)"


@pytest.fixture
def host(shim: Shim) -> Shim:
    """A simulated Dokku host with our plugin enabled as `pruvon` (a symlink, as Dokku does)."""
    root = shim.tmp / "sim"
    enabled = root / "plugins" / "enabled"
    enabled.mkdir(parents=True)
    (enabled / "pruvon").symlink_to(PLUGIN_DIR)
    shim.env["PRUVON_SIM_ROOT"] = str(root)
    shim.use_real_cli()
    return shim


def dokku(shim: Shim, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([str(SIM), *args], input=stdin, capture_output=True, text=True,
                          env=shim.env, cwd=shim.tmp, timeout=120, check=False)


def test_dokku_help_shows_our_line_among_community_plugins(host):
    proc = dokku(host, "help")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    ours = [line for line in lines if line.startswith("    pruvon ")]
    assert len(ours) == 1
    assert ours[0].endswith(SUMMARY)
    community = [line for line in lines if line.startswith(("    postgres ", "    redis "))]
    starts = {len(line) - len(line.split("  ")[-1].lstrip()) for line in [*community, *ours]}
    assert len(starts) == 1, [*community, *ours]


def test_dokku_help_all_lists_our_commands(host):
    proc = dokku(host, "help", "--all")
    assert proc.returncode == 0, proc.stderr
    assert any(line.startswith("    pruvon:report [--format table|json]") for line in
               proc.stdout.splitlines())


def test_pruvon_help_through_dokku(host):
    proc = dokku(host, "pruvon:help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Usage: dokku pruvon[:COMMAND]\n\n{SUMMARY}\n\nAdditional commands:\n")
    assert "    pruvon:shimtest-echo-args [<words>...]" in proc.stdout


def test_pruvon_report_json_through_dokku(host):
    proc = dokku(host, "pruvon:report", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["listen"] == "127.0.0.1:9099"
    assert report["config"] == {"path": host.env["PRUVON_CONFIG"], "readable": True,
                                "valid": True, "errors": []}
    assert [p["name"] for p in report["plugins"]] == ["shimtest"]


def test_third_party_command_through_dokku(host):
    proc = dokku(host, "pruvon:shimtest-echo-args", "a b", "$(id)", "--force")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["a b", "$(id)", "--force"]


def test_unknown_pruvon_command_through_dokku(host):
    proc = dokku(host, "pruvon:nope")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        " !     `pruvon:nope` is not a pruvon command.",
        " !     See `dokku pruvon:help` for a list of available commands.",
    ]


def test_foreign_commands_still_reach_dokku(host):
    proc = dokku(host, "nope:cmd")
    assert proc.returncode == 1
    assert "`nope:cmd` is not a dokku command." in proc.stderr


def test_apps_create_fires_post_create_into_the_plugin_hook(host):
    proc = dokku(host, "apps:create", "blog")
    assert proc.returncode == 0, proc.stderr
    assert {"name": "post-create", "args": ["blog"]} in host.triggers()


def test_failing_pruvon_does_not_break_apps_create(host):
    proc = dokku(host, "apps:create", "blog", stdin="")
    assert proc.returncode == 0
    host.use_bin(host.tmp / "missing-pruvon")
    proc = dokku(host, "apps:create", "journal")
    assert proc.returncode == 0
    assert dokku(host, "apps:exists", "journal").returncode == 0


def test_veto_on_pre_delete_keeps_the_app(host):
    assert dokku(host, "apps:create", "blog").returncode == 0
    host.env["SHIMTEST_TRIGGER_MODE"] = "veto"
    proc = dokku(host, "apps:destroy", "blog", "--force")
    assert proc.returncode != 0
    assert "Pruvon vetoed pre-delete" in proc.stderr
    assert dokku(host, "apps:exists", "blog").returncode == 0
    host.env["SHIMTEST_TRIGGER_MODE"] = ""
    assert dokku(host, "apps:destroy", "blog", "--force").returncode == 0
    names = [t["name"] for t in host.triggers()]
    assert names.count("pre-delete") == 2 and names.count("post-delete") == 1
