"""The backup engine: run, verify, restore, download, delete, prune, and the daily run.

A backup streams ``<type>:export`` through zstd, optionally age, a sha256 and
every configured target at once; each target's copy is one catalogue row that
becomes ``good`` only after the target committed the file (temp file, fsync,
rename).  A JSON manifest is stored beside each file.  Every outcome is
audited (``backups.run``, ``backups.restore`` …), which also sends it through
``pruvon_event`` so a notification plugin can alert.

Functions take the hook context ``pruvon`` (config, Dokku client, state dir)
so the CLI, the web UI and other plugins share one implementation.

Several hosts (issue 17): a run backs up a service of the host acted on
(:func:`pruvon_core.hosts.current`, set by ``--host`` or ``/h/<host>``) and its
rows and keys carry that host; verify, restore, delete and download act on
the host the backup belongs to, whatever host the caller acts on, so a
backup of ``db`` on one host is never imported into ``db`` on another.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pruvon_services.public import export_stream, import_stream, kind_facts

from pruvon_backups import config as backup_config
from pruvon_backups import crypto, formats, layout
from pruvon_backups.catalogue import BackupRecord, Catalogue, iso, utcnow
from pruvon_backups.errors import BackupError, BackupNotFound, TargetWriteFailed, VerifyFailed
from pruvon_backups.locking import run_lock
from pruvon_backups.pipeline import (
    CHUNK,
    CompressingReader,
    FanOut,
    HashingReader,
    decoded,
    prefetched,
    store,
)
from pruvon_backups.targets import Target
from pruvon_core import __version__, audit, hosts
from pruvon_core.dokku import validate
from pruvon_core.dokku.errors import DokkuError
from pruvon_core.permissions import SYSTEM

Progress = Callable[[int, int | None], None]
HEADER_BYTES = formats.HEADER_BYTES


# --------------------------------------------------------------------------- plumbing
def acting_host() -> str:
    """The catalogue's ``host`` of the host acted on now (``''``: the default host)."""
    return hosts.current() or ""


def service_label(kind: str, name: str, host: str = "") -> str:
    """An audit target: ``postgres:db`` on the default host, ``postgres:db@prod`` elsewhere."""
    return f"{kind}:{name}@{host}" if host else f"{kind}:{name}"


def on_host(record: BackupRecord) -> Any:
    """Act on the backup's own host inside the block (its client, guard, audit)."""
    return hosts.using(record.host_or_none)


def catalogue(pruvon: Any) -> Catalogue:
    """The catalogue of this host (``<state_dir>/backups.sqlite3``)."""
    return Catalogue(pruvon.state_dir)


def targets(pruvon: Any) -> dict[str, Target]:
    """The configured targets by name, in config order."""
    return {t.name: t for t in backup_config.configured_targets(pruvon)}


def _record(cat: Catalogue, backup_id: int | str) -> BackupRecord:
    try:
        number = int(backup_id)
    except (TypeError, ValueError) as exc:
        raise BackupNotFound(f"backup id must be a number, not {backup_id!r}") from exc
    record = cat.get(number)
    if record is None:
        raise BackupNotFound(f"no backup with id {number}")
    return record


def of_acting_host(pruvon: Any, backup_id: int | str) -> BackupRecord:
    """A backup of the host acted on (``--host``); BackupError naming its host otherwise.

    Backup ids are one sequence over every host: without this check, ``pruvon
    --host staging backup restore 12`` could act on a backup of ``prod``.
    """
    record = _record(catalogue(pruvon), backup_id)
    if record.host != acting_host():
        owner = backup_config.host_name(pruvon, record.host_or_none)
        here = backup_config.host_name(pruvon, hosts.current())
        raise BackupError(f"backup {record.id} is a backup of host {owner}, not of {here}: "
                          f"run the command with --host {owner}")
    return record


