"""Transports with real child processes: capture, stdin streaming, timeouts that
kill the whole process group, cancellable streams, PTYs, and ssh argv building."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from pruvon_core.config import Config
from pruvon_core.dokku import (
    CommandTransport,
    DokkuClient,
    LocalTransport,
    SshTransport,
    client_from_config,
    errors,
)
from pruvon_core.dokku.transports import run_process, split_messages


def sh(script: str) -> CommandTransport:
    """A transport whose 'dokku' is a shell script; Dokku args arrive as $1, $2..."""
    return CommandTransport(["sh", "-c", script, "dokku"])


def gone(pid: int, within: float = 3.0) -> bool:
    """The process no longer exists (or is a zombie awaiting its parent's reap)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def test_run_captures_streams_and_exit_code():
    result = sh('echo "out $1"; echo " !     App $1 does not exist" >&2; exit 20').run(["x"])
    assert (result.exit, result.stdout, result.stderr) == (
        20,
        "out x\n",
        " !     App x does not exist\n",
    )
    assert result.argv[-1] == "x" and result.duration > 0


def test_client_maps_a_real_failure_to_a_typed_error():
    client = DokkuClient(sh('echo " !     App $2 does not exist" >&2; exit 20'))
    with pytest.raises(errors.AppNotFound, match="App ref-nope does not exist"):
        client.app_report("ref-nope")
    assert client.calls[0].exit == 20


def test_stdin_bytes_and_large_file_are_streamed():
    counter = sh("wc -c")
    assert counter.run([], stdin=b"abc").stdout.strip() == "3"
    big = io.BytesIO(os.urandom(3 * 1024 * 1024 + 7))
    assert counter.run([], stdin=big).stdout.strip() == str(3 * 1024 * 1024 + 7)


def test_import_reports_progress_while_streaming_stdin():
    client = DokkuClient(sh("wc -c >/dev/null"))
    seen: list[int] = []
    size = 4 * 1024 * 1024 + 5  # fed 1 MiB at a time: progress after every chunk
    client.service_import("postgres", "svc-db", io.BytesIO(b"x" * size), progress=seen.append)
    assert seen[-1] == size and seen == sorted(seen) and len(seen) >= 5


def test_no_stdin_means_eof_not_inherited():
    assert sh("cat; echo done").run([], timeout=5).stdout == "done\n"


def test_timeout_kills_the_whole_process_group(tmp_path: Path):
    pidfile = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {pidfile}; sleep 300"
    transport = sh(script)
    client = DokkuClient(transport, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(errors.DokkuTimeout, match=r"did not finish within 0\.5 s"):
        client.app_exists("app")
    assert time.monotonic() - start < 5
    child = int(pidfile.read_text())
    assert gone(child), "the grandchild survived the timeout"
    assert client.calls[-1].exit is None


def test_a_killed_command_whose_pipes_another_session_holds_returns_at_once(tmp_path: Path):
    """Like an ssh mux client, whose pipes the ControlMaster (its own session) holds."""
    pidfile = tmp_path / "holder.pid"
    script = f"setsid sleep 30 & echo $! > {pidfile}; sleep 300"
    start = time.monotonic()
    try:
        with pytest.raises(errors.DokkuTimeout):
            run_process(["sh", "-c", script], None, None, 0.5)
        assert time.monotonic() - start < 4  # ~1 s; not the 5 s an exited command's pipes get
    finally:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pidfile.read_text()), 9)


def test_finished_command_leaves_no_background_orphan(tmp_path: Path):
    pidfile = tmp_path / "bg.pid"
    code, out, _, _ = run_process(
        ["sh", "-c", f"sleep 300 </dev/null >/dev/null 2>&1 & echo $! > {pidfile}; echo ok"],
        None,
        None,
        10,
    )
    assert (code, out) == (0, b"ok\n")
    assert gone(int(pidfile.read_text()))


def test_missing_executable_is_unavailable():
    with pytest.raises(errors.DokkuUnavailable) as info:
        CommandTransport(["/nonexistent/dokku"]).run(["version"])
    assert "install Dokku" in info.value.hint


def test_sudo_refusal_from_a_real_process_is_unavailable():
    client = DokkuClient(sh('echo "sudo: a password is required" >&2; exit 1'))
    with pytest.raises(errors.DokkuUnavailable) as info:
        client.list_apps()
    assert "sudoers" in info.value.hint


