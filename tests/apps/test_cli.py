"""``pruvon apps …`` run as a real subprocess against the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pruvon_core import audit
from pruvon_testing.sim.core import SimState
from tests.apps.conftest import seed_logs

PRUVON = str(Path(sys.executable).parent / "pruvon")


@pytest.fixture
def pruvon(pruvon_config: Any, sim_root: Path) -> Any:
    """Run ``pruvon ARGS`` with the fixture config, state dir and simulator."""

    def call(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([PRUVON, *args], input=stdin, capture_output=True, text=True,
                              env=dict(os.environ), timeout=120, check=False)

    return call


def test_list_table_and_json(pruvon: Any) -> None:
    table = pruvon("apps", "list")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["NAME", "STATE", "PROCESSES", "DOMAINS",
                                                    "LAST_DEPLOY"]
    data = json.loads(pruvon("apps", "list", "--format", "json").stdout)
    states = {a["name"]: a["state"] for a in data["apps"]}
    assert states == {"blog": "running", "empty": "not deployed", "secret": "running",
                      "shop-api": "running"}
    found = json.loads(pruvon("apps", "list", "--search", "shop", "--format", "json").stdout)
    assert [a["name"] for a in found["apps"]] == ["shop-api"]


def test_info_and_missing_app_exit_codes(pruvon: Any) -> None:
    info = json.loads(pruvon("apps", "info", "blog", "--format", "json").stdout)
    assert info["state"] == "running" and info["scale"] == {"web": 1}
    shown = json.loads(pruvon("apps", "show", "blog", "--format", "json").stdout)
    assert (shown["name"], shown["state"], shown["scale"]) == ("blog", "running", {"web": 1})
    missing = pruvon("apps", "info", "nope")
    assert missing.returncode == 20 and "App nope does not exist" in missing.stderr
    invalid = pruvon("apps", "info", "-x")
    assert invalid.returncode != 0 and invalid.stdout == ""


def test_config_set_show_unset_round_trip(pruvon: Any) -> None:
    value = "multi\nline $HOME 'q' \"d\" ü"
    done = pruvon("apps", "config", "set", "blog", f"TRICKY={value}", "PLAIN=1", "--no-restart")
    assert done.returncode == 0, done.stderr
    shown = json.loads(pruvon("apps", "config", "show", "blog", "--format", "json").stdout)
    assert shown["TRICKY"] == value and shown["PLAIN"] == "1"
    dotenv = pruvon("apps", "config", "show", "blog", "--format", "env").stdout
    assert 'PLAIN="1"' in dotenv and "TRICKY=\"multi\\nline \\$HOME" in dotenv
    assert pruvon("apps", "config", "unset", "blog", "PLAIN", "--no-restart").returncode == 0
    assert "PLAIN" not in json.loads(pruvon("apps", "config", "show", "blog", "--format",
                                            "json").stdout)


@pytest.mark.parametrize(("args", "message"), [
    (("apps", "config", "set", "blog", "NOEQUALS"), "is not KEY=value"),
    (("apps", "config", "set", "blog", "1X=y"), "config key '1X' is invalid"),
    (("apps", "config", "set", "blog", 'Q=ends"'), "ends with"),
    (("apps", "scale", "blog", "web=-1"), "web=-1"),
    (("apps", "ports", "blog", "add", "http:80"), "scheme:host-port"),
    (("apps", "storage", "blog", "mount", "../etc", "/x"), "must not contain"),
    (("apps", "domains", "blog", "add", "--", "-evil.com"), "starts with '-'"),
    (("apps", "create", "Bad_Name"), "app name"),
    (("apps", "create", "blog"), "already exists"),
])
def test_bad_input_is_a_clear_error_with_exit_2(pruvon: Any, args: tuple, message: str) -> None:
    result = pruvon(*args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert message in result.stderr


def test_restart_prints_dokku_output_and_audits(pruvon: Any, pruvon_config: Any) -> None:
    result = pruvon("apps", "restart", "blog")
    assert result.returncode == 0, result.stderr
    assert "Deploying web" in result.stdout
    events = audit.read(state_dir=pruvon_config.state_dir)
    assert any(e.action == "apps.ps.write" and e.target == "app:blog" and e.result == "ok"
               and e.details.get("via") == "cli" for e in events)
    never = pruvon("apps", "restart", "empty")
    assert never.returncode == 1 and "has not been deployed" in never.stderr


def test_scale_domains_ports(pruvon: Any) -> None:
    assert pruvon("apps", "scale", "blog", "web=2").returncode == 0
    assert json.loads(pruvon("apps", "scale", "blog", "--format", "json").stdout) == {"web": 2}
    assert pruvon("apps", "domains", "blog", "add", "blog.example.com").returncode == 0
    domains = json.loads(pruvon("apps", "domains", "blog", "--format", "json").stdout)
    assert domains["app"] == ["blog.example.com"]
    assert pruvon("apps", "ports", "blog", "set", "http:8080:5000").returncode == 0
    ports = json.loads(pruvon("apps", "ports", "blog", "--format", "json").stdout)
    assert ports["configured"] == ["http:8080:5000"]


def test_busy_app_is_refused_with_exit_3(pruvon: Any, pruvon_config: Any) -> None:
    from pruvon_core.operations import OperationStore

    store = OperationStore(pruvon_config.state_dir)
    fd = store.acquire("app:blog")  # another worker is running something on blog
    try:
        result = pruvon("apps", "restart", "blog")
    finally:
        os.close(fd)
    assert result.returncode == 3 and "busy" in result.stderr


def test_create_and_destroy(pruvon: Any, pruvon_config: Any) -> None:
    created = pruvon("apps", "create", "fresh", "--image", "example/web:1", "--env", "A=1",
                     "--domain", "fresh.example.com", "--new-service", "redis:fresh-cache")
    assert created.returncode == 0, created.stderr
    info = json.loads(pruvon("apps", "info", "fresh", "--format", "json").stdout)
    assert info["state"] == "running" and info["domains"]["app_vhosts"] == ["fresh.example.com"]
    refused = pruvon("apps", "destroy", "fresh", stdin="wrong\n")
    assert refused.returncode == 2 and "did not match" in refused.stderr
    done = pruvon("apps", "destroy", "fresh", stdin="fresh\n")
    assert done.returncode == 0, done.stderr
    snapshots = list((pruvon_config.state_dir / "snapshots" / "apps").glob("fresh-*.json"))
    assert len(snapshots) == 1 and json.loads(snapshots[0].read_text())["env"]["A"] == "1"
    gone = pruvon("apps", "info", "fresh")
    assert gone.returncode == 20
    forced = pruvon("apps", "destroy", "shop-api", "--force")
    assert forced.returncode == 0, forced.stderr


def test_dokku_failure_exits_1_with_dokkus_message(pruvon: Any, sim_root: Path) -> None:
    SimState(sim_root).set_knobs(faults={"git:from-image": {"exit": 1,
                                                            "stderr": " !     pull failed\n"}})
    result = pruvon("apps", "deploy", "blog", "example/web:2")
    assert result.returncode == 1 and "pull failed" in result.stderr


def test_logs_and_operations(pruvon: Any, sim_root: Path) -> None:
    seed_logs(sim_root, "blog", [f"request {n}" for n in range(8)])
    logs = pruvon("apps", "logs", "blog", "-n", "5")
    assert logs.returncode == 0, logs.stderr
    assert [line.split()[-1] for line in logs.stdout.splitlines()] == ["3", "4", "5", "6", "7"]
    never = pruvon("apps", "logs", "empty")
    assert never.returncode == 1 and "has not been deployed" in never.stderr
    pruvon("apps", "restart", "blog")
    ops = json.loads(pruvon("apps", "operations", "--app", "blog", "--format", "json").stdout)
    assert ops["operations"][0]["title"] == "restart blog"
    assert ops["operations"][0]["status"] == "succeeded"


def test_list_reads_domains_once_then_from_the_index(pruvon: Any, pruvon_config: Any) -> None:
    assert pruvon("apps", "domains", "blog", "add", "blog.example.com").returncode == 0
    first = json.loads(pruvon("apps", "list", "--format", "json").stdout)
    assert {a["name"]: a["domains"] for a in first["apps"]}["blog"] == ["blog.example.com"]
    index = pruvon_config.state_dir / "apps-domains.json"
    assert index.exists()
    data = json.loads(index.read_text())
    data["apps"]["blog"] = ["cached.example.com"]
    index.write_text(json.dumps(data))
    cached = json.loads(pruvon("apps", "list", "--format", "json").stdout)
    assert {a["name"]: a["domains"] for a in cached["apps"]}["blog"] == ["cached.example.com"]
    fresh = json.loads(pruvon("apps", "list", "--refresh", "--format", "json").stdout)
    assert {a["name"]: a["domains"] for a in fresh["apps"]}["blog"] == ["blog.example.com"]


def test_failed_create_lists_what_to_roll_back(pruvon: Any, sim_root: Path) -> None:
    SimState(sim_root).set_knobs(faults={"git:from-image": {"exit": 1,
                                                            "stderr": " !     pull failed\n"}})
    result = pruvon("apps", "create", "half", "--image", "example/web:1",
                    "--new-service", "redis:half-cache")
    assert result.returncode == 1 and "pull failed" in result.stderr
    assert "completed steps: create app, create and link redis half-cache" in result.stderr
    assert ("to roll back: pruvon apps destroy half --force && dokku redis:destroy half-cache"
            in result.stderr)