def stored(pruvon: Any, cat: Catalogue, backup_id: int | str) -> tuple[BackupRecord, Target]:
    """A good backup and the target that holds it; BackupError when it cannot be read."""
    record = _record(cat, backup_id)
    if record.status != "good":
        raise BackupError(f"backup {record.id} is {record.status}"
                          + (f" ({record.error})" if record.error else "") + ": nothing to read")
    target = targets(pruvon).get(record.target)
    if target is None:
        raise BackupError(f"backup {record.id} is on target {record.target!r}, which is no "
                          "longer in backup.targets")
    return record, target


def identities_from(identity: Any) -> list[Any] | None:
    """Identities from a file path, or as given (a list of pyrage identities)."""
    if identity is None:
        return None
    if isinstance(identity, str | Path):
        return crypto.load_identities(identity)
    return list(identity)


def audit_outcome(pruvon: Any, actor: Any, action: str, target: str | None, result: str,
                  **details: Any) -> None:
    """Audit one outcome (also sent through ``pruvon_event``), as the system actor by default."""
    audit.record(actor or SYSTEM, action, target, result, state_dir=pruvon.state_dir, **details)


_dokku_version: dict[int, str] = {}


def _dokku_version_of(client: Any) -> str:
    """Dokku's version for manifests, asked once per client (``version`` is a real call)."""
    if id(client) not in _dokku_version:
        try:
            _dokku_version[id(client)] = client.version()
        except DokkuError:
            return "unknown"
    return _dokku_version[id(client)]


# --------------------------------------------------------------------------- storing
@dataclass
class _Copy:
    """One target's copy during a run: its writer and catalogue row."""

    target: Target
    key: str
    writer: Any
    record: BackupRecord


def _unique_key(cat: Catalogue, target: Target, kind: str, rotation: str, name: str,
                when: datetime, encrypted: bool, host: str) -> str:
    """Pruvon's key for this run (under ``hosts/<host>/`` for another host than the
    default one); ``_2``, ``_3`` … when that minute's name is taken."""
    for serial in range(1, 1000):
        file_name = layout.file_name(name, kind, rotation, when, compressed=True,
                                     encrypted=encrypted, serial=serial)
        key = layout.key_for(kind, rotation, name, file_name, host)
        if not target.exists(key) and cat.find_key(target.name, key) is None:
            return key
    raise BackupError(f"too many backups of {kind} {name} in one minute")


def _open_copies(cat: Catalogue, run_targets: list[Target], kind: str, name: str,
                 rotation: str, when: datetime, encrypted: bool,
                 run_id: int | None) -> tuple[list[_Copy], list[str]]:
    """A writer and a ``running`` row per target; targets that cannot open are failures."""
    copies, failures = [], []
    host = acting_host()
    for target in run_targets:
        common = dict(type=kind, service=name, rotation=rotation, target=target.name,
                      encrypted=encrypted, created=iso(when), run_id=run_id, host=host)
        key = ""
        try:  # an unreachable target fails already when asked whether a key exists
            key = _unique_key(cat, target, kind, rotation, name, when.astimezone(), encrypted,
                              host)
            common["key"] = key
            writer = target.open_writer(key)
        except Exception as exc:  # a target that cannot open is that target's failure
            cat.add(**{"key": key, **common}, status="failed", error=f"{target.name}: {exc}")
            failures.append(f"{target.name}: {exc}")
            continue
        temp = getattr(writer, "temp", None)
        path = target.local_path(key)
        record = cat.add(**common, status="running", temp=str(temp) if temp else None,
                         path=str(path) if path else None)
        copies.append(_Copy(target, key, writer, record))
    return copies, failures


def _write_manifest(copy: _Copy, manifest: dict[str, Any]) -> None:
    """``<file>.json`` beside the file, so the tree is self-describing without the catalogue."""
    import json

    writer = copy.target.open_writer(copy.key + ".json")
    try:
        writer.write(json.dumps({**manifest, "key": copy.key, "target": copy.target.name},
                                indent=2, sort_keys=True).encode() + b"\n")
        writer.commit()
    except BaseException:
        writer.abort()
        raise