# --------------------------------------------------------------------------- streams
TICKER = 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.02; done'


def test_stream_yields_lines_and_cancel_kills_the_group():
    client = DokkuClient(sh(TICKER))
    stream = client.stream(["logs", "app", "-t"])
    lines = []
    for line in stream:
        lines.append(line)
        if len(lines) == 3:
            stream.cancel()
    assert lines[:3] == ["line 1", "line 2", "line 3"]
    assert gone(stream.pid) and group_members(stream.pid) == []
    assert stream.cancelled and stream.exit_code is None
    assert client.calls[-1].argv == ("logs", "app", "-t") and client.calls[-1].exit is None


def test_stream_cancel_from_another_thread():
    stream = DokkuClient(sh(TICKER)).logs("app", tail=True)
    timer = threading.Timer(0.3, stream.cancel)
    timer.start()
    count = sum(1 for _ in stream)
    timer.join()
    assert count > 0 and gone(stream.pid)


def test_stream_context_manager_cancels_on_exit():
    with DokkuClient(sh(TICKER)).logs("app", tail=True) as stream:
        assert next(iter(stream)) == "line 1"
    assert gone(stream.pid)


def test_stream_failure_raises_typed_error_at_the_end():
    client = DokkuClient(sh('echo " !     App $2 has not been deployed" >&2; exit 1'))
    with pytest.raises(errors.NotDeployed):
        list(client.logs("ref-empty"))


def test_stream_failure_reported_on_stdout_keeps_dokkus_message():
    script = 'echo "-----> Building"; echo " !     No changes detected"; exit 1'
    with pytest.raises(errors.DokkuError, match="No changes detected"):
        list(DokkuClient(sh(script)).stream(["git:from-image", "app", "img:1"]))


def test_mutating_stream_invalidates_the_cache_when_it_ends():
    client = DokkuClient(sh('echo "{\\"A\\": \\"1\\"}"'))
    client.config("app")
    client.config("app")
    assert len(client.calls) == 1
    list(client.stream(["ps:restart", "app"], mutating=True))
    client.config("app")
    assert [c.argv[0] for c in client.calls] == ["config:export", "ps:restart", "config:export"]


def test_stream_timeout_raises():
    client = DokkuClient(sh(TICKER))
    with pytest.raises(errors.DokkuTimeout):
        list(client.stream(["logs", "app", "-t"], timeout=0.3))


def test_export_chunks_are_binary_exact():
    payload = bytes(range(256)) * 1000
    client = DokkuClient(
        CommandTransport(
            [sys.executable, "-c", "import sys; sys.stdout.buffer.write(bytes(range(256)) * 1000)"]
        )
    )
    with client.service_export("postgres", "svc-db") as stream:
        data = b"".join(stream.chunks())
    assert data == payload and stream.exit_code == 0


# --------------------------------------------------------------------------- pty
def _read_until(handle, marker: bytes, timeout: float = 5) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data and time.monotonic() < deadline:
        chunk = handle.read()
        if not chunk:
            break
        data += chunk
    return data


def test_pty_is_a_terminal_and_resizes():
    script = 'stty size; read line; stty size; echo "got:$line"'
    client = DokkuClient(sh(script))
    with client.pty(DokkuClient.run_args("app", ["sh"]), cols=80, rows=24) as term:
        assert b"24 80" in _read_until(term, b"24 80")
        term.resize(132, 40)
        term.write(b"hello\n")
        output = _read_until(term, b"got:hello")
        assert b"40 132" in output and b"got:hello" in output
        assert term.wait(5) == 0
    assert client.calls[-1].exit == 0 and client.calls[-1].argv[:2] == ("run", "app")


def test_pty_nonblocking_read_without_data_is_not_end_of_session():
    import fcntl as fcntl_module

    client = DokkuClient(sh("read line; echo done"))
    with client.pty(["run", "app", "sh"]) as term:
        flags = fcntl_module.fcntl(term.fd, fcntl_module.F_GETFL)
        fcntl_module.fcntl(term.fd, fcntl_module.F_SETFL, flags | os.O_NONBLOCK)
        with pytest.raises(BlockingIOError):
            term.read()
        term.write(b"x\n")
        fcntl_module.fcntl(term.fd, fcntl_module.F_SETFL, flags)
        assert b"done" in _read_until(term, b"done")
        assert term.wait(5) == 0
        assert _read_until(term, b"never").strip() == b""  # EIO after exit reads as end


