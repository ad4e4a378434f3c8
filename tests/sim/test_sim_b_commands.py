"""Smaller SIM-B commands beyond the captures: version emulation, properties, toggles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run as dokku
from tests.sim.simutil import ok


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "sim"
    ok(path, "apps:create", "demo")
    return path


def test_old_dokku_has_no_ps_scale_format(root: Path) -> None:
    SimState(root).set_knobs(version="0.35.0")
    code, out, err = dokku(["ps:scale", "demo", "--format", "json"], root=root)
    assert (code, out) == (2, b"")
    assert err.startswith(b"Usage of ps:scale:\n") and err.endswith(b"unknown flag: --format\n")
    assert ok(root, "ps:scale", "demo").startswith(b"-----> Scaling for demo\n")


def test_ps_set_global_and_unset(root: Path) -> None:
    assert ok(root, "ps:set", "--global", "restart-policy", "always") == (
        b"=====> Setting restart-policy to always\n")
    data = json.loads(ok(root, "ps:report", "demo", "--format", "json"))
    assert (data["global-restart-policy"], data["computed-restart-policy"]) == ("always", "always")
    assert ok(root, "ps:set", "--global", "restart-policy") == b"=====> Unsetting restart-policy\n"
    assert ok(root, "ps:report", "demo", "--ps-computed-restart-policy") == b"on-failure:10\n"


def test_ps_report_unknown_flag_lists_valid_ones(root: Path) -> None:
    code, _, err = dokku(["ps:report", "demo", "--nope"], root=root)
    assert code == 1 and err.startswith(b" !     Invalid flag passed, valid flags: --deployed, ")


def test_ps_restore_starts_apps_that_should_run(root: Path) -> None:
    ok(root, "git:from-image", "demo", "example/web:1")
    ok(root, "apps:create", "held")
    ok(root, "git:from-image", "held", "example/web:1")
    ok(root, "ps:stop", "held")
    ok(root, "ps:stop", "demo")
    ok(root, "ps:set", "demo", "restore", "true")
    out = ok(root, "ps:restore")
    assert b"Restoring app demo" in out and b"Skipping held: restore is disabled" in out
    assert ok(root, "ps:report", "demo", "--running") == b"true\n"
    assert ok(root, "ps:report", "held", "--running") == b"false\n"


def test_resource_per_process_type_and_clear(root: Path) -> None:
    ok(root, "resource:limit", "--process-type", "web", "--cpu", "2", "demo")
    out = ok(root, "resource:limit", "--process-type", "web", "demo")
    assert out.startswith(b"=====> resource limits demo information [web]\n       cpu: 2\n")
    data = json.loads(ok(root, "resource:report", "demo", "--format", "json"))
    assert data == {"web.limit.cpu": "2", "resource-web.limit.cpu": "2"}
    ok(root, "resource:limit-clear", "demo")
    assert ok(root, "resource:report", "demo", "--format", "json") == b"{}\n"


def test_checks_toggles_feed_the_report(root: Path) -> None:
    ok(root, "checks:disable", "demo", "worker")
    assert ok(root, "checks:report", "demo", "--checks-disabled-list") == b"worker\n"
    ok(root, "checks:enable", "demo")
    assert ok(root, "checks:report", "demo", "--checks-disabled-list") == b"none\n"


def test_events_toggle(root: Path) -> None:
    ok(root, "events:on")
    assert b"post-deploy" in ok(root, "events:list")
    ok(root, "events:off")
    assert dokku(["events:list"], root=root) == (0, b"", b" !     Events logger disabled\n")


def test_builds_list_json_and_git_set(root: Path) -> None:
    assert ok(root, "builds:list", "--format", "json") == b"[]\n"
    ok(root, "git:set", "demo", "deploy-branch", "main")
    assert ok(root, "git:report", "demo", "--git-computed-deploy-branch") == b"main\n"
    code, _, err = dokku(["git:set", "demo", "colour", "red"], root=root)
    assert code == 1 and b"Invalid property specified" in err


def test_network_report_lists_running_web_listeners(root: Path) -> None:
    assert ok(root, "network:report", "demo", "--network-web-listeners") == b"\n"
    ok(root, "git:from-image", "demo", "example/web:1")
    listeners = ok(root, "network:report", "demo", "--network-web-listeners").decode().split()
    assert len(listeners) == 1 and listeners[0].endswith(":5000")
