"""``pruvon-docker-sim``: docker's views of the simulator's containers."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pruvon_testing.sim import containers, dockerview
from pruvon_testing.sim.core import Ctx, SimState
from pruvon_testing.sim.docker_main import run as docker
from pruvon_testing.sim.routing import locked
from tests.sim.simutil import ok

PS_KEYS = {
    "Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names",
    "Networks", "Ports", "RunningFor", "Size", "State", "Status",
}



@pytest.fixture
def host(tmp_path: Path) -> Path:
    """web (2 web containers), stopped (1 exited), empty (never deployed)."""
    root = tmp_path / "sim"
    ok(root, "apps:create", "web")
    ok(root, "git:from-image", "web", "example/web:1")
    ok(root, "ps:scale", "web", "web=2")
    ok(root, "apps:create", "stopped")
    ok(root, "git:from-image", "stopped", "example/web:1")
    ok(root, "ps:stop", "stopped")
    ok(root, "apps:create", "empty")
    return root


def ps_json(root: Path, *args: str) -> list[dict]:
    code, out, err = docker(["ps", *args, "--format", "{{json .}}"], root=root)
    assert code == 0, err
    return [json.loads(line) for line in out.decode().splitlines()]


def test_ps_json_has_dockers_keys_and_dokku_labels(host: Path) -> None:
    rows = ps_json(host, "-a", "--filter", "label=com.dokku.app-name")
    assert {r["Names"] for r in rows} == {"web.web.1", "web.web.2", "stopped.web.1"}
    for row in rows:
        assert set(row) == PS_KEYS
        assert len(row["ID"]) == 12
        labels = dict(item.split("=", 1) for item in row["Labels"].split(","))
        assert labels["com.dokku.container-type"] == "deploy"
        assert labels["com.dokku.dyno"] == row["Names"].split(".", 1)[1]
        assert labels["com.dokku.process-type"] == "web"


def test_ps_without_all_lists_running_only(host: Path) -> None:
    assert {r["Names"] for r in ps_json(host)} == {"web.web.1", "web.web.2"}
    assert {r["State"] for r in ps_json(host, "-a")} == {"running", "exited"}


def test_label_filters_are_anded_and_status_filter_applies(host: Path) -> None:
    rows = ps_json(host, "-a", "--filter", "label=com.dokku.app-name=web",
                   "--filter", "label=com.dokku.dyno=web.2")
    assert [r["Names"] for r in rows] == ["web.web.2"]
    exited = ps_json(host, "--filter", "status=exited")
    assert [r["Names"] for r in exited] == ["stopped.web.1"]
    assert exited[0]["Status"].startswith("Exited (0) ")
    assert exited[0]["Ports"] == ""


def test_quiet_and_no_trunc_ids(host: Path) -> None:
    _, short, _ = docker(["ps", "-aq"], root=host)
    _, full, _ = docker(["ps", "-a", "-q", "--no-trunc"], root=host)
    short_ids, full_ids = short.decode().split(), full.decode().split()
    assert len(short_ids) == 3 and all(len(i) == 12 for i in short_ids)
    assert [f[:12] for f in full_ids] == short_ids and all(len(f) == 64 for f in full_ids)


def test_invalid_filter_is_an_error(host: Path) -> None:
    code, out, err = docker(["ps", "--filter", "colour=red"], root=host)
    assert (code, out) == (1, b"")
    assert err == b"Error response from daemon: invalid filter 'colour=red'\n"


def test_inspect_array_with_labels_state_and_network(host: Path) -> None:
    code, out, _ = docker(["inspect", "web.web.1", "stopped.web.1"], root=host)
    assert code == 0
    running, stopped = json.loads(out)
    assert running["Name"] == "/web.web.1"
    assert running["Config"]["Labels"]["com.dokku.app-name"] == "web"
    assert running["State"]["Status"] == "running" and running["State"]["Running"] is True
    assert running["State"]["StartedAt"].endswith("Z")
    assert running["NetworkSettings"]["IPAddress"].startswith("172.17.0.")
    assert "PORT=5000" in running["Config"]["Env"]
    assert stopped["State"]["Running"] is False and stopped["NetworkSettings"]["IPAddress"] == ""


def test_inspect_format_and_missing_objects(host: Path) -> None:
    code, out, _ = docker(["inspect", "-f", "{{.State.Status}}", "stopped.web.1"], root=host)
    assert (code, out) == (0, b"exited\n")
    code, out, err = docker(["inspect", "nope"], root=host)
    assert (code, out, err) == (1, b"[]\n", b"Error: No such object: nope\n")
    code, _, err = docker(["container", "inspect", "nope"], root=host)
    assert (code, err) == (1, b"Error: No such container: nope\n")


def test_stats_no_stream_json(host: Path) -> None:
    code, out, _ = docker(["stats", "--no-stream", "--format", "{{json .}}"], root=host)
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert code == 0 and {r["Name"] for r in rows} == {"web.web.1", "web.web.2"}
    assert set(rows[0]) == {"BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage",
                            "Name", "NetIO", "PIDs"}
    assert rows[0]["CPUPerc"].endswith("%")


def test_logs_tail_timestamps_and_streams(host: Path) -> None:
    state = SimState(host)
    target = containers.find(state, "web.web.1")
    assert target is not None
    for number in range(3):
        containers.append_log(state, target.id, f"line {number}")
    containers.append_log(state, target.id, "oops", stream="stderr", time="2026-01-01T00:00:00.1Z")
    code, out, err = docker(["logs", "--tail", "2", "web.web.1"], root=host)
    assert (code, out, err) == (0, b"line 2\n", b"oops\n")
    _, out, _ = docker(["logs", "-t", "web.web.1"], root=host)
    assert out.decode().splitlines()[0].endswith("Z line 0")
    code, _, err = docker(["logs", "nope"], root=host)
    assert (code, err) == (1, b"Error: No such container: nope\n")


def test_exec_runs_with_the_container_environment(host: Path) -> None:
    code, out, _ = docker(["exec", "web.web.2", "sh", "-c", "echo $DYNO:$PORT"], root=host)
    assert (code, out) == (0, b"web.2:5000\n")
    code, _, err = docker(["exec", "stopped.web.1", "true"], root=host)
    assert code == 1 and b"is not running" in err
    code, out, _ = docker(["exec", "web.web.1", "no-such-binary-xyz"], root=host)
    assert code == 126 and b"executable file not found" in out


def test_unknown_command(host: Path) -> None:
    assert docker(["frobnicate"], root=host) == (
        1, b"", b"docker: 'frobnicate' is not a docker command.\nSee 'docker --help'\n")


def test_console_script_reads_the_state_dir(host: Path) -> None:
    env = {**os.environ, "PRUVON_SIM_ROOT": str(host)}
    done = subprocess.run(
        [sys.executable, "-m", "pruvon_testing.sim.docker_main", "ps", "--format",
         "{{.Names}}", "--filter", "label=com.dokku.app-name=web"],
        capture_output=True, env=env, check=True,
    )
    assert sorted(done.stdout.decode().split()) == ["web.web.1", "web.web.2"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"),
     (300, "5 minutes"), (3600, "About an hour"), (7200, "2 hours"), (3 * 86400, "3 days")],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert dockerview.human_duration(seconds) == text


def test_retire_prints_retired_containers_and_removes_all(host: Path) -> None:
    ok(host, "ps:restart", "web")  # scale replaced web.1, restart both: 3 retired
    state = SimState(host)
    retired = sorted((c for c in containers.app_containers(state, "web", include_retired=True)
                      if c.retired), key=lambda c: c.retired_seq)
    out = io.BytesIO()
    ctx = Ctx(state=state, args=[], command="apps:destroy", stdout=out, stderr=io.BytesIO())
    containers.retire_app_containers(ctx, "web")
    expected = "".join(f"       Attempting to retire web container {c.id}\n" for c in retired)
    assert out.getvalue().decode() == expected and len(retired) == 3
    assert containers.app_containers(state, "web", include_retired=True) == []


def _create_many(root: str, count: int) -> None:
    state = SimState(Path(root))
    for number in range(count):
        with locked(state):
            containers.create(state, app="par", process_type="web", dyno=f"web.{number}",
                              container_type="deploy", image="dokku/par:latest",
                              name=f"par.{os.getpid()}.{number}", port=5000)


def test_concurrent_processes_get_distinct_ips_and_ports(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_create_many, args=(str(tmp_path), 5)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    made = containers.all_containers(SimState(tmp_path))
    assert len(made) == 20
    assert len({c.ip for c in made}) == 20 and len({c.host_port for c in made}) == 20
    assert len({c.seq for c in made}) == 20


def test_status_follows_the_simulated_clock(host: Path) -> None:
    SimState(host).set_knobs(time_offset=7200)
    rows = ps_json(host, "--filter", "label=com.dokku.app-name=web")
    assert {r["Status"] for r in rows} == {"Up 2 hours"}
    assert {r["RunningFor"] for r in rows} == {"2 hours ago"}


def test_logs_follow_streams_new_lines_until_sigterm(host: Path) -> None:
    import signal

    state = SimState(host)
    target = containers.find(state, "web.web.1")
    assert target is not None
    env = {**os.environ, "PRUVON_SIM_ROOT": str(host)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pruvon_testing.sim.docker_main", "logs", "-f", "web.web.1"],
        stdout=subprocess.PIPE, env=env,
    )
    containers.append_log(state, target.id, "first")
    containers.append_log(state, target.id, "second")
    assert proc.stdout is not None
    assert [proc.stdout.readline(), proc.stdout.readline()] == [b"first\n", b"second\n"]
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 0
