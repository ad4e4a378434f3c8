"""The web's backup operations, declared once for the pages, the JSON API and the WebSocket.

"Run now" and "restore" are background operations (:mod:`pruvon_core.opspecs`):
validated, permitted and audited by the runner, locked on their target, with
progress the pages follow.  Every run shares one operation target
(``backup:run``) so a second "run now" is refused with 409 at once rather than
queued; a run of ``pruvon backup auto`` holding the engine's lock is refused
the same way.  Scoping is per service: a ``routes: [/backups]`` grant holds the
backup actions globally, so each service is checked with the action on that
service (:func:`require_visible`, the user's ``services:`` grant) and the
others answer "not found", never revealing that they exist.

On ``/h/<host>`` everything is that host's: a backup of another host is
"not found" (ids are one sequence over every host), operation targets carry
the host (``backup:postgres:db@prod``, :func:`pruvon_core.hosts.op_target`),
and the background work runs on the host it was started on (the runner's).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruvon_backups import crypto, engine
from pruvon_backups.catalogue import BackupRecord
from pruvon_backups.errors import BackupError
from pruvon_backups.locking import run_lock
from pruvon_backups.overview import existing_services, may_see
from pruvon_core.dokku import validate
from pruvon_core.dokku.errors import AppNotFound, ServiceNotFound
from pruvon_core.guard import Guard
from pruvon_core.operations import Context
from pruvon_core.opspecs import Call, OperationSpec, Runner
from pruvon_core.permissions import PermissionDenied

RUN_TARGET = "run"
SCOPES = ("service", "app", "all")
PROGRESS_EVERY = 0.25  # seconds between persisted progress updates
MAX_IDENTITY = 64 * 1024


class UnknownBackup(BackupError):
    """No such backup, or one the actor may not see: both answer 404 (see ``web.py``)."""


@dataclass
class BackupsDeps:
    """What the operations need: the hook context (config, Dokku client, state dir)."""

    pruvon: Any

    @property
    def state_dir(self) -> Path:
        return Path(self.pruvon.state_dir)


def runner(guard: Guard, deps: BackupsDeps) -> Runner:
    return Runner(guard.for_kind("backup"), deps.state_dir, deps)


# --------------------------------------------------------------------------- lookups
def visible_record(pruvon: Any, actor: Any, backup_id: Any) -> BackupRecord:
    """The catalogue row ``backup_id`` if ``actor`` may see it; UnknownBackup otherwise."""
    try:
        number = int(backup_id)
    except (TypeError, ValueError):
        raise UnknownBackup(f"no backup {backup_id!r}") from None
    record = engine.catalogue(pruvon).get(number)
    # another host's backup is not found here: ids are one sequence over every host
    if record is None or record.status == "deleted" or record.host != engine.acting_host() \
            or not may_see(pruvon, actor, record.type, record.service, host=record.host):
        raise UnknownBackup(f"no backup {number}")
    return record


def missing_service(kind: str, name: str) -> ServiceNotFound:
    """The 404 of a service that does not exist, or that the actor may not see (the same)."""
    return ServiceNotFound(f"{kind} service {name} does not exist")


def require_visible(pruvon: Any, actor: Any, kind: str, name: str,
                    action: str = "backups.read") -> None:
    """A service the actor may ``action``, else the same error as a missing one."""
    if not may_see(pruvon, actor, kind, name, action):
        raise missing_service(kind, name)


def not_busy(pruvon: Any) -> None:
    """BackupBusy (409) now if a run holds the engine's lock, rather than failing later."""
    with run_lock(Path(pruvon.state_dir), engine.catalogue(pruvon)):
        pass


