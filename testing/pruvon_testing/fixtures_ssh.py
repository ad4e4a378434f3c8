"""Pytest fixtures: simulated Dokku hosts behind a real OpenSSH server.

``ssh_dokku_hosts(n)`` starts, per host, ``/usr/sbin/sshd -D -f <cfg>`` on a
loopback port as the current user, with a throwaway host key, and an
``authorized_keys`` entry shaped like the one Dokku's ``sshcommand`` writes::

    command="… pruvon-dokku-sim $SSH_ORIGINAL_COMMAND",no-agent-forwarding,… ssh-ed25519 …

so every connection runs the simulator of that host (its own state dir), and
the simulator re-splits ``$SSH_ORIGINAL_COMMAND`` exactly as Dokku's entry
script does.  A test drives Pruvon against these hosts through real ssh: host
keys, ControlMaster reuse, ``ssh -t`` terminals and streams.

``SshDokkuHost.stop()`` drops the host (connections refused),
``rekey()`` restarts it with a new host key (a changed key), and
``sim.set_knobs(hang=…)`` makes a command hang.  Needs Debian's
``openssh-server``; the fixtures skip when ``sshd`` is not installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pruvon_core.processes import stat_fields
from pruvon_testing.fixtures_sim import DokkuSim, console_script

SSHD = "/usr/sbin/sshd"
ALLOWED = "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def keygen(path: Path) -> Path:
    """A fresh passphrase-less ed25519 key pair at ``path`` / ``path.pub``."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on 127.0.0.1:{port} within {timeout} s")


def _children(parent: int) -> list[int]:
    """Pids whose parent is ``parent`` (the per-connection sshd processes)."""
    return [int(entry) for entry in os.listdir("/proc")
            if entry.isdigit() and stat_fields(int(entry))[1:2] == [str(parent)]]


@dataclass
class SshDokkuHost:
    """One simulated Dokku host reachable as ``USER@127.0.0.1 -p PORT``."""

    name: str
    root: Path
    client_key: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.sim = DokkuSim(self.root / "dokku")
        self.host_key = keygen(self.root / "ssh_host_ed25519_key")

    @property
    def user(self) -> str:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name

    @property
    def target(self) -> str:
        return f"{self.user}@127.0.0.1"

    def hosts_entry(self) -> dict[str, object]:
        """This host as an entry of the config's ``hosts:`` list."""
        return {"name": self.name, "ssh": self.target, "port": self.port,
                "key": str(self.client_key)}

    def hosts_yaml_entry(self, **extra: object) -> str:
        """This host as one line of a YAML ``hosts:`` list (JSON is YAML), with ``extra`` keys."""
        return f"  - {json.dumps({**self.hosts_entry(), **extra})}\n"

    def _forced_command(self) -> str:
        words = [f"{k}={v}" for k, v in sorted(self.env.items())]
        words += [f"PRUVON_SIM_ROOT={self.sim.root}",
                  f"PRUVON_DOCKER_COMMAND={console_script('pruvon-docker-sim')}"]
        return f"env {' '.join(words)} {console_script('pruvon-dokku-sim')} $SSH_ORIGINAL_COMMAND"

    def _write_config(self) -> Path:
        public = self.client_key.with_suffix(".pub").read_text().strip()
        keys = self.root / "authorized_keys"
        keys.write_text(f'command="{self._forced_command()}",{ALLOWED} {public}\n')
        config = self.root / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {keys}", "PubkeyAuthentication yes",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
            "StrictModes no", "PidFile none", "PermitRootLogin prohibit-password",
            "MaxStartups 100:30:200", "MaxSessions 100", "LogLevel ERROR",
            # sshd runs the forced command with the user's shell; bash started by sshd
            # sources ~/.bashrc unless nested (Debian's SSH_SOURCE_BASHRC).  A dokku
            # user's .bashrc (/etc/skel's) returns at once when not interactive; a
            # developer's (pyenv init ...) costs 0.3-0.7 s of CPU per call, which would
            # be measured as Dokku's time.  SHLVL=1 makes bash a nested shell: skipped.
            "SetEnv SHLVL=1", "",
        ]))
        return config

    def start(self) -> SshDokkuHost:
        if self.process is not None and self.process.poll() is None:
            return self
        self.port = self.port or free_port()
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir
        config = self._write_config()
        log = open(self.root / "sshd.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log,
            start_new_session=True,
        )
        log.close()
        wait_listening(self.port)
        return self

    def connections(self) -> int:
        """How many ssh connections the server holds now (one process each)."""
        return len(_children(self.process.pid)) if self.process is not None else 0

    def stop(self) -> None:
        """Stop the server: new connections are refused, open ones dropped.

        sshd runs each connection in a session of its own, so the listener's
        process group does not reach them: they are found by parent pid.
        """
        if self.process is None:
            return
        for pid in _children(self.process.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None

    def rekey(self) -> None:
        """Restart with a brand-new host key: what a MITM (or a reinstall) looks like."""
        self.stop()
        for path in (self.host_key, self.host_key.with_suffix(".pub")):
            path.unlink()
        keygen(self.host_key)
        self.start()


@pytest.fixture
def ssh_client_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway client key pair (``key`` / ``key.pub``) Pruvon connects with."""
    if not Path(SSHD).exists() or shutil.which("ssh") is None:
        pytest.skip("OpenSSH server/client not installed (Debian: openssh-server)")
    return keygen(tmp_path_factory.mktemp("sshclient") / "id_ed25519")


@pytest.fixture
def ssh_dokku_hosts(
    tmp_path_factory: pytest.TempPathFactory, ssh_client_key: Path
) -> Iterator[Callable[..., list[SshDokkuHost]]]:
    """Factory: ``ssh_dokku_hosts(3)`` starts hosts ``h1``…``h3`` (or ``names=[…]``)."""
    started: list[SshDokkuHost] = []

    def make(count: int = 2, names: list[str] | None = None,
             env: dict[str, str] | None = None) -> list[SshDokkuHost]:
        hosts = []
        for name in names or [f"h{i + 1}" for i in range(count)]:
            host = SshDokkuHost(name, tmp_path_factory.mktemp(f"sshd-{name}"), ssh_client_key,
                                dict(env or {}))
            started.append(host.start())
            hosts.append(host)
        return hosts

    yield make
    for host in started:
        host.stop()