def _finish_copies(cat: Catalogue, copies: list[_Copy], sink: FanOut,
                   manifest: dict[str, Any]) -> tuple[list[BackupRecord], list[str]]:
    """Commit every copy that is still writing; the rest are recorded failed."""
    good, failures = [], []
    for index, copy in enumerate(copies):
        error = sink.failed.get(index)
        if error is None:
            try:
                copy.writer.commit()
                _write_manifest(copy, manifest)
            except Exception as exc:  # recorded as this copy's failure
                # best effort: an unreachable target cannot delete either (the row says failed)
                with suppress(Exception):
                    copy.target.delete(copy.key)
                error = exc
        if error is not None:
            cat.update(copy.record.id, status="failed", error=f"{copy.target.name}: {error}",
                       temp=None)
            failures.append(f"{copy.target.name}: {error}")
            continue
        good.append(cat.update(copy.record.id, status="good", size=sink.size,
                               raw_size=manifest["raw_size"], sha256=manifest["sha256"],
                               manifest=manifest, temp=None))
    return good, failures


def _fail_copies(cat: Catalogue, copies: list[_Copy], error: BaseException) -> None:
    for copy in copies:
        copy.writer.abort()
        cat.update(copy.record.id, status="failed", error=str(error) or type(error).__name__,
                   temp=None)


def store_stream(pruvon: Any, kind: str, name: str, rotation: str, chunks: Iterator[bytes],
                 manifest: dict[str, Any], progress: Progress | None = None,
                 now: datetime | None = None, run_id: int | None = None,
                 encrypt: bool = True) -> BackupRecord:
    """Compress (and encrypt) ``chunks`` to every target; the first good copy's record.

    The copies belong to the host acted on (:func:`acting_host`), named in the
    manifest too.  Used for service dumps and app snapshots alike.  Raises the
    export's error (Dokku's text) or :class:`TargetWriteFailed` when no target stored it;
    when some targets stored it and others failed, the good copies stay and
    TargetWriteFailed names the failures.
    """
    section = backup_config.settings(pruvon)
    texts = backup_config.recipient_texts(section) if encrypt else []
    to = crypto.recipients(texts)
    cat = catalogue(pruvon)
    when = now or utcnow()
    copies, failures = _open_copies(cat, backup_config.configured_targets(pruvon, section),
                                    kind, name, rotation, when, bool(to), run_id)
    if not copies:
        raise TargetWriteFailed(f"no target could store the backup of {kind} {name}: "
                                + "; ".join(failures))
    started = time.monotonic()
    source = CompressingReader(prefetched(chunks),
                               (lambda raw: progress(raw, None)) if progress else None,
                               level=section["compression_level"])
    sink = FanOut([copy.writer for copy in copies])
    try:
        store(source, sink, to)
    except BaseException as exc:
        _fail_copies(cat, copies, exc)
        if exc is sink.error:
            raise TargetWriteFailed(f"no target could store the backup of {kind} {name}: "
                                    + "; ".join(f"{c.target.name}: {sink.failed[i]}"
                                                for i, c in enumerate(copies))) from exc
        raise
    manifest = {
        **manifest, "service": name, "kind": kind, "rotation": rotation, "created": iso(when),
        "raw_size": source.raw, "size": sink.size, "sha256": sink.sha256.hexdigest(),
        "compression": "zstd", "compression_level": section["compression_level"],
        "encrypted": bool(to), "host": acting_host() or None,
        "recipients": [crypto.fingerprint(t) for t in texts],
        "duration_seconds": round(time.monotonic() - started, 3),
        "pruvon_version": __version__,
    }
    good, more = _finish_copies(cat, copies, sink, manifest)
    failures += more
    if failures:
        where = ", ".join(r.target for r in good) or "no target"
        raise TargetWriteFailed(f"backup of {kind} {name} stored on {where}; failed on: "
                                + "; ".join(failures))
    return good[0]