def test_pty_kill_ends_the_session_and_bad_sizes_are_refused():
    client = DokkuClient(sh("sleep 300"))
    term = client.pty(["enter", "app", "web", "sh"])
    with pytest.raises(errors.InvalidValue):
        term.resize(0, 24)
    with pytest.raises(errors.InvalidValue):
        term.resize(80, 100000)
    term.kill()
    assert gone(term.pid)
    term.close()


# --------------------------------------------------------------------------- ssh
def test_ssh_argv_quotes_config_commands_once_from_validated_argv():
    ssh = SshTransport("dokku@example.com", key="/etc/pruvon/id_ed25519", port=2222)
    argv = ssh.command(["config:set", "--no-restart", "app", "A=it's $(id)"])
    assert argv[:2] == ["ssh", "-T"] and "BatchMode=yes" in argv
    assert argv[argv.index("-p") + 1] == "2222" and argv[argv.index("-i") + 1].endswith(
        "id_ed25519"
    )
    assert argv[-3:-1] == ["dokku@example.com", "--"]
    assert argv[-1] == "config:set --no-restart app 'A=it'\"'\"'s $(id)'"
    assert ssh.command(["enter", "app", "web", "sh"], tty=True)[1] == "-tt"


def test_ssh_git_commands_are_space_joined_because_dokku_does_not_unquote_them():
    """Dokku 0.38: only commands matching git-*/git:* are word-split without quote removal."""
    ssh = SshTransport("dokku@example.com")
    assert ssh.remote_command(["git:sync", "app", "https://x/r.git"]) == "git:sync app https://x/r.git"
    with pytest.raises(errors.InvalidValue, match="whitespace"):
        ssh.command(["git:sync", "app", "a b"])
    with pytest.raises(errors.InvalidValue, match="whitespace"):
        ssh.command(["git:report", "app", ""])
    with pytest.raises(errors.InvalidValue, match="newline"):
        ssh.command(["config:set", "app", "A=x\ny"])
    # every other command goes through xargs: quoted once, spaces survive
    assert ssh.remote_command(["domains:add", "app", "*.example.com"]) == "domains:add app '*.example.com'"
    assert ssh.command(["run", "app", "echo", "a b"])[-1] == "run app echo 'a b'"
    assert ssh.command(["config:set", "app", "A=a b"])[-1] == "config:set app 'A=a b'"
    with pytest.raises(errors.InvalidValue, match="option of echo"):
        ssh.command(["run", "app", "echo", "-n"])  # xargs -n 1 would run `echo -n`
    with pytest.raises(errors.InvalidValue, match="longer than"):
        ssh.command(["config:set", "app", "A=" + "x" * 100_000])


@pytest.mark.parametrize("target", ["-oProxyCommand=id", "dokku", "@host", "dokku@ho st"])
def test_ssh_target_is_validated(target):
    with pytest.raises(errors.InvalidValue):
        SshTransport(target)


def test_ssh_connection_failure_is_unavailable():
    ssh = SshTransport("dokku@example.com")
    assert isinstance(
        ssh.unavailable(255, "ssh: connect refused", ["apps:list"]), errors.DokkuUnavailable
    )
    assert ssh.unavailable(1, "", ["apps:list"]) is None


# --------------------------------------------------------------------------- selection
def test_local_transport_uses_sudo_unless_dokku_or_root(monkeypatch):
    import pruvon_core.dokku.transports as transports

    assert LocalTransport().prefix == ["dokku"]  # the tests run as root
    monkeypatch.setattr(transports.os, "geteuid", lambda: 4242)
    monkeypatch.setattr(
        transports.pwd, "getpwuid", lambda uid: type("P", (), {"pw_name": "pruvon"})
    )
    assert LocalTransport().prefix == ["sudo", "-n", "-u", "dokku", "dokku"]


