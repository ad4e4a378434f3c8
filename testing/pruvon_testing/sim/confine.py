"""Confinement for the real processes of ``dokku run``/``enter`` and ``docker exec``.

The simulator runs a "container's" command as a real process so terminals can be
tested end to end.  Run bare, that process would be a shell on the machine hosting
the demo or the tests, as that machine's user (root when the demo runs as root),
with every file in view.  So every such process runs under bubblewrap (``bwrap``):

* its own user namespace: the command runs as uid/gid 1000 (``app``) and holds no
  capability; nested user namespaces are refused (``--disable-userns``);
* the container's filesystem is a directory of the simulator's state
  (``<sim root>/fs/<container>``), bound as ``/`` and the working directory
  ``/app``; only the host's ``/usr`` is added, read-only (``/bin``, ``/lib`` are
  symlinks into it), so a shell works but ``/root``, ``/home``, ``/etc/shadow``
  or the project are not there;
* no network, its own pid/ipc/uts/cgroup namespaces, killed with its parent;
* a new session (no TIOCSTI into the caller's terminal) unless stdin is a TTY,
  where the process must keep that terminal as its controlling TTY for job
  control; a terminal Pruvon opens is a PTY of its own, so input injected there
  reaches nobody but the sandbox itself.

When the server runs as root the sandbox's uid 1000 maps to root outside, but
without any capability and with nothing writable outside its own directory
(``/usr`` is a read-only bind).  Dropping to ``nobody`` before ``bwrap`` does not
work here: ``nobody`` cannot reach state under a 0700 directory such as pytest's
temporary tree, and ``--bind-fd`` cannot read the fd through ``/proc/self``
after the uid change.

Fail closed: if ``bwrap`` is missing or cannot create namespaces (user
namespaces disabled), the command is refused with a message and nothing runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOME = "/app"
UID = 1000
REFUSED = 126
_SKELETON_DIRS = ("app", "tmp", "usr", "proc", "dev", "etc", "var/tmp")
_SKELETON_LINKS = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}
_PROBE_CACHE: dict[str, str] = {}


class ConfinementUnavailable(RuntimeError):
    """bwrap is missing or cannot sandbox here; carries the message to show."""


def fs_root(sim_root: Path, container: str) -> Path:
    """The container's filesystem: ``<sim root>/fs/<container>``, created on first use."""
    root = Path(sim_root) / "fs" / container
    if not (root / "etc" / "passwd").exists():
        for name in _SKELETON_DIRS:
            (root / name).mkdir(parents=True, exist_ok=True)
        for name, target in _SKELETON_LINKS.items():
            if not (root / name).is_symlink():
                (root / name).symlink_to(target)
        (root / "etc" / "group").write_text(f"root:x:0:\napp:x:{UID}:\n")
        (root / "etc" / "passwd").write_text(
            f"root:x:0:0:root:/root:/bin/sh\napp:x:{UID}:{UID}:app:{HOME}:/bin/sh\n"
        )
    return root


def bwrap_path(env: dict[str, str]) -> str | None:
    """The bwrap binary: ``PRUVON_SIM_BWRAP`` if set (tests point it elsewhere), else PATH."""
    named = env.get("PRUVON_SIM_BWRAP")
    if named is not None:
        return named if os.access(named, os.X_OK) else None
    return shutil.which("bwrap", path=env.get("PATH") or os.defpath) or shutil.which(
        "bwrap", path="/usr/bin:/bin"
    )


def _probe(bwrap: str) -> str:
    """'' when bwrap can build the sandbox here, else why not (cached per process)."""
    if bwrap not in _PROBE_CACHE:
        argv = [bwrap, "--unshare-all", "--uid", str(UID), "--gid", str(UID),
                "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
                "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                "/usr/bin/true"]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=20, check=False)
            _PROBE_CACHE[bwrap] = "" if done.returncode == 0 else (
                done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            _PROBE_CACHE[bwrap] = str(exc)
    return _PROBE_CACHE[bwrap]


def require_bwrap(env: dict[str, str]) -> str:
    """The working bwrap binary, or :class:`ConfinementUnavailable` with the reason."""
    bwrap = bwrap_path(env)
    if bwrap is None:
        raise ConfinementUnavailable(
            "refusing to run the command unconfined: bubblewrap (bwrap) is not installed "
            "(apt-get install bubblewrap)"
        )
    why = _probe(bwrap)
    if why:
        raise ConfinementUnavailable(
            "refusing to run the command unconfined: bubblewrap cannot create a sandbox "
            f"here ({why}); user namespaces must be enabled "
            "(sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)"
        )
    return bwrap


def sandbox_env(env: dict[str, str]) -> dict[str, str]:
    """The container's variables with a PATH and HOME that exist inside the sandbox."""
    return {**env, "PATH": CONTAINER_PATH, "HOME": HOME}


def wrap(bwrap: str, root: Path, argv: list[str], tty: bool) -> list[str]:
    """The bwrap command line that runs ``argv`` inside the container's filesystem."""
    confined = [
        bwrap, "--unshare-all", "--unshare-user", "--uid", str(UID), "--gid", str(UID),
        "--disable-userns",
        "--die-with-parent", "--bind", str(root), "/", "--ro-bind", "/usr", "/usr",
        "--proc", "/proc", "--dev", "/dev", "--chdir", HOME, "--unsetenv", "PYTHONPATH",
    ]
    if not tty:
        return [*confined, "--new-session", "--", *argv]
    python = _python()
    if python is None:  # no Python in /usr: the shell still runs, without the shim
        return [*confined, "--", *argv]
    return [*confined, "--", python, "-I", "-S", "-c", _FOREGROUND, *argv]


# Inside a new pid namespace the caller's process group is invisible, so a shell
# on the TTY could neither restore it on exit (dash exits 2: "Cannot set tty
# process group") nor hand the terminal back after a job.  A group of its own,
# made the terminal's foreground first, is one the shell can see.
_FOREGROUND = (
    "import os,signal,sys\n"
    "signal.signal(signal.SIGTTOU, signal.SIG_IGN)\n"
    "os.setpgid(0, 0)\n"
    "os.tcsetpgrp(0, os.getpgrp())\n"
    "signal.signal(signal.SIGTTOU, signal.SIG_DFL)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def _python() -> str | None:
    """A Python inside ``/usr`` (the only host tree the sandbox sees), if there is one."""
    for candidate in (os.path.realpath(sys.executable), "/usr/bin/python3"):
        if candidate.startswith("/usr/") and os.access(candidate, os.X_OK):
            return candidate
    return None


def resolve(argv: list[str]) -> str | None:
    """The executable ``argv[0]`` names inside the sandbox (only ``/usr`` is executable)."""
    if "/" in argv[0]:
        path = argv[0]
        for link, target in _SKELETON_LINKS.items():
            if path.startswith(f"/{link}/"):
                path = f"/{target}/{path[len(link) + 2:]}"
        return path if path.startswith("/usr/") and os.access(path, os.X_OK) else None
    return shutil.which(argv[0], path=CONTAINER_PATH)