def run_backup(pruvon: Any, kind: str, name: str, rotation: str = "manual",
               progress: Progress | None = None, *, now: datetime | None = None,
               actor: Any = None, run_id: int | None = None) -> BackupRecord:
    """Back up one service now to every target; its record (the first target's copy).

    Holds the run lock (BackupBusy if another run has it).  Audited as
    ``backups.run`` with the outcome, whatever it is.
    """
    kind, name = validate.service_type(kind), validate.service_name(name)
    if kind == layout.HOSTS_DIR:  # the directory of the other hosts' trees, never a type
        raise BackupError(f"{kind!r} cannot be backed up: it names the backup tree's "
                          "per-host directory")
    if rotation not in layout.ROTATIONS:
        raise BackupError(f"rotation must be one of {', '.join(layout.ROTATIONS)}, not {rotation!r}")
    cat = catalogue(pruvon)
    label = service_label(kind, name, acting_host())
    with run_lock(pruvon.state_dir, cat):
        client = backup_config.client(pruvon)
        try:
            info = client.service_info(kind, name)
            manifest = {"image_version": info.version, "service_status": info.status,
                        "dokku_version": _dokku_version_of(client)}
            with export_stream(client, kind_facts(kind, pruvon), name) as stream:
                record = store_stream(pruvon, kind, name, rotation, stream.chunks(CHUNK), manifest,
                                      progress, now, run_id)
        except Exception as exc:
            audit_outcome(pruvon, actor, "backups.run", label, "failed", rotation=rotation,
                          error=str(exc))
            raise
    audit_outcome(pruvon, actor, "backups.run", label, "ok", rotation=rotation, id=record.id,
                  size=record.size, sha256=record.sha256)
    return record


# --------------------------------------------------------------------------- verify
@dataclass
class VerifyResult:
    """What verify found: ``ok`` and, when not, the ``problem`` naming the failed check."""

    id: int
    ok: bool
    problem: str | None
    checks: list[str] = field(default_factory=list)
    size: int = 0
    raw_size: int | None = None
    sha256: str | None = None
    decrypted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_stored(record: BackupRecord, target: Target, result: VerifyResult) -> None:
    """Re-read the stored bytes: size and sha256 against the catalogue."""
    with target.open_reader(record.key) as stored:
        hashing = HashingReader(stored)
        hashing.drain()
    result.size, result.sha256 = hashing.size, hashing.sha256.hexdigest()
    if record.size is not None and hashing.size < record.size:
        raise VerifyFailed(f"truncated: the stored file has {hashing.size} of its "
                           f"{record.size} bytes")
    if record.sha256 and result.sha256 != record.sha256:
        raise VerifyFailed(f"sha256 mismatch: the stored file is {result.sha256}, the backup "
                           f"was {record.sha256} (the file was changed or corrupted)")
    result.checks.append(f"sha256 {result.sha256} ({result.size} bytes)")


def _check_content(pruvon: Any, record: BackupRecord, target: Target,
                   identities: list[Any] | None, result: VerifyResult) -> None:
    """Decrypt, decompress to the end, and check the dump's first bytes and size."""
    compression = record.manifest.get("compression", "zstd")
    with target.open_reader(record.key) as stored:
        stream, close = decoded(stored, compression, identities if record.encrypted else None)
        try:
            head, raw = b"", 0
            while chunk := stream.read(CHUNK):
                if len(head) < HEADER_BYTES:
                    head += chunk[:HEADER_BYTES - len(head)]
                raw += len(chunk)
        finally:
            close()
    result.decrypted = record.encrypted
    result.raw_size = raw
    problem = formats.check_header(record.type, head, pruvon)
    if problem:
        raise VerifyFailed(problem)
    if record.raw_size is not None and raw != record.raw_size:
        raise VerifyFailed(f"the dump inside is {raw} bytes, the backup recorded "
                           f"{record.raw_size}")
    result.checks.append(f"{compression} dump of {raw} bytes, header of a {record.type} dump")


