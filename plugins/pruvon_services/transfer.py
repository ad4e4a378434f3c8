"""Import uploads: spooled to disk in bounded chunks, checked, fed to ``<type>:import``.

Pure Python (no Flask) so the upload path can be measured on its own
(``benchmarks/bench_services_import.py``).  An upload is read from its stream
one chunk at a time into a private file under ``<state_dir>/imports/`` (never
held whole in memory: a 1 GiB dump costs the server a chunk, not a GiB); its
first bytes are checked against the kind's export format before the rest is
accepted, so a wrong file is refused at once and nothing reaches Dokku.  The
import itself is an operation (:data:`IMPORT`) run by the services' runner:
permission, per-service lock and audit as for every other change, its
progress - bytes sent against the upload's size - in the operation record
that ``/ws/services/import/<task>`` streams.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from pruvon_core.files import private_dir
from pruvon_core.operations import Context
from pruvon_core.opspecs import Call, OperationSpec
from pruvon_services.kinds import ServiceKind, kind_facts
from pruvon_services.service import ServicesError, check_dump, import_stream

CHUNK = 1024 * 1024  # bytes read from the upload per step
HEAD = 64  # bytes a dump's format is recognised by
MAX_UPLOAD = 64 * 1024 ** 3  # 64 GiB: an upload larger than this is refused before any byte
DISK_MARGIN = 256 * 1024 ** 2  # free space left on the state disk after an upload
PROGRESS_EVERY = 0.25  # seconds between two progress writes (each rewrites the record)


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


def discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


class Progress:
    """Writes bytes sent into the operation record, at most every :data:`PROGRESS_EVERY` s."""

    def __init__(self, ctx: Context | None, total: int) -> None:
        self.ctx = ctx
        self.total = total
        self._last = 0.0

    def __call__(self, sent: int) -> None:
        now = time.monotonic()
        if self.ctx is None or (now - self._last < PROGRESS_EVERY and sent < self.total):
            return
        self._last = now
        self.ctx.op.result = {"bytes": sent, "total": self.total}
        self.ctx.fraction(sent / self.total if self.total else 1.0,
                          f"{sent} of {self.total} bytes")


def _check_import(call: Call) -> None:
    path = call.params.get("path")
    if not isinstance(path, Path) or not path.is_file():
        raise ServicesError("the uploaded file is gone; upload it again")
    call.params["size"] = path.stat().st_size


def run_import(call: Call, ctx: Context | None, feed: Callable[..., None] = import_stream
               ) -> dict[str, Any]:
    """Feed the spooled file to ``<type>:import``; the file is removed however it ends."""
    kind, name = call.target.split("/", 1)
    path, total = call.params["path"], call.params["size"]
    if ctx is not None:
        ctx.step("import")
    try:
        with open(path, "rb") as source:
            feed(call.deps.client, kind_facts(kind, call.deps.pruvon), name, source, total, Progress(ctx, total))
    finally:
        discard(path)
    if ctx is not None:
        ctx.op.result = {"bytes": total, "total": total}
        ctx.done(f"{total} bytes imported")
    return {"bytes": total, "total": total}


IMPORT = OperationSpec(
    kind="services.import", action="services.import", resource="service", check=_check_import,
    steps=lambda call: ["import"], title=lambda c: f"import into {c.target.replace('/', ' ')}",
    details=lambda c: {"bytes": c.params["size"], "file": c.params.get("filename") or None},
    run=run_import,
)
