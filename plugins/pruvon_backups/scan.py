"""Bring files already on a target into the catalogue: Pruvon's tree, or a lost catalogue.

Pruvon (Go) wrote raw ``<type>:export`` output, gzipped, in the same layout;
those files are catalogued with the sha256 of their bytes as found, so they
can be verified (against later damage), downloaded and restored.  A file
with a manifest beside it (written by this engine) gets its recorded sha256
and sizes back from the manifest.  Run once per target root, and again on
``pruvon backup list --rescan``, which also marks rows whose file is gone.

A file's host is its place in the tree: Pruvon's ``<type>/…`` tree is the
default host's, ``hosts/<host>/<type>/…`` that host's (see ``layout.py``).
"""

from __future__ import annotations

import json
from typing import Any

from pruvon_backups import config as backup_config
from pruvon_backups import layout
from pruvon_backups.catalogue import BackupRecord, Catalogue, iso
from pruvon_backups.pipeline import HashingReader
from pruvon_backups.targets import LocalTarget


def _manifest(target: LocalTarget, key: str) -> dict[str, Any] | None:
    path = target.local_path(key + ".json")
    try:
        data = json.loads(path.read_text()) if path else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _catalogue_file(cat: Catalogue, target: LocalTarget, key: str,
                    parsed: layout.ParsedKey) -> BackupRecord:
    manifest = _manifest(target, key)
    with target.open_reader(key) as stored:
        hashing = HashingReader(stored)
        hashing.drain()
    sha256 = hashing.sha256.hexdigest()
    if manifest is None or manifest.get("sha256") != sha256:
        manifest = {"imported": "pruvon" if manifest is None else "manifest does not match",
                    "compression": parsed.compression, "encrypted": parsed.encrypted}
    return cat.add(type=parsed.kind, service=parsed.service, rotation=parsed.rotation,
                   host=parsed.host, target=target.name, key=key, path=str(target.local_path(key)),
                   size=hashing.size, raw_size=manifest.get("raw_size"), sha256=sha256,
                   encrypted=parsed.encrypted, created=iso(parsed.created), status="good",
                   manifest=manifest)


def rescan(pruvon: Any, force: bool = False) -> list[BackupRecord]:
    """Catalogue files not yet known on every local target; the rows added.

    Without ``force`` a target root is scanned once; with it, rows whose file
    has disappeared are also marked ``deleted``.
    """
    cat = Catalogue(pruvon.state_dir)
    added: list[BackupRecord] = []
    for target in backup_config.configured_targets(pruvon):
        if not isinstance(target, LocalTarget):
            continue
        root = str(target.root)
        if not force and cat.scanned(target.name, root):
            continue
        for key in target.stored_keys():
            parsed = layout.parse_key(key)
            if parsed is not None and cat.find_key(target.name, key) is None:
                added.append(_catalogue_file(cat, target, key, parsed))
        if force:
            for record in cat.list(status="good", target=target.name):
                if not target.exists(record.key):
                    cat.update(record.id, status="deleted", error="the file is gone from the target")
        cat.mark_scanned(target.name, root)
    return added