def verify(pruvon: Any, backup_id: int | str, identity: Any = None,
           actor: Any = None) -> VerifyResult:
    """Re-read a stored backup and check it end to end; the result (never raises on a bad file).

    An encrypted backup without ``identity`` gets its sha256 checked only
    (``decrypted`` False, said in ``checks``).  The outcome is kept in the
    record's manifest (``verified``) and audited.
    """
    cat = catalogue(pruvon)
    record, target = stored(pruvon, cat, backup_id)
    identities = identities_from(identity)
    result = VerifyResult(record.id, True, None)
    try:
        _check_stored(record, target, result)
        if record.encrypted and identities is None:
            result.checks.append("not decrypted: no identity given (--identity FILE)")
        else:
            _check_content(pruvon, record, target, identities, result)
    except (VerifyFailed, BackupError, OSError) as exc:
        result.ok, result.problem = False, str(exc)
    cat.update(record.id, manifest={**record.manifest, "verified": {
        "at": iso(utcnow()), "ok": result.ok, "problem": result.problem}})
    audit_outcome(pruvon, actor, "backups.verify",
                  service_label(record.type, record.service, record.host),
                  "ok" if result.ok else "failed", id=record.id, problem=result.problem)
    return result


# --------------------------------------------------------------------------- restore
@dataclass
class RestoreResult:
    """Where a backup went, how many dump bytes, and the safety backup taken first."""

    id: int
    type: str
    service: str
    bytes: int
    safety_backup: int | None
    created_service: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _restore_target(pruvon: Any, record: BackupRecord, into: str | None, safety: bool,
                    actor: Any) -> tuple[str, bool, int | None]:
    """The service to import into (created if needed) and the safety backup's id."""
    client = backup_config.client(pruvon)
    kind = record.type
    if into is not None:
        into = validate.service_name(into)
        if client.service_exists(kind, into):
            raise BackupError(f"{kind} service {into} already exists: --into takes a new "
                              "service name (restore over an existing one without --into)")
        client.service_create(kind, into)
        return into, True, None
    if not client.service_exists(kind, record.service):
        client.service_create(kind, record.service)
        return record.service, True, None
    safety_id = None
    if safety:
        safety_id = run_backup(pruvon, kind, record.service, "safety", actor=actor).id
    return record.service, False, safety_id


def restore(pruvon: Any, backup_id: int | str, into: str | None = None, identity: Any = None,
            safety: bool = True, progress: Progress | None = None,
            actor: Any = None) -> RestoreResult:
    """Verify a backup, then stream it into ``<type>:import`` (or a new service ``into``).

    On the host the backup belongs to (its client, its safety backup), not
    the one the caller acts on.  Over an existing service a safety backup of
    its current data is taken first unless ``safety`` is False.  Dokku's
    error propagates as the DokkuError it raised; nothing is imported when
    verification fails.
    """
    record, _target = stored(pruvon, catalogue(pruvon), backup_id)
    with on_host(record):
        return _restore_on_host(pruvon, record.id, into, identity, safety, progress, actor)


def _restore_on_host(pruvon: Any, backup_id: int, into: str | None, identity: Any,
                     safety: bool, progress: Progress | None, actor: Any) -> RestoreResult:
    cat = catalogue(pruvon)
    record, target = stored(pruvon, cat, backup_id)
    if record.type == "app":
        raise BackupError(f"backup {record.id} is an app configuration snapshot: restore it "
                          "with pruvon apps restore-snapshot")
    identities = identities_from(identity)
    if record.encrypted and identities is None:
        raise BackupError(f"backup {record.id} is encrypted: give the age identity file "
                          "(--identity FILE)")
    checked = verify(pruvon, record.id, identities, actor=actor)
    if not checked.ok:
        raise VerifyFailed(f"backup {record.id} failed verification, nothing was restored: "
                           f"{checked.problem}")
    label = service_label(record.type, into or record.service, record.host)
    try:
        name, created, safety_id = _restore_target(pruvon, record, into, safety, actor)
        total = checked.raw_size
        done = [0]

        def sent(count: int) -> None:
            done[0] = count
            if progress:
                progress(count, total)

        with target.open_reader(record.key) as source:
            stream, close = decoded(source, record.manifest.get("compression", "zstd"),
                                    identities if record.encrypted else None)
            try:
                import_stream(backup_config.client(pruvon), kind_facts(record.type, pruvon), name, stream,
                              total, sent)
            finally:
                close()
    except Exception as exc:
        audit_outcome(pruvon, actor, "backups.restore", label, "failed", id=record.id,
                      error=str(exc))
        raise
    if progress:
        progress(done[0], done[0])
    audit_outcome(pruvon, actor, "backups.restore", label, "ok", id=record.id, bytes=done[0],
                  safety_backup=safety_id)
    return RestoreResult(record.id, record.type, name, done[0], safety_id, created)


