"""The Procfile and app.json Dokku keeps from an app's last deploy.

Dokku's ``ps`` and ``app-json`` plugins copy them out of the deployed source
(``core-post-extract``) and move them into place after a successful deploy
(``core-post-deploy``): ``$DOKKU_LIB_ROOT/data/ps/<app>/Procfile`` and
``$DOKKU_LIB_ROOT/data/app-json/<app>/app.json``, the directories mode 0755;
a file the source lacks is removed.  From a git checkout the copy keeps the
source file's mode (usually 0644); copied out of an image (``git:from-image``)
it goes through a 0600 temporary file, so it stays 0600.  The simulator's
``DOKKU_LIB_ROOT`` is its root.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pruvon_testing.sim.core import SimState, write_atomic

# name in the source -> (plugin data directory, file name there)
FILES: dict[str, tuple[str, str]] = {
    "Procfile": ("ps", "Procfile"),
    "app.json": ("app-json", "app.json"),
}


def install(state: SimState, app: str, found: Mapping[str, str], mode: int) -> None:
    """After a successful deploy: the source's files in place, the missing ones removed."""
    for source, (plugin, name) in FILES.items():
        directory = state.root / "data" / plugin / app
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o755)
        target = directory / name
        text = found.get(source)
        if text is None:
            target.unlink(missing_ok=True)
            continue
        if not text.endswith("\n"):
            text += "\n"  # Dokku appends the newline its parsers need
        write_atomic(target, text)
        os.chmod(target, mode)


def clone(state: SimState, old: str, new: str) -> None:
    """``post-app-clone-setup`` / ``post-app-rename-setup``: the files go with the app."""
    for plugin, name in FILES.values():
        source = state.root / "data" / plugin / old / name
        if source.is_file():
            target = state.root / "data" / plugin / new / name
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, source.read_bytes())
            os.chmod(target, source.stat().st_mode & 0o777)


def remove(state: SimState, app: str) -> None:
    """``post-delete``: the app's data directories go with it."""
    for plugin, name in FILES.values():
        directory = state.root / "data" / plugin / app
        (directory / name).unlink(missing_ok=True)
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
