"""Scenario builders shared by the SIM-A golden tests (apps, config, CLI).

Each builder re-creates, with simulated commands only, the host state a
reference capture was taken in (see "Capture order" in INDEX.md): the
``ref-*`` apps, their deploys, the services captures' ``svc-app`` and the
two redis services whose ``pre-delete`` trigger prints ``Unlinking from …``.

Also here: running the simulator under a real PTY, for the ``*-tty`` cases.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.golden.harness import setup, sim, sub

# -- narrow normalisations (applied to both sides) ------------------------------
EPOCH = sub(rb"(created at: +|created-at\":\")\d{10}", rb"\1<epoch>")
SYSTEMD_NOISE = sub(
    rb"System has not been booted with systemd as init system \(PID 1\)\. Can't operate\.\n"
    rb"Failed to connect to bus: Host is down\n",
    b"",
)


def svc_plugins(root: Path) -> None:
    """The services captures' leftover app ``svc-app``."""
    setup(root, ["apps:create", "svc-app"])


def svc_redis(root: Path) -> None:
    """The services captures' redis ``svc-redis``/``svc-redis2``: their ``pre-delete``
    trigger prints ``Unlinking from <svc>`` in every ``apps:destroy``."""
    setup(root, ["redis:create", "svc-redis"], ["redis:create", "svc-redis2"])


def ref_apps(root: Path) -> None:
    """ref-empty (never deployed), ref-web (1 web), ref-multi (2 web), as in the capture."""
    setup(
        root,
        ["apps:create", "ref-empty"],
        ["apps:create", "ref-web"],
        ["git:from-image", "ref-web", "example/web:1"],
        ["apps:create", "ref-multi"],
        ["git:from-image", "ref-multi", "example/web:1"],
        ["ps:scale", "ref-multi", "web=2"],
    )


def deploy_history(root: Path) -> None:
    """Every deploy-causing capture on ref-web and ref-multi, in capture order.

    Dokku keeps the exited containers of earlier deploys until the app is
    destroyed, so the final ``apps:destroy`` retires six ref-web containers and
    three ref-multi ones; replaying the history reproduces that.
    """
    steps = [
        ["ps:stop", "ref-web"], ["ps:start", "ref-web"], ["ps:restart", "ref-web"],
        ["ps:rebuild", "ref-web"], ["config:set", "ref-web", "RESTART_TEST=1"],
        ["apps:lock", "ref-web"], ["ps:rebuild", "ref-multi"],
        ["ps:scale", "ref-web", "web=-1"], ["ps:scale", "ref-web", "worker=1"],
        ["ps:scale", "--skip-deploy", "ref-web", "web=1"],
        ["ps:scale", "ref-web", "web=1", "worker=0"], ["ps:start", "ref-web"],
    ]
    setup(root, *steps)
    for image in ("localbusybox:latest", "example/web:1", "docker.io/example/web:1"):
        sim(root, "git:from-image", "ref-multi", image)  # all three fail, as captured


SPECIAL_VALUES = [
    "SIMPLE=value", "WITH_SPACES=hello world", "SQUOTE=it's", 'DQUOTE=say "hi"',
    "NEWLINE=line1\nline2", "UNICODE=héllo wörld ✓ 日本", "EQUALS=a=b=c", "EMPTY=",
    "DOLLAR=$HOME `id`", "BACKSLASH=a\\b",
]


def current_env(root: Path) -> None:
    """ref-web's environment late in the session (config-show-current and friends).

    The real session repaired the corrupted ENV file by hand; here the same end
    state is reached with config:set/unset (and domains:add for ``NO_VHOST=0``).
    """
    values = [v for v in SPECIAL_VALUES if not v.startswith(("DQUOTE", "SIMPLE"))]
    setup(root, ["config:set", "--no-restart", "ref-web", *values, "MIDQ=a\"b",
                 "RESTART_TEST=1", "NO_VHOST=0"])


def run_tty(
    root: Path,
    *argv: str,
    timeout: float = 30,
    script: bytes = b"",
    env: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """Run ``pruvon-dokku-sim ARGV`` with a pty on stdin/stdout/stderr, like ``script``.

    ``script`` is typed into the terminal first; ``env`` adds variables (the caller's
    ``DOKKU_*`` ones are dropped, as a login shell would not have them).  Output is read
    until the child closes the pty or ``timeout`` seconds pass.
    """
    pid, fd = pty.fork()
    if pid == 0:  # child: exec the simulator; never returns
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("DOKKU_")}
        child_env.update(env or {}, PRUVON_SIM_ROOT=str(root))
        os.execve(
            sys.executable, [sys.executable, "-m", "pruvon_testing.sim", *argv], child_env)
    if script:
        os.write(fd, script)
    chunks: list[bytes] = []
    reaped = 0, 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            reaped = os.waitpid(pid, os.WNOHANG)
            if reaped[0]:  # exited with nothing left to read
                break
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not data:
            break
        chunks.append(data)
    status = reaped[1] if reaped[0] else os.waitpid(pid, 0)[1]
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks)


def install_testplug(root: Path) -> None:
    """The capture host's ``testplug``: a git-installed script plugin (plugin.toml + help)."""
    plugin = root / "plugins" / "enabled" / "testplug"
    plugin.mkdir(parents=True, exist_ok=True)
    (plugin / "plugin.toml").write_text(
        '[plugin]\ndescription = "local test plugin"\nversion = "0.1.0"\n[plugin.config]\n')
    commands = plugin / "commands"
    commands.write_text(
        "#!/usr/bin/env bash\n"
        'case "$1" in\n'
        '  help) echo "    testplug, Local test plugin" ;;\n'
        '  testplug:hello) echo "hello from testplug $2" ;;\n'
        '  *) exit "$DOKKU_NOT_IMPLEMENTED_EXIT" ;;\n'
        "esac\n"
    )
    commands.chmod(0o755)
    git = ["git", "-C", str(plugin), "-c", "user.name=t", "-c", "user.email=t@t"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "testplug"],
                 ["remote", "add", "origin", "file:///srv/plugins/testplug"]):
        subprocess.run([*git, *args], check=True, capture_output=True)


__all__ = [
    "EPOCH",
    "SYSTEMD_NOISE",
    "current_env",
    "deploy_history",
    "install_testplug",
    "ref_apps",
    "run_tty",
    "svc_plugins",
    "svc_redis",
]
