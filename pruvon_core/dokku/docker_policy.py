"""Which ``docker-options`` Pruvon refuses: those that break host isolation.

Anyone who may change an app's docker options could otherwise get root on the
host (``--privileged``, ``-v /:/host``, ``--pid=host`` …).  The rule is a
deny-list of docker flags plus a rule for bind mounts: host paths are allowed
only under Dokku's storage directory (what ``storage:mount`` allows); named
volumes are fine.  One option per call (a flag and, at most, its value).
"""

from __future__ import annotations

import posixpath
import shlex

from pruvon_core.dokku.errors import InvalidValue

STORAGE_DIR = "/var/lib/dokku/data/storage"
# flag -> why it is refused (shown to the operator)
REFUSED = {
    "--privileged": "gives the container every capability and all host devices",
    "--cap-add": "adds kernel capabilities",
    "--security-opt": "can switch off seccomp/AppArmor confinement",
    "--device": "exposes host devices",
    "--device-cgroup-rule": "exposes host devices",
    "--userns": "can switch off user-namespace remapping",
    "--cgroup-parent": "moves the container out of Docker's cgroup",
    "--cgroupns": "can share the host's cgroup namespace",
    "--runtime": "changes the container runtime",
    "--sysctl": "changes kernel parameters",
    "--env-file": "reads a file from the host",
    "--volumes-from": "mounts other containers' volumes",
    "--volume-driver": "changes how volumes are mounted",
}
HOST_NAMESPACE_FLAGS = ("--pid", "--network", "--net", "--ipc", "--uts")
MOUNT_FLAGS = ("-v", "--volume", "--mount")
MAX_OPTION = 4096


def docker_option(option: object, storage_dir: str = STORAGE_DIR) -> str:
    """One docker option (``--restart=always``, ``-v name:/data``), normalised to one line.

    Raises :class:`InvalidValue` naming the flag and why it is refused.
    """
    if not isinstance(option, str) or not option.strip():
        raise InvalidValue("docker option is empty")
    if len(option) > MAX_OPTION or any(ord(ch) < 32 for ch in option):
        raise InvalidValue("docker option must be one line of at most 4096 characters")
    try:
        words = shlex.split(option)
    except ValueError as exc:
        raise InvalidValue(f"docker option cannot be parsed: {exc}") from None
    if not words[0].startswith("-") or len(words) > 2 or (
            len(words) == 2 and words[1].startswith("-")):
        raise InvalidValue("give one docker option: a flag starting with '-' and at most one "
                           "value, e.g. --restart=always or -v name:/data")
    flag, value = _flag_value(words)
    _check(flag, value, storage_dir)
    return shlex.join(words)


def _flag_value(words: list[str]) -> tuple[str, str]:
    """``--flag=value``, ``--flag value``, ``-v value`` or ``-vvalue`` -> (flag, value)."""
    first = words[0]
    if not first.startswith("--") and len(first) > 2:
        return first[:2], first[2:].removeprefix("=")
    flag, sep, inline = first.partition("=")
    return flag, inline if sep else (words[1] if len(words) == 2 else "")


def _check(flag: str, value: str, storage_dir: str) -> None:
    if flag in REFUSED:
        raise InvalidValue(f"docker option {flag} is not allowed: it {REFUSED[flag]} "
                           "(host isolation; see docs/apps.md)")
    if flag in HOST_NAMESPACE_FLAGS and (value == "host" or value.startswith("container:")):
        raise InvalidValue(f"docker option {flag}={value} is not allowed: it shares a "
                           "namespace with the host or another container")
    if flag in MOUNT_FLAGS:
        source = _mount_source(flag, value)
        if ("/" in source or source.startswith(".")) and not _inside(source, storage_dir):
            raise InvalidValue(f"docker option {flag} may bind only paths inside {storage_dir} "
                               f"(or a named volume), not {source}; use the storage tab")


def _mount_source(flag: str, value: str) -> str:
    if flag != "--mount":
        return value.split(":", 1)[0]
    fields = dict(part.partition("=")[::2] for part in value.split(","))
    return fields.get("source") or fields.get("src") or ""


def _inside(path: str, directory: str) -> bool:
    """True when ``path`` is ``directory``'s child, with no ``..`` games."""
    if not path.startswith("/") or ".." in path.split("/"):
        return False
    normal = posixpath.normpath(path)
    return normal.startswith(directory.rstrip("/") + "/")
