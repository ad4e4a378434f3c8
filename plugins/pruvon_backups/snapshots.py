"""App configuration snapshots: stored like dumps, and recreating an app from one.

A snapshot is the apps plugin's :func:`snapshot_data` (env, domains, ports,
storage mounts, scale, deploy source) stored through the targets as
``app/<rotation>/<app>/<app>_<rotation>.<time>.json.zst`` with a catalogue
row of type ``app``.  When ``backup.encryption`` is on, the env *values* are
age-encrypted (``env_encrypted``, the key names stay readable in
``env_keys``), so the rest of the snapshot can be shown without the identity.

:func:`restore_snapshot` recreates the app: create, env, domains, ports,
storage mounts, scale (without deploying), then the image deploy when the
source was an image; a git or tar source must be pushed again.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime
from typing import Any

from pruvon_apps.public import snapshot_data

from pruvon_backups import config as backup_config
from pruvon_backups import crypto, engine
from pruvon_backups.catalogue import BackupRecord
from pruvon_backups.errors import BackupError
from pruvon_backups.locking import run_lock
from pruvon_backups.pipeline import CHUNK, decoded
from pruvon_core.dokku import validate

KIND = "app"
MAX_SNAPSHOT_BYTES = 16 << 20


def _seal_env(data: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    """Encrypt the env values to the configured recipients (keys stay readable)."""
    env = data.pop("env")
    sink = io.BytesIO()
    crypto.encrypt_stream(io.BytesIO(json.dumps(env).encode()), sink, crypto.recipients(texts))
    data["env_keys"] = sorted(env)
    data["env_encrypted"] = base64.b64encode(sink.getvalue()).decode()
    return data


def capture(pruvon: Any, app: str, rotation: str = "manual", now: datetime | None = None,
            actor: Any = None) -> BackupRecord:
    """Store a snapshot of ``app``'s configuration on every target; its record."""
    app = validate.app_name(app)
    data = snapshot_data(backup_config.client(pruvon), app)
    texts = backup_config.recipient_texts(backup_config.settings(pruvon))
    if texts:
        data = _seal_env(data, texts)
    body = json.dumps(data, indent=2, sort_keys=True).encode()
    label = engine.service_label("app", app, engine.acting_host())
    with run_lock(pruvon.state_dir, engine.catalogue(pruvon)):
        try:
            record = engine.store_stream(pruvon, KIND, app, rotation, iter([body]),
                                         {"snapshot_of": app, "env_encrypted": bool(texts)},
                                         now=now, encrypt=False)
        except Exception as exc:
            engine.audit_outcome(pruvon, actor, "backups.snapshot", label, "failed",
                                 rotation=rotation, error=str(exc))
            raise
    engine.audit_outcome(pruvon, actor, "backups.snapshot", label, "ok",
                         rotation=rotation, id=record.id)
    return record


def read_snapshot(pruvon: Any, backup_id: int | str, identity: Any = None) -> dict[str, Any]:
    """The snapshot's JSON, env decrypted when an identity is given (else env left out)."""
    record, target = engine.stored(pruvon, engine.catalogue(pruvon), backup_id)
    if record.type != KIND:
        raise BackupError(f"backup {record.id} is a {record.type} dump, not an app snapshot: "
                          "restore it with pruvon backup restore")
    with target.open_reader(record.key) as stored:
        stream, close = decoded(stored, record.manifest.get("compression", "zstd"), None)
        try:
            body = b""
            while chunk := stream.read(CHUNK):
                body += chunk
                if len(body) > MAX_SNAPSHOT_BYTES:
                    raise BackupError(f"backup {record.id} is too large for an app snapshot")
        finally:
            close()
    data = json.loads(body)
    if "env_encrypted" in data:
        identities = engine.identities_from(identity)
        if identities is None:
            raise BackupError(f"snapshot {record.id} has encrypted env values: give the age "
                              "identity file (--identity FILE)")
        sink = io.BytesIO()
        crypto.decrypt_stream(io.BytesIO(base64.b64decode(data.pop("env_encrypted"))), sink,
                              identities)
        data["env"] = json.loads(sink.getvalue())
    return data


def _ports(values: list[str]) -> list[tuple[str, int, int]]:
    mappings = []
    for value in values:
        scheme, host, container = value.split(":")
        mappings.append((scheme, int(host), int(container)))
    return mappings


def _recreate(client: Any, app: str, data: dict[str, Any]) -> list[str]:
    """Dokku calls that rebuild the app from ``data``; what was done, step by step."""
    done = []
    client.apps_create(app)
    done.append(f"created {app}")
    if data.get("env"):
        client.config_set(app, data["env"], restart=False)
        done.append(f"env: {len(data['env'])} variable(s)")
    if data.get("domains"):
        client.domains_set(app, data["domains"])
        done.append("domains: " + " ".join(data["domains"]))
    if data.get("ports"):
        client.ports_set(app, _ports(data["ports"]))
        done.append("ports: " + " ".join(data["ports"]))
    for mount in data.get("storage") or []:
        host, container = mount.split(":", 1)
        client.storage_mount(app, host, container)
        done.append(f"storage: {mount}")
    scale = {k: int(v) for k, v in (data.get("scale") or {}).items()}
    if scale:
        client.ps_scale(app, scale, skip_deploy=True)
        done.append("scale: " + " ".join(f"{k}={v}" for k, v in sorted(scale.items())))
    source, kind = data.get("deploy_source") or "", data.get("deploy_source_type") or ""
    if source and kind == "docker-image":
        client.deploy_image(app, source)
        done.append(f"deployed image {source}")
    elif source:
        done.append(f"deploy source was {kind or 'unknown'} {source}: push it again to deploy")
    return done


def restore_snapshot(pruvon: Any, backup_id: int | str, app: str | None = None,
                     identity: Any = None, actor: Any = None) -> dict[str, Any]:
    """Recreate the app of a snapshot (as ``app`` when given); refused if it exists.

    On the host the snapshot was taken on, whatever host the caller acts on.
    """
    record, _target = engine.stored(pruvon, engine.catalogue(pruvon), backup_id)
    with engine.on_host(record):
        return _restore_snapshot(pruvon, record, app, identity, actor)


def _restore_snapshot(pruvon: Any, record: BackupRecord, app: str | None, identity: Any,
                      actor: Any) -> dict[str, Any]:
    backup_id = record.id
    data = read_snapshot(pruvon, backup_id, identity)
    name = validate.app_name(app or data["app"])
    client = backup_config.client(pruvon)
    if client.app_exists(name):
        raise BackupError(f"app {name} exists: restore-snapshot recreates a destroyed app; "
                          "give a new name with --app")
    try:
        steps = _recreate(client, name, data)
    except Exception as exc:
        engine.audit_outcome(pruvon, actor, "apps.restore-snapshot", engine.service_label("app", name, record.host),
                             "failed",
                             id=int(backup_id), error=str(exc))
        raise
    engine.audit_outcome(pruvon, actor, "apps.restore-snapshot", engine.service_label("app", name, record.host), "ok",
                         id=int(backup_id))
    return {"app": name, "id": int(backup_id), "steps": steps}
