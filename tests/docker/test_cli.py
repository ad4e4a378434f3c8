"""``pruvon docker …`` run as a real subprocess against the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pruvon_core import audit
from pruvon_testing.sim import containers
from pruvon_testing.sim.core import SimState
from tests.docker.test_web import changes

PRUVON = str(Path(sys.executable).parent / "pruvon")


@pytest.fixture
def pruvon(pruvon_config: Any, sim_root: Path) -> Any:
    def call(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([PRUVON, "docker", *args], input=stdin, capture_output=True,
                              text=True, env=dict(os.environ), timeout=120, check=False)

    return call


def test_ps_table_and_json(pruvon: Any) -> None:
    table = pruvon("ps")
    assert table.returncode == 0, table.stderr
    assert table.stdout.split("\n")[0].split() == ["ID", "NAME", "APP", "IMAGE", "STATE",
                                                   "UPTIME", "CPU", "MEMORY"]
    data = json.loads(pruvon("ps", "--format", "json").stdout)
    apps = {c["name"]: c["app"] for c in data["containers"]}
    assert apps["blog.web.1"] == "blog" and apps["redis-cache"] is None
    only = json.loads(pruvon("ps", "--app", "blog", "--format", "json").stdout)
    assert [c["name"] for c in only["containers"]] == ["blog.web.1"]


def test_stats_per_app(pruvon: Any) -> None:
    data = json.loads(pruvon("stats", "--format", "json").stdout)
    assert set(data["apps"]) == {"blog"}
    assert {c["name"] for c in data["containers"]} == {"blog.web.1", "redis-cache"}


def test_images_volumes_networks_show_unused(pruvon: Any) -> None:
    images = json.loads(pruvon("images", "--format", "json").stdout)["images"]
    assert any(i["dangling"] and i["unused"] for i in images)
    volumes = {v["name"]: v for v in json.loads(pruvon("volumes", "--format", "json").stdout)[
        "volumes"]}
    assert volumes["cache-data"]["links"] == 1 and not volumes["cache-data"]["unused"]
    table = pruvon("networks").stdout
    assert "spare" in table and "redis-cache" in table


def test_lifecycle_prints_refs_and_is_audited(pruvon: Any, sim_root: Path,
                                              pruvon_config: Any) -> None:
    stopped = pruvon("stop", "redis-cache")
    assert (stopped.returncode, stopped.stdout) == (0, "redis-cache\n")
    assert containers.find(SimState(sim_root), "redis-cache").status == "exited"
    assert pruvon("start", "redis-cache").returncode == 0
    killed = pruvon("kill", "-s", "TERM", "redis-cache", "--format", "json")
    assert json.loads(killed.stdout) == {"action": "kill", "containers": ["redis-cache"]}
    (entry,) = audit.read(action="docker.kill", state_dir=pruvon_config.state_dir)
    assert entry.details["signal"] == "TERM" and entry.details["via"] == "cli"


def test_bad_input_exit_2_and_nothing_runs(pruvon: Any, docker_calls: Path) -> None:
    for args in (("stop", "--", "-rf"), ("kill", "-s", "STOP", "redis-cache"),
                 ("logs", "-n", "-5", "redis-cache"), ("rm", "a b")):
        result = pruvon(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert changes(docker_calls) == []


def test_missing_container_exit_20(pruvon: Any) -> None:
    result = pruvon("restart", "nope")
    assert result.returncode == 20 and "No such container: nope" in result.stderr


def test_rm_dokku_container_needs_confirm(pruvon: Any, sim_root: Path) -> None:
    refused = pruvon("rm", "old.web.1")
    assert refused.returncode == 2 and "belongs to Dokku app old" in refused.stderr
    assert "confirm by typing 'old'" in refused.stderr
    assert pruvon("rm", "old.web.1", "--confirm", "old").returncode == 0
    assert containers.find(SimState(sim_root), "old.web.1") is None


def test_logs_print_history(pruvon: Any, sim_root: Path) -> None:
    found = containers.find(SimState(sim_root), "redis-cache")
    containers.append_log(SimState(sim_root), found.id, "hello from redis")
    assert pruvon("logs", "-n", "5", "redis-cache").stdout == "hello from redis\n"


def test_prune_dry_run_then_typed_confirmation(pruvon: Any, sim_root: Path,
                                               docker_calls: Path) -> None:
    dry = pruvon("prune", "--dry-run")
    assert dry.returncode == 0
    assert "old.web.1 (Dokku app old: ps:start cannot bring it back)" in dry.stdout
    plan = json.loads(pruvon("prune", "--dry-run", "--volumes", "--format", "json").stdout)
    assert len(plan["plan"]["volume_list"]) == 1
    declined = pruvon("prune", stdin="no\n")
    assert declined.returncode == 2 and 'type "prune" to confirm' in declined.stderr
    assert changes(docker_calls) == []
    done = pruvon("prune", stdin="prune\n")
    assert done.returncode == 0 and "Total reclaimed space" in done.stdout
    assert changes(docker_calls) == ["system prune -f"]
    assert containers.find(SimState(sim_root), "worker") is None
