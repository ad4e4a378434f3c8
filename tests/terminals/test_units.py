"""Settings, registry, process-session killing and target argv building."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from types import SimpleNamespace

import pytest
from pruvon_services.console import ServiceConsoleTarget
from pruvon_terminals import settings
from pruvon_terminals.procs import kill_session, process_start, session_members
from pruvon_terminals.registry import Entry, LimitReached, Registry
from pruvon_terminals.targets import (
    AppShellTarget,
    HostTarget,
    RunTarget,
    TargetContext,
    TargetError,
    TerminalRequest,
    host_argv,
    running_dynos,
)

from pruvon_core.dokku.errors import DokkuError
from pruvon_core.dokku.models import Container, ProcessStatus, PsReport


# --------------------------------------------------------------------------- settings
def test_defaults_without_a_section():
    parsed = settings.parse(None)
    assert (parsed.idle_timeout, parsed.max_lifetime) == (900, 8 * 3600)
    assert (parsed.max_per_user, parsed.max_sessions, parsed.host_shell) == (5, 50, False)
    assert parsed.host_user == "nobody"


@pytest.mark.parametrize(("raw", "error"), [
    ([], "terminals: must be a mapping"),
    ({"idle_timeout": 0}, "terminals.idle_timeout: must be between 1 and"),
    ({"idle_timeout": "10m"}, "terminals.idle_timeout: must be a number"),
    ({"max_lifetime": True}, "terminals.max_lifetime: must be a number"),
    ({"max_per_user": 0}, "terminals.max_per_user: must be a whole number from 1"),
    ({"host_shell": "yes"}, "terminals.host_shell: must be true or false"),
    ({"host_user": "root; rm"}, "terminals.host_user: must be a local user name"),
    ({"shells": ["bash"]}, "terminals.shells: 'bash' is not an absolute path"),
    ({"shells": ["/bin/../bin/sh"]}, "is not an absolute path"),
    ({"shells": []}, "terminals.shells: must be a non-empty list"),
])
def test_invalid_settings_name_the_key(raw, error):
    assert error in settings.validate(raw)[0]


def test_fallback_shell_is_always_allowed():
    assert settings.parse({"shells": ["/bin/zsh"]}).shells == ("/bin/zsh", "/bin/sh")


# --------------------------------------------------------------------------- registry
def entry(entry_id: str, user: str, server_pid: int | None = None) -> Entry:
    pid = server_pid or os.getpid()
    return Entry(id=entry_id, username=user, actor=f"user:{user}", target="app", label="x",
                 source_ip="127.0.0.1", started=time.time(), server_pid=pid,
                 server_start=process_start(pid))


def test_registry_caps_per_user_and_globally(tmp_path):
    registry = Registry(tmp_path)
    registry.add(entry("a1", "alice"), max_per_user=2, max_sessions=3)
    registry.add(entry("a2", "alice"), max_per_user=2, max_sessions=3)
    with pytest.raises(LimitReached, match="you already have 2 open terminals"):
        registry.add(entry("a3", "alice"), max_per_user=2, max_sessions=3)
    registry.add(entry("b1", "bob"), max_per_user=2, max_sessions=3)
    with pytest.raises(LimitReached, match="the server already has 3 open terminals"):
        registry.add(entry("b2", "bob"), max_per_user=2, max_sessions=3)
    registry.remove("a1")
    assert sorted(e.id for e in registry.entries()) == ["a2", "b1"]
    assert oct((tmp_path / "terminals").stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "terminals" / "a2.json").stat().st_mode & 0o777) == "0o600"


def test_stale_entries_are_pruned_and_their_processes_killed(tmp_path):
    registry = Registry(tmp_path)
    dead_server = subprocess.Popen(["true"])
    dead_server.wait()
    orphan = subprocess.Popen(["sleep", "60"], start_new_session=True)
    stale = Entry(**{**entry("s1", "alice").__dict__, "server_pid": dead_server.pid,
                     "server_start": None, "leader_pid": orphan.pid})
    registry.entries()  # creates the directory
    registry._write(stale)  # as a server that was SIGKILLed left it
    assert registry.entries() == []
    assert orphan.wait(timeout=5) == -signal.SIGHUP


def test_kill_requests_and_torn_files(tmp_path):
    registry = Registry(tmp_path)
    registry.add(entry("k1", "alice"), 5, 50)
    assert registry.kill_requested("k1") is None
    registry.request_kill("k1", "maintenance")
    assert registry.kill_requested("k1") == "maintenance"
    (tmp_path / "terminals" / "torn.json").write_text("{not json")
    assert [e.id for e in registry.entries()] == ["k1"]
    assert not (tmp_path / "terminals" / "torn.json").exists()
    with pytest.raises(ValueError, match="invalid terminal id"):
        registry.remove("../x")


# --------------------------------------------------------------------------- processes
def test_kill_session_reaches_jobs_in_other_groups_and_stubborn_processes():
    # set -m: job control, so each background job gets its own process group
    script = "set -m; trap '' HUP TERM; (trap '' HUP TERM; exec sleep 60) & sleep 61 & wait"
    leader = subprocess.Popen(["bash", "-c", script], start_new_session=True)
    deadline = time.monotonic() + 5
    while len(session_members(leader.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    members = session_members(leader.pid)
    assert len(members) >= 3
    assert len({os.getpgid(pid) for pid in members}) >= 2  # not one group: a killpg would miss
    assert kill_session(leader.pid, grace=0.3)
    assert leader.wait(timeout=5) == -signal.SIGKILL
    assert session_members(leader.pid) == []


# --------------------------------------------------------------------------- targets
class FakeClient:
    """Just enough of DokkuClient for argv building."""

    from pruvon_core.dokku.client import DokkuClient as _Real

    enter_args = staticmethod(_Real.enter_args)
    run_args = staticmethod(_Real.run_args)
    connect_args = staticmethod(_Real.connect_args)

    def pty(self, args, cols, rows):
        return ("pty", tuple(args), cols, rows)

    def __init__(self, docker: bool = True, apps: tuple[str, ...] = ("blog", "idle")) -> None:
        self.docker = docker
        self.apps = apps

    def app_exists(self, app):
        return app in self.apps

    def containers(self, app):
        if not self.docker:
            raise DokkuError("the ssh transport cannot run docker")
        if app != "blog":
            return []
        return [Container("aaa111bbb222ccc", f"{app}.web.1", app, "web", "web.1", "deploy", "i",
                          "running"),
                Container("ddd444eee555fff", f"{app}.web.2", app, "web", "web.2", "deploy", "i",
                          "running"),
                Container("999888777666555", f"{app}.run.1", app, "run", "run.1", "run", "i",
                          "running")]

    def ps_report(self, app):
        return PsReport(app, True, True, 1, True, "on-failure",
                        [ProcessStatus("worker", 1, "running", "0123456789a")])


def test_running_dynos_from_docker_or_ps_report():
    assert running_dynos(FakeClient(), "blog") == {"aaa111bbb222ccc": "web.1",
                                                   "ddd444eee555fff": "web.2"}
    assert running_dynos(FakeClient(docker=False), "blog") == {"0123456789a": "worker.1"}


def test_app_target_enters_a_picked_container_through_its_dyno():
    where = AppShellTarget._where
    client = FakeClient()
    assert where("blog", TerminalRequest("app", "blog", container="ddd444eee555"), client) == "web.2"
    assert where("blog", TerminalRequest("app", "blog"), client) == "web"
    assert where("blog", TerminalRequest("app", "blog"), FakeClient(docker=False)) == "worker.1"
    for bad, message in (("999888777666", "no running container"),
                         ("--rm", "hexadecimal docker container id")):
        with pytest.raises(TargetError, match=message):
            where("blog", TerminalRequest("app", "blog", container=bad), client)
    with pytest.raises(TargetError, match="starts with '-'"):
        where("blog", TerminalRequest("app", "blog", process="-x"), client)
    with pytest.raises(TargetError, match="app idle has no running container"):
        where("idle", TerminalRequest("app", "idle"), client)
    with pytest.raises(TargetError, match="app nosuch does not exist"):
        where("nosuch", TerminalRequest("app", "nosuch"), client)


def test_request_parsing_and_the_shell_allowlist():
    request = TerminalRequest.from_query("run", "blog", {})
    assert request.with_command("sh -c 'echo $HOME; id'").command == ("sh", "-c", "echo $HOME; id")
    assert request.with_command(["sh", "-c", "a b"]).command == ("sh", "-c", "a b")
    assert request.with_command(None).command == ()
    with pytest.raises(TargetError, match="cannot be split"):
        request.with_command("echo 'unterminated")
    with pytest.raises(TargetError, match="list of strings"):
        request.with_command(["sh", 3])
    with pytest.raises(TargetError, match="longer than"):
        request.with_command("x" * 5000)
    # the URL would keep it in access logs and browser history
    with pytest.raises(TargetError, match="not in the URL"):
        TerminalRequest.from_query("run", "blog", {"cmd": "env"})
    allowed = settings.parse({"shells": ["/bin/bash", "/bin/sh"]})
    assert AppShellTarget._shell(TerminalRequest("app", "blog"), allowed) == "/bin/bash"
    with pytest.raises(TargetError, match="not allowed"):
        AppShellTarget._shell(TerminalRequest("app", "blog", shell="/usr/bin/python3"), allowed)
    with pytest.raises(TargetError, match="app name"):
        AppShellTarget().resource(TerminalRequest("app", "../etc"))


def test_run_target_never_puts_the_full_command_in_its_label():
    launch = RunTarget().prepare(
        TerminalRequest("run", "blog", command=("psql", "postgres://u:secret@db/x")),
        TargetContext(FakeClient(), settings.parse(None)))
    assert launch.label == "run blog psql" and "secret" not in json.dumps(launch.details)
    with pytest.raises(TargetError, match="starts with '-'"):
        RunTarget().prepare(TerminalRequest("run", "blog", command=("--rm",)),
                            TargetContext(FakeClient(), settings.parse(None)))


def test_host_target_is_off_unless_configured_and_needs_a_real_user():
    ctx = TargetContext(FakeClient(), settings.parse(None))
    assert not HostTarget().available(ctx.settings)
    with pytest.raises(TargetError, match="host shell is off"):
        HostTarget().prepare(TerminalRequest("host"), ctx)
    ctx = TargetContext(FakeClient(), settings.parse({"host_shell": True,
                                                      "host_user": "no-such-user-x"}))
    with pytest.raises(TargetError, match="does not exist"):
        HostTarget().prepare(TerminalRequest("host"), ctx)


def test_host_argv_by_privilege(monkeypatch):
    import pwd

    me = pwd.getpwuid(os.geteuid()).pw_name
    assert host_argv(me, "/bin/sh") == ["/bin/sh", "-l"]
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: SimpleNamespace(pw_name="root"))
    assert host_argv("nobody", "/bin/sh") == ["runuser", "-u", "nobody", "--", "/bin/sh", "-l"]
    monkeypatch.setattr(os, "geteuid", lambda: 998)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: SimpleNamespace(pw_name="pruvon"))
    assert host_argv("nobody", "/bin/sh")[:5] == ["sudo", "-n", "-H", "-u", "nobody"]


def test_service_console_target_for_the_services_plugin():
    target = ServiceConsoleTarget()
    request = TerminalRequest("service", service_type="postgres", service="blog-db")
    resource = target.resource(request)
    assert (resource.kind, resource.service_type, resource.name) == ("service", "postgres", "blog-db")
    launch = target.prepare(request, TargetContext(FakeClient(), settings.parse(None)))
    assert launch.label == "postgres:connect blog-db"
    assert launch.start(100, 30) == ("pty", ("postgres:connect", "blog-db"), 100, 30)
    with pytest.raises(TargetError, match="service name"):
        target.resource(TerminalRequest("service", service_type="postgres", service="-x"))


def test_the_open_terminals_list_names_the_host_of_a_terminal_on_another_host():
    """The admin list shows every host's terminals: ``blog`` on prod is not ``blog`` here."""
    from pruvon_terminals.targets import AppShellTarget, HostTarget
    from pruvon_terminals.web import _on_host

    from pruvon_core import hosts

    assert _on_host(AppShellTarget(), "enter blog web.1 bash") == "enter blog web.1 bash"
    with hosts.using("prod"):
        assert _on_host(AppShellTarget(), "enter blog web.1 bash") == \
            "enter blog web.1 bash on prod"
        # the host shell is Pruvon's own machine whatever page it was opened from
        assert _on_host(HostTarget(), "host shell as root") == "host shell as root"