def identities(text: Any) -> list[Any] | None:
    """Age identities pasted in a form or sent in JSON; never written to disk.

    The engine reads identity *files*; the text goes through an anonymous
    in-memory file (``memfd``), so the secret never touches a filesystem.
    """
    if text in (None, ""):
        return None
    if not isinstance(text, str) or len(text) > MAX_IDENTITY:
        raise BackupError("identity: must be the text of an age identity file "
                          "(AGE-SECRET-KEY-1…)")
    fd = os.memfd_create("pruvon-identity", os.MFD_CLOEXEC)
    try:
        os.write(fd, text.encode("utf-8"))
        return crypto.load_identities(f"/proc/self/fd/{fd}")
    except BackupError as exc:
        raise BackupError(str(exc).replace(f"/proc/self/fd/{fd}", "identity")) from None
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- progress
class Reporter:
    """Turns the engine's ``progress(done, total)`` into throttled operation updates.

    The latest numbers are kept in the record's ``result["progress"]`` (what
    the WebSocket sends as ``{"percent", "bytes", "total"}``); the record is
    written at most every :data:`PROGRESS_EVERY` seconds, and always at the end.
    """

    def __init__(self, ctx: Context | None) -> None:
        self.ctx = ctx
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int | None) -> None:
        if self.ctx is None:
            return
        now = time.monotonic()
        final = total is not None and done >= total
        with self._lock:
            if not final and now - self._last < PROGRESS_EVERY:
                return
            self._last = now
        self.ctx.op.result["progress"] = {"bytes": done, "total": total}
        if total:
            self.ctx.fraction(done / total, f"{done} of {total} bytes")
        else:
            self.ctx.fraction(0.0, f"{done} bytes")


def progress_of(op: Any) -> dict[str, Any]:
    """``{"percent", "bytes", "total"}`` of a restore operation's record."""
    progress = (op.result or {}).get("progress") or {}
    done, total = progress.get("bytes", 0), progress.get("total")
    if op.status == "succeeded":
        percent = 100
    elif total:
        percent = min(100, int(done * 100 / total))
    else:
        percent = 0
    return {"percent": percent, "bytes": done, "total": total}


# --------------------------------------------------------------------------- run now
def _run_services(call: Call) -> list[tuple[str, str]]:
    """The services a "run now" covers, each visible to the actor."""
    pruvon, actor, params = call.deps.pruvon, call.actor, call.params
    scope = params.get("scope")
    if scope == "service":
        kind = validate.service_type(str(params.get("type") or ""))
        name = validate.service_name(str(params.get("name") or ""))
        require_visible(pruvon, actor, kind, name, "backups.run")
        if not pruvon.client().service_exists(kind, name):
            raise missing_service(kind, name)
        return [(kind, name)]
    if scope == "app":
        from pruvon_services.public import linked_services

        from pruvon_core.permissions import Resource

        app = validate.app_name(str(params.get("app") or ""))
        if not pruvon.allowed(actor, "apps.read", Resource("app", app)):
            raise AppNotFound(f"App {app} does not exist")
        found = [(kind, name) for kind, name, _ in linked_services(pruvon.client(), app)
                 if may_see(pruvon, actor, kind, name, "backups.run")]
        if not found:
            raise BackupError(f"app {app} has no linked service you may back up")
        return found
    if scope == "all":
        services, errors = existing_services(pruvon)
        found = [s for s in services if may_see(pruvon, actor, *s, "backups.run")]
        if not found:
            raise BackupError("no service to back up" + (f" (Dokku: {'; '.join(errors)})"
                                                         if errors else ""))
        return found
    raise BackupError(f"scope: must be one of {', '.join(SCOPES)}, not {scope!r}")


def _check_run(call: Call) -> None:
    call.params["services"] = _run_services(call)
    not_busy(call.deps.pruvon)


def _run(call: Call, ctx: Context | None) -> dict[str, Any]:
    """Back up each service in turn; one failing does not stop the others."""
    done: list[int] = []
    failed: list[str] = []
    for kind, name in call.params["services"]:
        label = f"{kind}:{name}"
        if ctx is not None:
            ctx.step(label)
        try:
            record = engine.run_backup(call.deps.pruvon, kind, name, "manual",
                                       progress=Reporter(ctx), actor=call.actor)
        except Exception as exc:  # reported per service, the others go on
            failed.append(f"{label}: {getattr(exc, 'message', None) or exc}")
            if ctx is not None:
                ctx.line(f"{label} failed: {failed[-1]}")
                ctx.skip(label, "failed")
            continue
        done.append(record.id)
        if ctx is not None:
            ctx.line(f"{label}: backup {record.id}, {record.size} bytes, sha256 {record.sha256}")
            ctx.done(f"backup {record.id}")
    if failed:
        raise BackupError(f"{len(failed)} of {len(call.params['services'])} backups failed: "
                          + "; ".join(failed))
    return {"backups": done}


def _run_title(call: Call) -> str:
    scope = call.params["scope"]
    if scope == "service":
        return f"back up {call.params['type']} {call.params['name']}"
    if scope == "app":
        return f"back up the services of {call.params['app']}"
    return "back up every service"