def test_client_from_config_precedence():
    config = Config(
        {"dokku": {"command": "pruvon-dokku-sim --x", "docker_command": ["dsim"], "timeout": 7}}
    )
    client = client_from_config(config, env={})
    assert client.transport.prefix == ["pruvon-dokku-sim", "--x"]
    assert client.docker is not None and client.docker.prefix == ["dsim"] and client.timeout == 7
    env = {"PRUVON_DOKKU_COMMAND": "/opt/sim 'a b'", "PRUVON_DOCKER_COMMAND": "docker-sim"}
    client = client_from_config(config, env=env)
    assert client.transport.prefix == ["/opt/sim", "a b"] and client.docker.prefix == ["docker-sim"]
    ssh = client_from_config(Config({"dokku": {"ssh": "dokku@h", "ssh_port": 2222}}), env={})
    assert isinstance(ssh.transport, SshTransport) and ssh.docker is None
    assert isinstance(client_from_config(None, env={}).transport, LocalTransport)


# A stand-in for ``ssh dokku@host`` that re-splits the command string exactly as
# Dokku 0.38's entry script does: plain word splitting with globbing off for
# git-*/git:* commands, else ``xargs -n 1`` read back one word per line.  The
# "dokku" it runs prints its argv.
FAKE_SSH = r"""#!/bin/bash
while [ "$1" != "--" ]; do shift; done
SSH_ORIGINAL_COMMAND="$2"
first="${SSH_ORIGINAL_COMMAND%% *}"
if [[ $first =~ git-* ]] || [[ $first =~ git:* ]]; then
  set -f
  "$PYTHON" "$RECORDER" $SSH_ORIGINAL_COMMAND
else
  readarray -t words < <(printf '%s' "$SSH_ORIGINAL_COMMAND" | xargs -n 1)
  set -f
  "$PYTHON" "$RECORDER" "${words[@]}"
fi
"""
PRINT_ARGV = "import json, sys; print(json.dumps(sys.argv[1:]))"


def test_ssh_quoting_round_trips_through_dokkus_resplitting(tmp_path: Path, monkeypatch):
    import json

    fake = tmp_path / "ssh"
    fake.write_text(FAKE_SSH)
    fake.chmod(0o755)
    recorder = tmp_path / "dokku.py"
    recorder.write_text(PRINT_ARGV)
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("RECORDER", str(recorder))
    canary = tmp_path / "pwned"
    ssh = SshTransport("dokku@example.com", executable=str(fake))
    hostile = f'it\'s $(touch {canary}) `touch {canary}`; | && "dq" back\\slash  two  spaces *'
    argv = ["config:set", "--no-restart", "app", f"A={hostile}", "B=héllo"]
    assert json.loads(ssh.run(argv).stdout) == argv
    empty = ["config:set", "--no-restart", "app", "EMPTY="]
    assert json.loads(ssh.run(empty).stdout) == empty
    plain = ["domains:add", "app", "a.example.com", "*.b.example.com", "it's", "$(id)"]
    assert json.loads(ssh.run(plain).stdout) == plain
    assert not canary.exists()


def test_a_terminal_read_gets_dokkus_messages_back_on_stderr():
    merged = ("=====> blog ps information\n \x1b[31m!\x1b[0m     skipped\n"
              " !     You haven't deployed any applications yet\n  Deployed: false\n"
              "a line ! not a message\n")
    out, err = split_messages(merged)
    assert out == "=====> blog ps information\n  Deployed: false\na line ! not a message\n"
    assert err == (" \x1b[31m!\x1b[0m     skipped\n"  # colour codes do not hide one
                   " !     You haven't deployed any applications yet\n")
    assert split_messages("") == ("", "")


def test_a_read_without_a_free_local_terminal_still_runs(monkeypatch, tmp_path):
    from pruvon_core.dokku import transports

    def no_pty():
        raise OSError(5, "out of pseudo-terminals")

    fake_ssh = tmp_path / "ssh"
    fake_ssh.write_text("#!/bin/sh\nfor a; do last=$a; done; echo \"$last\"\n")
    fake_ssh.chmod(0o755)
    monkeypatch.setattr(transports.os, "openpty", no_pty)
    transport = transports.SshTransport("dokku@example.com", executable=str(fake_ssh))
    result = transport.run(["apps:list"], read=True)
    assert result.exit == 0 and result.stdout == "apps:list\n"
    assert "-T" in result.argv and "-tt" not in result.argv
