"""The backup engine on the simulator: run, list, verify, restore, download, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyrage
import pytest
from pruvon_backups import public as backups

from pruvon_core.dokku.errors import DokkuError
from tests.backups.conftest import export, make_redis_data_writable, sim


def test_run_backup_writes_pruvon_layout_with_manifest_and_good_row(pruvon: Any, host: Path,
                                                                     backup_dir: Path) -> None:
    record = backups.run_backup(pruvon, "postgres", "blog-db", rotation="daily")
    path = Path(record.path)
    assert record.status == "good" and path.is_file()
    assert path.parent == backup_dir / "postgres" / "daily" / "blog-db"
    assert path.name.startswith("blog-db_") and path.name.endswith(".dump.zst")
    import hashlib

    import zstandard

    stored = path.read_bytes()
    assert hashlib.sha256(stored).hexdigest() == record.sha256 and record.size == len(stored)
    original = export(host, "postgres", "blog-db")
    assert zstandard.ZstdDecompressor().decompressobj().decompress(stored) == original
    assert record.raw_size == len(original)
    manifest = json.loads(Path(str(path) + ".json").read_text())
    assert manifest["sha256"] == record.sha256 and manifest["kind"] == "postgres"
    assert manifest["service"] == "blog-db" and manifest["raw_size"] == len(original)
    assert manifest["dokku_version"] and manifest["pruvon_version"] and "image_version" in manifest
    assert not list(path.parent.glob(".*.tmp"))


def test_list_as_dict_has_exactly_the_cli_json_keys(pruvon: Any) -> None:
    record = backups.run_backup(pruvon, "redis", "cache")
    [listed] = backups.catalogue(pruvon).list()
    assert list(listed.as_dict()) == ["id", "type", "service", "rotation", "path", "size",
                                      "sha256", "encrypted", "created", "status", "host"]
    assert listed.host == "" and listed.as_dict("local")["host"] == "local"  # issue 17
    assert listed.as_dict()["id"] == record.id and listed.rotation == "manual"
    assert backups.catalogue(pruvon).last_good("redis", "cache").id == record.id


def test_verify_passes_on_a_good_backup(pruvon: Any) -> None:
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    result = backups.verify(pruvon, record.id)
    assert result.ok, result.problem
    assert result.sha256 == record.sha256 and result.raw_size == record.raw_size


def test_verify_names_a_corrupted_byte(pruvon: Any) -> None:
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    path = Path(record.path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    result = backups.verify(pruvon, record.id)
    assert not result.ok and "sha256 mismatch" in result.problem


def test_verify_names_a_truncated_file(pruvon: Any) -> None:
    record = backups.run_backup(pruvon, "redis", "cache")
    path = Path(record.path)
    path.write_bytes(path.read_bytes()[:-5])
    result = backups.verify(pruvon, record.id)
    assert not result.ok and "truncated" in result.problem


def test_restore_into_new_service_round_trips_postgres_byte_for_byte(pruvon: Any, host: Path,
                                                                      imported: Path) -> None:
    original = export(host, "postgres", "blog-db")
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    seen: list[tuple[int, int | None]] = []
    result = backups.restore(pruvon, record.id, into="blog-copy",
                             progress=lambda done, total: seen.append((done, total)))
    assert result.service == "blog-copy" and result.created_service
    assert imported.read_bytes() == original
    rows = sim(host, "postgres:connect", "blog-copy", stdin=b"SELECT title FROM posts ORDER BY id;\n")
    assert b"first" in rows and b"second" in rows
    assert seen[-1] == (len(original), len(original))


def test_restore_over_existing_redis_takes_safety_backup_and_round_trips(
        pruvon: Any, host: Path, imported: Path) -> None:
    original = export(host, "redis", "cache")
    record = backups.run_backup(pruvon, "redis", "cache")
    sim(host, "redis:connect", "cache", stdin=b"SET greeting changed\nDEL count\n")
    assert export(host, "redis", "cache") != original
    make_redis_data_writable(host, "cache")
    result = backups.restore(pruvon, record.id)
    assert imported.read_bytes() == original
    assert export(host, "redis", "cache") == original
    safety = backups.catalogue(pruvon).get(result.safety_backup)
    assert safety.rotation == "safety" and "/safety/" in safety.path


def test_failed_redis_import_raises_dokkus_text_and_keeps_the_safety_backup(
        pruvon: Any, pruvon_config: Any) -> None:
    record = backups.run_backup(pruvon, "redis", "cache")
    with pytest.raises(DokkuError, match=r"dump\.rdb: Permission denied"):
        backups.restore(pruvon, record.id)
    safety = [r for r in backups.catalogue(pruvon).list() if r.rotation == "safety"]
    assert len(safety) == 1 and safety[0].status == "good"
    lines = (pruvon_config.state_dir / "audit.log").read_text().splitlines()
    restore_lines = [json.loads(line) for line in lines if '"backups.restore"' in line]
    assert restore_lines[-1]["result"] == "failed"
    assert "Permission denied" in restore_lines[-1]["details"]["error"]


def test_restore_into_existing_name_is_refused_before_any_import(pruvon: Any, dokku_calls: Path) -> None:
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    dokku_calls.write_text("")
    with pytest.raises(backups.BackupError, match="already exists"):
        backups.restore(pruvon, record.id, into="blog-db")
    assert ":import" not in dokku_calls.read_text()


def test_encrypted_backup_needs_the_identity_and_refuses_a_wrong_one(
        pruvon: Any, pruvon_config: Any, host: Path, tmp_path: Path, imported: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    pruvon_config.write(pruvon_config.path.read_text() + "  encryption:\n    recipients:\n"
                        f"      - {identity.to_public()}\n")
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    assert record.encrypted and record.path.endswith(".dump.zst.age")
    key_file = tmp_path / "key.txt"
    key_file.write_text(f"# backup key\n{identity}\n")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    assert backups.verify(pruvon, record.id, identity=str(key_file)).ok
    bad = backups.verify(pruvon, record.id, identity=str(wrong))
    assert not bad.ok and "wrong identity" in bad.problem
    with pytest.raises(backups.BackupError, match="encrypted"):
        backups.restore(pruvon, record.id, into="x-copy")
    with pytest.raises(backups.VerifyFailed, match="wrong identity"):
        backups.restore(pruvon, record.id, into="x-copy", identity=str(wrong))
    original = export(host, "postgres", "blog-db")
    backups.restore(pruvon, record.id, into="x-copy", identity=str(key_file))
    assert imported.read_bytes() == original


def test_download_streams_the_stored_bytes_and_delete_removes_file_and_manifest(pruvon: Any) -> None:
    record = backups.run_backup(pruvon, "redis", "cache")
    assert b"".join(backups.open_download(pruvon, record.id)) == Path(record.path).read_bytes()
    deleted = backups.delete(pruvon, record.id)
    assert deleted.status == "deleted" and not Path(record.path).exists()
    assert not Path(record.path + ".json").exists()
    with pytest.raises(backups.BackupError, match="deleted"):
        list(backups.open_download(pruvon, record.id))
    with pytest.raises(backups.BackupNotFound):
        backups.verify(pruvon, 999)


def test_missing_service_is_dokkus_error_and_nothing_recorded(pruvon: Any) -> None:
    from pruvon_core.dokku.errors import ServiceNotFound

    with pytest.raises(ServiceNotFound):
        backups.run_backup(pruvon, "postgres", "nope")
    assert backups.catalogue(pruvon).list() == []
