"""The OpenSSH options Pruvon runs ``ssh`` with, and what its failures mean.

Two things every remote host gets:

* **Host-key checking, always on.**  ``StrictHostKeyChecking=yes`` against a
  per-Pruvon ``known_hosts`` file in the state directory, where ``pruvon hosts
  add`` recorded the key (the only connection made with ``accept-new``, which
  still refuses a *changed* key).  Never ``StrictHostKeyChecking=no``.
* **Connection reuse.**  OpenSSH's ControlMaster: the first call opens a
  master connection that stays up ``ControlPersist`` seconds, and every later
  call multiplexes a new session over it, so a page does not pay a handshake
  per Dokku call.  The sockets live in a private (0700) directory owned by us.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path

from pruvon_core.dokku.errors import DokkuUnavailable
from pruvon_core.files import private_dir

CONTROL_PERSIST = 120  # seconds an idle master connection stays up
CONNECT_TIMEOUT = 10
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes with its NUL
SOCKET_NAME_MAX = 58  # "/" + ``%C`` (40) + the ".XXXXXXXXXXXXXXXX" ssh adds while binding

CHANGED_RE = re.compile(r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed")
UNKNOWN_RE = re.compile(r"No \S+ host key is known for|Host key verification failed")


class HostKeyChanged(DokkuUnavailable):
    """The host presented a key other than the recorded one: refused (possible MITM)."""


class HostKeyUnknown(DokkuUnavailable):
    """No key is recorded for the host: ``pruvon hosts add`` records it first."""


def _usable(directory: Path) -> bool:
    """Ours, a real directory, mode 0700: nobody else can plant or read a socket there."""
    try:
        info = os.lstat(directory)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
            and stat.S_IMODE(info.st_mode) == 0o700)


def control_dir(state_dir: Path) -> Path:
    """A private directory for the master sockets, short enough for a unix socket path.

    ``<state>/ssh/cm`` when its path is short enough, else a per-user,
    per-state-dir directory under ``$XDG_RUNTIME_DIR`` or the temp dir, which
    is refused unless it is ours and 0700 (a shared /tmp is hostile ground).
    """
    preferred = Path(state_dir) / "ssh" / "cm"
    if len(str(preferred)) <= SOCKET_PATH_MAX - SOCKET_NAME_MAX:
        candidates = [preferred]
    else:
        digest = hashlib.sha256(str(Path(state_dir).resolve()).encode()).hexdigest()[:10]
        base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
        candidates = [Path(base) / f"pruvon-ssh-{os.geteuid()}-{digest}"]
    directory = candidates[0]
    private_dir(directory)
    if not _usable(directory):
        raise DokkuUnavailable(f"{directory} is not a private directory owned by this user; "
                               "refusing to keep ssh control sockets there")
    return directory


def _plain_path(path: Path, what: str) -> str:
    text = str(path)
    if any(c.isspace() for c in text) or '"' in text:
        raise DokkuUnavailable(f"{what} path {text!r} must not contain spaces or quotes")
    return text


def options(known_hosts: Path | None, control: Path | None, accept_new: bool = False,
            connect_timeout: int = CONNECT_TIMEOUT) -> list[str]:
    """The ``-o`` options: batch mode, host-key checking, connection reuse."""
    opts = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(connect_timeout)}",
            "-o", f"StrictHostKeyChecking={'accept-new' if accept_new else 'yes'}"]
    if known_hosts is not None:
        opts += ["-o", f"UserKnownHostsFile={_plain_path(known_hosts, 'known_hosts')}",
                 "-o", "GlobalKnownHostsFile=/dev/null"]
    if control is not None:
        opts += ["-o", "ControlMaster=auto",
                 "-o", f"ControlPath={_plain_path(control, 'control')}/%C",
                 "-o", f"ControlPersist={CONTROL_PERSIST}"]
    return opts


def failure(target: str, stderr: str, hint: str, **fields: object) -> DokkuUnavailable:
    """ssh exited 255: a changed key, an unknown key, or a connection failure."""
    text = stderr.strip()
    if CHANGED_RE.search(text):
        return HostKeyChanged(
            f"the ssh host key of {target} has CHANGED since Pruvon recorded it: refusing to "
            "connect (someone may be intercepting the connection)",
            "if the host was reinstalled, verify its new key out of band, then "
            "`pruvon hosts remove NAME` and `pruvon hosts add NAME ...` again", **fields)
    if UNKNOWN_RE.search(text):
        return HostKeyUnknown(
            f"no ssh host key is recorded for {target}: refusing to connect",
            "record it once with `pruvon hosts add NAME dokku@HOST`", **fields)
    return DokkuUnavailable(text.splitlines()[-1] if text else f"ssh {target} failed", hint,
                            **fields)