RUN = OperationSpec(
    kind="backups.run", action="backups.run", resource="backup", scoped=False,
    check=_check_run, title=_run_title,
    steps=lambda call: [f"{k}:{n}" for k, n in call.params["services"]],
    details=lambda call: {"scope": call.params["scope"],
                          "services": [f"{k}:{n}" for k, n in call.params["services"]]},
    run=_run,
)


# --------------------------------------------------------------------------- restore
def _check_restore(call: Call) -> None:
    pruvon, actor, params = call.deps.pruvon, call.actor, call.params
    record = visible_record(pruvon, actor, params.get("id"))
    if not may_see(pruvon, actor, record.type, record.service, "backups.restore", record.host):
        raise PermissionDenied(actor, "backups.restore", None)
    if record.status != "good":
        raise BackupError(f"backup {record.id} is {record.status}: only a good backup can be "
                          "restored")
    if record.type == "app":
        raise BackupError(f"backup {record.id} is an app configuration snapshot: restore it "
                          "with pruvon apps restore-snapshot")
    if params.get("confirm") != record.service:
        raise BackupError(f"type the service name ({record.service}) exactly to confirm")
    into = params.get("into") or None
    if into is not None:
        into = validate.service_name(str(into))
        if not call.guard.allowed("services.create"):
            call.guard.record("services.create", None, "denied", what="restore into")
            raise PermissionDenied(actor, "services.create", None)
        if pruvon.client().service_exists(record.type, into):
            raise BackupError(f"{record.type} service {into} already exists: restoring into "
                              "a new service needs a name not in use")
    if not isinstance(params.get("safety", True), bool):
        raise BackupError("safety: must be true or false")
    if into is None and params.get("safety", True):
        not_busy(pruvon)  # the safety backup needs the run lock: refuse now (409), not later
    params.update(record=record, into=into)
    if "identity" in params:  # parsed once: the runner checks a validated call again
        # the secret stays in memory, never in an operation or audit record
        params["identities"] = identities(params.pop("identity"))
    if record.encrypted and not params.get("identities"):
        raise BackupError(f"backup {record.id} is encrypted: give the age identity "
                          "(the text of the identity file) to restore it")


def _restore(call: Call, ctx: Context | None) -> dict[str, Any]:
    params = call.params
    if ctx is not None:
        ctx.step("restore")
    result = engine.restore(call.deps.pruvon, params["record"].id, into=params["into"],
                            identity=params.get("identities"), safety=params.get("safety", True),
                            progress=Reporter(ctx), actor=call.actor)
    if ctx is not None:
        ctx.line(f"restored {result.bytes} bytes into {result.type} {result.service}"
                 + (f" (safety backup {result.safety_backup})" if result.safety_backup else ""))
        ctx.done(f"{result.bytes} bytes")
    data = result.as_dict()
    data["progress"] = {"bytes": result.bytes, "total": result.bytes}
    return data


def restore_target(params: dict[str, Any]) -> str:
    """The operation target of a validated restore: ``<type>:<destination service>``."""
    record = params["record"]
    return f"{record.type}:{params['into'] or record.service}"


def start_restore(run: Runner, params: dict[str, Any]) -> Any:
    """Permission, validation, then the restore on its destination service (locked there)."""
    run.guard.for_kind(RESTORE.resource).require(RESTORE.action)
    params = run.validate(RESTORE, "restore", params)
    return run.start(RESTORE, restore_target(params), params)


def start_run(run: Runner, params: dict[str, Any]) -> Any:
    """Start a "run now" (every run shares one target: a second one is a 409).

    The permission first: a refused actor causes no Dokku call at all.
    """
    run.guard.for_kind(RUN.resource).require(RUN.action)
    return run.start(RUN, RUN_TARGET, params)


RESTORE = OperationSpec(
    kind="backups.restore", action="backups.restore", resource="backup", scoped=False,
    check=_check_restore, steps=lambda call: ["restore"],
    title=lambda call: (f"restore backup {call.params['record'].id} into "
                        f"{restore_target(call.params).replace(':', ' ')}"),
    details=lambda call: {"id": call.params["record"].id, "into": call.params["into"],
                          "safety": call.params.get("safety", True)},
    run=_restore,
)
