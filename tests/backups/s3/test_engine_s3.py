"""The backups engine with a local and an S3 target at once, against a real S3 server (moto).

Upload, download, verify and restore from S3; an upload cut mid-way leaves no
S3 copy recorded good (and no object); per-target retention prunes each
target by its own ``keep_*``.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pruvon_backups import public as backups

from tests.backups.conftest import export, sim, write_backup_section
from tests.backups.s3.s3server import ACCESS, SECRET, CuttingProxy, s3_client

KiB = 1024


def s3_section(endpoint: str, bucket: str, **keep: int) -> str:
    """``backup.targets``: the local directory and an S3 bucket, with per-target keep_*."""
    extra = "".join(f"      {key}: {value}\n" for key, value in keep.items())
    return ("  targets:\n"
            "    - name: local\n      type: local\n"
            f"    - name: offsite\n      type: s3\n      bucket: {bucket}\n"
            f"      prefix: host-1/\n      endpoint_url: {endpoint}\n      region: us-east-1\n"
            f"      access_key_id: {ACCESS}\n      secret_access_key: {SECRET}\n" + extra)


def bind(pruvon_config: Any, backup_dir: Path, section: str) -> Any:
    from pruvon_core.config import ConfigStore
    from pruvon_core.plugins import get_plugin_manager
    from pruvon_core.runtime import bind as bind_context
    from pruvon_core.runtime import make_context

    write_backup_section(pruvon_config, backup_dir, section)
    manager = get_plugin_manager()
    return bind_context(manager, make_context(manager, ConfigStore(pruvon_config.path),
                                              pruvon_config.state_dir))


@pytest.fixture
def big_db(host: Path) -> Path:
    """``blog-db`` with a few hundred kB of incompressible rows (the upload takes parts)."""
    rows = b"".join(b"INSERT INTO posts (title) VALUES ('%d %s');\n"
                    % (i, os.urandom(3000).hex().encode()) for i in range(60))
    sim(host, "postgres:connect", "blog-db", stdin=rows)
    return host


def objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    client = s3_client(endpoint)
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            for o in listed}


def test_config_with_an_s3_target_is_validated_through_the_backups_plugin(
        pruvon_config: Any, backup_dir: Path, s3_endpoint: str) -> None:
    from pruvon_core.config import ConfigError, load_config

    bad = s3_section(s3_endpoint, "Bad_Bucket")
    write_backup_section(pruvon_config, backup_dir, bad)
    with pytest.raises(ConfigError) as caught:
        load_config(pruvon_config.path)
    assert "backup.targets[1].bucket: must be an S3 bucket name" in str(caught.value)


def test_backup_goes_to_both_targets_and_restores_from_s3(
        pruvon_config: Any, host: Path, backup_dir: Path, s3_endpoint: str, bucket: str,
        imported: Path) -> None:
    pruvon = bind(pruvon_config, backup_dir, s3_section(s3_endpoint, bucket))
    first = backups.run_backup(pruvon, "postgres", "blog-db", rotation="daily")
    copies = {r.target: r for r in backups.catalogue(pruvon).list()}
    assert set(copies) == {"local", "offsite"} and first.target == "local"
    remote = copies["offsite"]
    assert remote.status == "good" and remote.path is None
    assert remote.sha256 == copies["local"].sha256
    stored = objects(s3_endpoint, bucket)
    assert set(stored) == {f"host-1/{remote.key}", f"host-1/{remote.key}.json"}
    assert hashlib.sha256(stored[f"host-1/{remote.key}"]).hexdigest() == remote.sha256
    assert b"".join(backups.open_download(pruvon, remote.id)) == stored[f"host-1/{remote.key}"]
    result = backups.verify(pruvon, remote.id)
    assert result.ok, result.problem
    original = export(host, "postgres", "blog-db")
    restored = backups.restore(pruvon, remote.id, into="from-s3")
    assert restored.service == "from-s3" and imported.read_bytes() == original


def test_upload_cut_mid_way_records_no_good_s3_copy_and_leaves_no_object(
        pruvon_config: Any, big_db: Path, backup_dir: Path, s3_endpoint: str,
        bucket: str) -> None:
    """The S3 endpoint becomes unreachable after 64 KiB of the upload."""
    proxy = CuttingProxy(s3_endpoint, limit=64 * KiB)
    pruvon = bind(pruvon_config, backup_dir, s3_section(proxy.url, bucket))
    with pytest.raises(backups.BackupError, match="failed on: offsite: s3 "):
        backups.run_backup(pruvon, "postgres", "blog-db")
    proxy.close()
    rows = {r.target: r for r in backups.catalogue(pruvon).list()}
    assert rows["offsite"].status == "failed" and "s3 " in rows["offsite"].error
    assert rows["local"].status == "good"  # the other target keeps its copy
    assert objects(s3_endpoint, bucket) == {}  # no object: the upload never completed
    # the abort could not reach the endpoint either: what is left is an incomplete upload,
    # invisible as an object, that the bucket's lifecycle rule expires (docs/backups.md)
    pending = s3_client(s3_endpoint).list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["Key"] for u in pending] == [f"host-1/{rows['offsite'].key}"]
    assert backups.catalogue(pruvon).last_good("postgres", "blog-db").target == "local"


def test_s3_only_and_unreachable_nothing_is_good(pruvon_config: Any, host: Path,
                                                 backup_dir: Path, bucket: str) -> None:
    section = s3_section("http://127.0.0.1:9", bucket).replace(
        "    - name: local\n      type: local\n", "")
    pruvon = bind(pruvon_config, backup_dir, section)
    with pytest.raises(backups.BackupError, match="offsite"):
        backups.run_backup(pruvon, "postgres", "blog-db")
    assert [r.status for r in backups.catalogue(pruvon).list()] in ([], ["failed"])
    assert backups.catalogue(pruvon).last_good("postgres", "blog-db") is None


def test_per_target_retention_with_local_and_s3_at_once(
        pruvon_config: Any, host: Path, backup_dir: Path, s3_endpoint: str,
        bucket: str) -> None:
    """Ten daily runs; local keeps 30 days (the section's), S3 only 3 days (its own)."""
    pruvon = bind(pruvon_config, backup_dir,
                  "  keep_daily_days: 30\n" + s3_section(s3_endpoint, bucket, keep_daily_days=3))
    start = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # a Monday: no weekly/monthly rotation
    for day in range(10):
        backups.run_backup(pruvon, "postgres", "blog-db", rotation="daily",
                           now=start + timedelta(days=day))
    now = start + timedelta(days=9)
    doomed = backups.prune(pruvon, dry_run=True, now=now)
    assert {r.target for r in doomed} == {"offsite"} and len(doomed) == 6
    removed = backups.prune(pruvon, dry_run=False, now=now)
    assert [r.id for r in removed] == [r.id for r in doomed]
    remaining = [k for k in objects(s3_endpoint, bucket) if not k.endswith(".json")]
    assert len(remaining) == 4  # created within the last 3 days
    assert len(list((backup_dir / "postgres" / "daily" / "blog-db").glob("*.zst"))) == 10
    good = backups.catalogue(pruvon).list(status="good", target="offsite")
    assert len(good) == 4 and all(r.created_at >= now - timedelta(days=3) for r in good)


def test_another_hosts_backup_carries_its_host_in_the_s3_key(
        pruvon_config: Any, host: Path, backup_dir: Path, s3_endpoint: str, bucket: str) -> None:
    """Issue 17: ``hosts/<host>/`` in the object key, as in the local tree."""
    from pruvon_backups import engine

    from pruvon_core import hosts

    pruvon = bind(pruvon_config, backup_dir, s3_section(s3_endpoint, bucket))
    pruvon_config.write(pruvon_config.path.read_text()
                        + "hosts:\n  - {name: prod, ssh: dokku@prod.example.com}\n")
    dump = export(host, "postgres", "blog-db")
    with hosts.using("prod"):  # what a run on prod stores (the export itself is Dokku's)
        engine.store_stream(pruvon, "postgres", "blog-db", "manual", iter([dump]), {})
    copies = {r.target: r for r in backups.catalogue(pruvon).list(host="prod")}
    assert set(copies) == {"local", "offsite"}
    key = copies["offsite"].key
    assert key.startswith("hosts/prod/postgres/manual/blog-db/") and key == copies["local"].key
    assert Path(copies["local"].path) == backup_dir / key
    assert set(objects(s3_endpoint, bucket)) == {f"host-1/{key}", f"host-1/{key}.json"}
    assert backups.verify(pruvon, copies["offsite"].id).ok
    assert backups.catalogue(pruvon).list(host="") == []  # nothing of the default host's
