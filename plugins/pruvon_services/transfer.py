"""Import uploads: spooled to disk in bounded chunks and checked before any Dokku call.

Pure Python (no Flask).  An upload is read from its stream one chunk at a
time into a private file under ``<state_dir>/imports/`` (never held whole in
memory: a 1 GiB dump costs the server a chunk, not a GiB); its first bytes
are checked against the kind's export format as soon as they arrive, so a
wrong file is refused at once and nothing reaches Dokku.  The caller then
opens the file, unlinks it (the open handle keeps the data until the import
ends; a crash leaves nothing behind) and hands it to the services'
``IMPORT`` operation.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import IO

from pruvon_core.files import private_dir
from pruvon_services.kinds import ServiceKind
from pruvon_services.service import ServicesError, check_dump

CHUNK = 1024 * 1024  # bytes read from the upload per step
HEAD = 64  # bytes a dump's format is recognised by
MAX_UPLOAD = 64 * 1024 ** 3  # 64 GiB: an upload larger than this is refused before any byte
DISK_MARGIN = 256 * 1024 ** 2  # free space left on the state disk after an upload


def imports_dir(state_dir: Path) -> Path:
    return private_dir(Path(state_dir) / "imports")


def check_room(directory: Path, size: int | None) -> None:
    """Refuse an upload that would fill the state disk (the operator's other data lives there)."""
    if size is None:
        return
    if size > MAX_UPLOAD:
        raise ServicesError(f"the file is {size} bytes; imports are limited to {MAX_UPLOAD} bytes")
    free = shutil.disk_usage(directory).free
    if size + DISK_MARGIN > free:
        raise ServicesError(f"not enough free space in Pruvon's state directory for a {size}-byte "
                            f"file ({free} bytes free)")


def receive(stream: IO[bytes], kind: ServiceKind, state_dir: Path, size: int | None) -> Path:
    """Copy an upload to a private temp file, chunk by chunk; its path.

    ``size`` is the announced length (Content-Length): a shorter body is an
    interrupted upload and is refused.  On any failure the partial file is
    removed.
    """
    directory = imports_dir(state_dir)
    check_room(directory, size)
    limit = size if size is not None else MAX_UPLOAD
    path = directory / f"import-{os.getpid()}-{time.monotonic_ns()}.part"
    head, received = b"", 0
    try:
        with open(path, "xb", buffering=0) as out:
            os.chmod(path, 0o600)
            while block := stream.read(CHUNK):
                received += len(block)
                if received > limit:
                    raise ServicesError("the upload is longer than announced")
                if len(head) < HEAD:
                    head += block[:HEAD - len(head)]
                    if len(head) == HEAD:
                        check_dump(kind, head)  # a wrong file stops at its first chunk
                out.write(block)
        if len(head) < HEAD:
            check_dump(kind, head)  # a file shorter than a format's signature
        if size is not None and received != size:
            raise ServicesError(f"the upload ended after {received} of {size} bytes; "
                                "send the file again")
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return path


def detach(path: Path) -> IO[bytes]:
    """The spooled file opened for reading and already unlinked: its data lives as long
    as the handle, so however the import ends (or the server dies) no file is left."""
    try:
        return open(path, "rb")  # the import operation owns (and closes) it
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
