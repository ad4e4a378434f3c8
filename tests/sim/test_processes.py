"""Deploy lifecycle, and ``run``/``enter``/``logs -t`` as real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pruvon_testing.sim import containers, images
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.docker_main import run as docker
from pruvon_testing.sim.main import run as dokku
from tests.golden.simhost import run_tty
from tests.sim.simutil import ok


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "sim"
    ok(root, "apps:create", "demo")
    ok(root, "config:set", "--no-restart", "demo", "GREETING=hello there")
    ok(root, "git:from-image", "demo", "example/web:1")
    return root


def report(root: Path, app: str = "demo") -> dict[str, str]:
    return json.loads(ok(root, "ps:report", app, "--format", "json"))


def test_deploy_marks_deployed_and_runs_web(app: Path) -> None:
    data = report(app)
    assert (data["deployed"], data["running"], data["processes"]) == ("true", "true", "1")
    assert data["status-web.1"].startswith("running (CID: ")


def test_stop_start_restart_cycle(app: Path) -> None:
    ok(app, "ps:stop", "demo")
    assert (report(app)["running"], report(app)["restore"]) == ("false", "false")
    code, out, err = dokku(["ps:start", "demo"], root=app)
    assert code == 0 and b"App has been detected as not running, releasing" in err
    assert b"=====> Application deployed:" in out
    assert (report(app)["running"], report(app)["restore"]) == ("true", "true")
    before = report(app)["status-web.1"]
    ok(app, "ps:restart", "demo")
    assert report(app)["status-web.1"] != before


def test_scale_deploys_only_changed_types_and_skip_deploy_stores(app: Path) -> None:
    out = ok(app, "ps:scale", "demo", "web=2", "worker=1")
    assert b"Deploying web (count=2)" in out and b"Deploying worker (count=1)" in out
    assert report(app)["processes"] == "3"
    out = ok(app, "ps:scale", "--skip-deploy", "demo", "worker=3")
    assert out == b"-----> Scaling demo processes: worker=3\n"
    assert report(app)["processes"] == "3"
    assert json.loads(ok(app, "ps:scale", "demo", "--format", "json")) == [
        {"process_type": "web", "quantity": 2}, {"process_type": "worker", "quantity": 3}]


def test_mixed_running_state(app: Path) -> None:
    ok(app, "ps:scale", "demo", "web=2")
    state = SimState(app)
    first = containers.current_containers(state, "demo")[0]
    containers.set_status(state, first, "exited", 1)
    assert report(app)["running"] == "mixed"


def test_registered_image_deploys_and_unknown_image_fails_to_pull(tmp_path: Path) -> None:
    root = tmp_path / "sim"
    ok(root, "apps:create", "api")
    images.register_image(SimState(root), "acme/api:2", cmd=["api", "serve"], ports=[8080])
    out = ok(root, "git:from-image", "api", "acme/api:2")
    assert b"port=8080" in out and b"Image exists on host, skipping pull" in out
    code, out, _ = dokku(["git:from-image", "api", "acme/other:1"], root=root)
    assert code == 1 and b" !     Failed to pull image: acme/other:1\n" in out
    with pytest.raises(ValueError):
        images.register_image(SimState(root), "-bad")


def test_post_deploy_trigger_reaches_installed_plugins(tmp_path: Path) -> None:
    root = tmp_path / "sim"
    plugin = root / "plugins" / "enabled" / "probe"
    plugin.mkdir(parents=True)
    marker = tmp_path / "fired"
    script = plugin / "post-deploy"
    script.write_text(f'#!/bin/sh\necho "$@" > {marker}\n')
    script.chmod(0o755)
    ok(root, "apps:create", "demo")
    ok(root, "git:from-image", "demo", "example/web:1")
    assert marker.read_text().split()[0] == "demo"


def test_deploy_clears_the_app_lock(app: Path) -> None:
    ok(app, "apps:lock", "demo")
    dokku(["git:from-image", "demo", "localbusybox:latest"], root=app)  # fails: no CMD
    code, _, _ = dokku(["apps:locked", "demo"], root=app)
    assert code == 1
    assert report(app)["running"] == "true"  # the old container keeps serving


def test_in_process_run_uses_app_env_and_stdin_but_not_host_env(app: Path) -> None:
    code, out, _ = dokku(["run", "demo", "sh", "-c", "read x; echo $x/$GREETING/$DYNO"],
                         root=app, stdin=b"piped\n")
    text = out.decode().strip()
    assert code == 0 and text.startswith("piped/hello there/run.")
    os.environ["PRUVON_TEST_HOST_ONLY"] = "leak"
    try:
        _, out, _ = dokku(["run", "demo", "env"], root=app)
    finally:
        del os.environ["PRUVON_TEST_HOST_ONLY"]
    assert b"PRUVON_TEST_HOST_ONLY" not in out and b"GREETING=hello there" in out
    assert containers.app_containers(SimState(app), "demo")[-1].container_type == "deploy"


def test_run_unknown_command(app: Path) -> None:
    code, _, err = dokku(["run", "demo", "no-such-binary-xyz"], root=app)
    assert code == 127 and b"executable file not found" in err


def test_interactive_run_shell_under_a_pty(app: Path) -> None:
    code, output = run_tty(
        app, "run", "demo", script=b"echo dyno=$DYNO; tty; exit 7\n", env={"TERM": "xterm"})
    assert code == 7
    # the sandbox (bwrap) binds the caller's TTY as the container's /dev/console;
    # the host's /dev/pts (every other terminal) is not mounted in it
    assert b"dyno=run." in output and b"/dev/console" in output


def test_run_container_is_visible_while_it_runs(app: Path) -> None:
    env = {**os.environ, "PRUVON_SIM_ROOT": str(app)}
    proc = subprocess.Popen([sys.executable, "-m", "pruvon_testing.sim", "run", "demo",
                             "sh", "-c", "echo started; read line"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline() == b"started\n"
    filters = ["--filter", "label=com.dokku.container-type=run", "--format", "{{.Names}}"]
    _, out, _ = docker(["ps", *filters], root=app)
    assert out.decode().startswith("demo.run.")
    proc.communicate(b"done\n", timeout=20)
    assert docker(["ps", *filters], root=app)[1] == b""


def test_enter_runs_in_the_web_container_env(app: Path) -> None:
    code, output = run_tty(
        app, "enter", "demo", "web", script=b"echo $DYNO $PORT; exit\n", env={"TERM": "xterm"})
    assert code == 0 and b"web.1 5000" in output
    code, _, err = dokku(["enter", "demo", "worker", "true"], root=app)
    assert code == 1 and err == (b" !     No containers found for type 'worker'\n"
                                 b" !     Available types for app (demo): web\n")


def test_run_detached_output_lands_in_the_container_log(app: Path) -> None:
    out = ok(app, "run:detached", "demo", "sh", "-c", "echo from-detached; sleep 5")
    name = out.decode().strip()
    assert name.startswith("demo.run.")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _, logs, _ = docker(["logs", name], root=app)
        if logs == b"from-detached\n":
            break
        time.sleep(0.1)
    assert logs == b"from-detached\n"


def test_logs_follow_keeps_producing_lines_until_sigterm(app: Path) -> None:
    SimState(app).set_knobs(log_traffic_interval=0.2)
    env = {**os.environ, "PRUVON_SIM_ROOT": str(app)}
    proc = subprocess.Popen([sys.executable, "-m", "pruvon_testing.sim", "logs", "demo",
                             "-t"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(3)]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 143 and err == b" !     context canceled\n"
    assert all(b"app[web.1]:" in line and b"response:200" in line for line in lines)


def test_enter_by_container_id_still_needs_a_type_word(app: Path) -> None:
    ok(app, "ps:scale", "demo", "web=2")
    second = next(c for c in containers.current_containers(SimState(app), "demo")
                  if c.dyno == "web.2")
    out = ok(app, "enter", "demo", "--container-id", second.short_id, "web", "sh", "-c",
             "echo $DYNO")
    assert out == b"web.2\n"
    code, _, err = dokku(["enter", "demo", "--container-id", second.short_id, "echo", "hi"],
                         root=app)
    assert code == 1 and b"No containers found for type 'echo'" in err


# -- confinement: a container's process is not a process on the host --------------------


def test_container_process_is_confined_to_the_app_filesystem(app: Path) -> None:
    script = ("id -u; ls /; pwd; echo written > /app/marker; cat /etc/shadow; ls /root /work; "
              "echo shown-$(cat /proc/1/cmdline | tr '\\0' ' ')")
    _, out, err = dokku(["run", "demo", "sh", "-c", script], root=app)
    lines = out.decode().splitlines()
    assert lines[0] == "1000" != str(os.getuid())
    listing = set(lines[1:lines.index("/app")])
    assert listing == {"app", "bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp",
                       "usr", "var"}
    assert (app / "fs" / "demo" / "app" / "marker").read_text() == "written\n"
    assert b"/etc/shadow: No such file" in err and b"/root" in err and b"/work" in err
    assert "shown-" in out.decode() and "pruvon" not in lines[-1]  # its own pid namespace


def test_container_process_has_no_network(app: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        probe = (f"import socket; socket.create_connection(('127.0.0.1', {port}), 2); "
                 "print('connected')")
        code, out, err = dokku(["run", "demo", "python3", "-c", probe], root=app)
    assert code != 0 and b"connected" not in out
    assert b"Connection refused" in err or b"unreachable" in err


def test_without_bubblewrap_nothing_runs(app: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    env = {"PRUVON_SIM_BWRAP": str(tmp_path / "no-bwrap")}
    code, out, err = dokku(["run", "demo", "touch", str(marker)], root=app, env=env)
    assert code == 126 and not marker.exists() and out == b""
    assert b"refusing to run the command unconfined: bubblewrap (bwrap) is not installed" in err


def test_where_namespaces_are_refused_nothing_runs(app: Path, tmp_path: Path) -> None:
    """A bwrap that cannot create namespaces (user namespaces disabled) fails the probe."""
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    marker = tmp_path / "ran"
    code, _, err = dokku(["enter", "demo", "web", "touch", str(marker)], root=app,
                         env={"PRUVON_SIM_BWRAP": str(fake)})
    assert code == 126 and not marker.exists()
    assert b"bubblewrap cannot create a sandbox here (bwrap: No permissions" in err


def test_sandbox_command_line_keeps_every_confinement_option(tmp_path: Path) -> None:
    from pruvon_testing.sim import confine

    piped = confine.wrap("/usr/bin/bwrap", tmp_path, ["sh"], tty=False)
    for option in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                   "--new-session"):
        assert option in piped
    assert piped[piped.index("--bind") + 1:piped.index("--bind") + 3] == [str(tmp_path), "/"]
    assert piped[piped.index("--ro-bind") + 1:piped.index("--ro-bind") + 3] == ["/usr", "/usr"]
    assert piped[-2:] == ["--", "sh"] and "--share-net" not in piped
    on_tty = confine.wrap("/usr/bin/bwrap", tmp_path, ["sh"], tty=True)
    assert "--new-session" not in on_tty and on_tty[-1] == "sh"  # keeps its controlling TTY