# --------------------------------------------------------------------------- download, delete
def open_download(pruvon: Any, backup_id: int | str) -> Iterator[bytes]:
    """The stored bytes of a backup, in chunks; checked before the first chunk is asked for."""
    record, target = stored(pruvon, catalogue(pruvon), backup_id)
    reader = target.open_reader(record.key)

    def chunks() -> Iterator[bytes]:
        with reader:
            while chunk := reader.read(CHUNK):
                yield chunk

    return chunks()


def download_name(record: BackupRecord) -> str:
    """The file name a download is offered under (the stored file's own)."""
    return record.key.rsplit("/", 1)[-1]


def _remove(cat: Catalogue, record: BackupRecord, target: Target | None, reason: str) -> BackupRecord:
    if target is not None:
        target.delete(record.key)
        target.delete(record.key + ".json")
    return cat.update(record.id, status="deleted", error=reason)


def delete(pruvon: Any, backup_id: int | str, actor: Any = None) -> BackupRecord:
    """Remove a backup's file and manifest from its target; its row stays, ``deleted``."""
    cat = catalogue(pruvon)
    record = _record(cat, backup_id)
    if record.status == "running":
        raise BackupError(f"backup {record.id} is still being written")
    if record.status == "deleted":
        raise BackupError(f"backup {record.id} is already deleted")
    deleted = _remove(cat, record, targets(pruvon).get(record.target), "deleted by request")
    audit_outcome(pruvon, actor, "backups.delete",
                  service_label(record.type, record.service, record.host), "ok", id=record.id,
                  key=record.key)
    return deleted


# --------------------------------------------------------------------------- retention
def _expired(records: list[BackupRecord], keep: dict[str, int], now: datetime) -> list[BackupRecord]:
    """Pruvon's rule on one service's good copies on one target (newest first).

    Daily backups older than ``keep_daily_days`` days go, weekly beyond the
    newest ``keep_weekly_num``, monthly beyond ``keep_monthly_num``; manual
    and safety backups are never pruned, nor the newest good backup.
    """
    cutoff = now - timedelta(days=keep["keep_daily_days"])
    by_rotation: dict[str, list[BackupRecord]] = {}
    for record in records:
        by_rotation.setdefault(record.rotation, []).append(record)
    expired = [r for r in by_rotation.get("daily", []) if r.created_at < cutoff]
    expired += by_rotation.get("weekly", [])[keep["keep_weekly_num"]:]
    expired += by_rotation.get("monthly", [])[keep["keep_monthly_num"]:]
    newest = records[0].id if records else None
    return [r for r in expired if r.id != newest]


def prune(pruvon: Any, dry_run: bool = True, now: datetime | None = None,
          actor: Any = None, every_host: bool = False) -> list[BackupRecord]:
    """What retention removes (per target, per host, per service); removed unless ``dry_run``.

    The host acted on only, unless ``every_host``: ``db`` on one host and
    ``db`` on another are two services, each keeping its own backups.
    """
    section = backup_config.settings(pruvon)
    now = now or utcnow()
    cat = catalogue(pruvon)
    doomed: list[BackupRecord] = []
    host = None if every_host else acting_host()
    for target in backup_config.configured_targets(pruvon, section):
        keep = backup_config.retention(section, target)
        groups: dict[tuple[str, str, str], list[BackupRecord]] = {}
        for record in cat.list(status="good", target=target.name, host=host):
            if record.type != "app":
                groups.setdefault((record.host, record.type, record.service), []).append(record)
        for records in groups.values():
            for record in _expired(records, keep, now):
                doomed.append(record)
                if not dry_run:
                    _remove(cat, record, target, "removed by retention")
    if not dry_run and doomed:
        audit_outcome(pruvon, actor, "backups.prune", None, "ok", removed=[r.id for r in doomed],
                      **({"host": host} if host else {}))
    return doomed
