"""An app's ``Procfile`` and ``app.json`` as Dokku extracted them at its last deploy.

Dokku 0.38 keeps no copy Pruvon could ask for through a ``dokku`` command: its
``ps`` and ``app-json`` plugins copy the files out of the deployed source
(trigger ``core-post-extract``) and move them into place after a successful
deploy (``core-post-deploy``) as ``$DOKKU_LIB_ROOT/data/ps/<app>/Procfile``
and ``$DOKKU_LIB_ROOT/data/app-json/<app>/app.json``; a source without one
has the old copy removed.  So, like the Go original, Pruvon reads those files.

- ``DOKKU_LIB_ROOT`` is ``dokku.lib_root`` in the config, else the
  ``DOKKU_LIB_ROOT`` environment variable (Dokku's own name for it, which the
  simulator also sets), else ``/var/lib/dokku``.
- The directories are 0755 but a file copied out of an image (image deploys,
  ``git:from-image``) is 0600, owned by ``dokku``: Pruvon running as its own
  ``pruvon`` user then cannot read it and says so (state ``unreadable``, with
  the path and the user), never a traceback.  Running as ``dokku``/root, or a
  readable copy, shows it.
- Over ssh (``dokku.ssh``) the files are on another machine that Dokku's
  forced command gives no way to read: the request is refused with
  :class:`DokkuUnavailable` (HTTP 503, CLI exit 1) before any call.  With
  ``dokku.command`` they are read on this machine under ``dokku.lib_root``.

Each file is read with ``O_NOFOLLOW`` (a symlinked file is not followed out of
Dokku's data directory), only if regular, and at most :data:`MAX_BYTES`.
"""

from __future__ import annotations

import errno
import os
import pwd
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pruvon_core.dokku import DokkuClient, validate
from pruvon_core.dokku.errors import DokkuUnavailable

LIB_ROOT = "/var/lib/dokku"
MAX_BYTES = 256 * 1024
# what the CLI and the API call each file -> (Dokku plugin data directory, file name)
FILES: dict[str, tuple[str, str]] = {
    "procfile": ("ps", "Procfile"),
    "app.json": ("app-json", "app.json"),
}
SSH_REFUSAL = (
    "the Procfile and app.json Dokku extracted are files on the Dokku host, and over ssh "
    "Dokku offers no command that prints them"
)
SSH_HINT = "run Pruvon on the Dokku host to see them"


@dataclass(frozen=True)
class AppFile:
    """One extracted file: ``state`` is present, missing, not_deployed, too_large or unreadable."""

    name: str
    path: str
    state: str
    content: str | None = None
    size: int | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FilesOverSsh(DokkuUnavailable):
    """The files live on a host Pruvon reaches only through Dokku's ssh commands."""


def lib_root(config: Any, env: Mapping[str, str] | None = None) -> str:
    """Dokku's ``DOKKU_LIB_ROOT``: ``dokku.lib_root``, else the environment's, else the default."""
    env = os.environ if env is None else env
    value = config.get("dokku.lib_root") if config is not None else None
    return str(value or env.get("DOKKU_LIB_ROOT") or LIB_ROOT)


def file_path(root: str, app: str, key: str) -> Path:
    """Where Dokku keeps ``key`` (``procfile``/``app.json``) of ``app``."""
    plugin, name = FILES[key]
    return Path(root) / "data" / plugin / validate.app_name(app) / name


def app_files(client: DokkuClient, app: str, root: str,
              deployed: bool | None = None) -> dict[str, Any]:
    """``{"app", "deployed", "files": {key: AppFile dict}}``: two file reads, plus one
    ``ps:report`` unless the caller already knows ``deployed`` (the page's ``apps:report``)."""
    validate.app_name(app)
    if client.over_ssh:
        raise FilesOverSsh(SSH_REFUSAL, SSH_HINT)
    if deployed is None:
        deployed = client.ps_report(app).deployed
    files = {key: read_file(file_path(root, app, key), FILES[key][1], deployed)
             for key in FILES}
    return {"app": app, "deployed": deployed,
            "files": {key: found.as_dict() for key, found in files.items()}}


def read_file(path: Path, name: str, deployed: bool = True) -> AppFile:
    """One file, whatever happens to it: a state and a message, never an exception."""
    if not deployed:
        return AppFile(name, str(path), "not_deployed",
                       message=f"not deployed yet: Dokku extracts the {name} at the first deploy")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return AppFile(name, str(path), "missing", message=f"this app has no {name}")
    except OSError as exc:
        return _unreadable(path, name, exc)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return AppFile(name, str(path), "unreadable", message=f"{path} is not a regular file")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return AppFile(name, str(path), "too_large", size=info.st_size,
                       message=f"{name} is {info.st_size} bytes, more than Pruvon shows "
                               f"({MAX_BYTES // 1024} KiB); read it on the host")
    return AppFile(name, str(path), "present", data.decode(errors="replace"), len(data))


def _unreadable(path: Path, name: str, exc: OSError) -> AppFile:
    if exc.errno in (errno.EACCES, errno.EPERM):
        user = pwd.getpwuid(os.geteuid()).pw_name
        why = (f"Pruvon runs as {user!r} and may not read {path} (Dokku writes a file copied "
               "out of an image mode 0600 for the dokku user)")
    elif exc.errno == errno.ELOOP:
        why = f"{path} is a symlink; Pruvon does not follow it"
    else:
        why = f"cannot read {path}: {exc.strerror}"
    return AppFile(name, str(path), "unreadable", message=why)
