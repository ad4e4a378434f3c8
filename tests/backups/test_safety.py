"""Safety backups before a destroy, and app configuration snapshots restored with one command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pyrage
import pytest
from pruvon_backups import public as backups
from pruvon_backups.safety import before_destroy
from pruvon_backups.snapshots import capture, read_snapshot

from tests.backups.conftest import BIN, sim

ENV = {"SECRET_KEY": "s3cr3t value", "MODE": "production"}


def pruvon_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pruvon"), *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def blog(host: Path) -> str:
    """App ``blog``: image deploy, env, a domain, a port mapping, a mount, scale, and blog-db."""
    sim(host, "apps:create", "blog")
    sim(host, "config:set", "--no-restart", "blog", *(f"{k}={v}" for k, v in ENV.items()))
    sim(host, "domains:set", "blog", "blog.example.com")
    sim(host, "ports:set", "blog", "http:80:5000")
    sim(host, "storage:mount", "blog", "/var/lib/dokku/data/storage/blog:/app/uploads")
    sim(host, "ps:scale", "--skip-deploy", "blog", "web=2")
    sim(host, "git:from-image", "blog", "example/web:1")
    sim(host, "postgres:link", "blog-db", "blog")
    return "blog"


def test_destroying_an_app_snapshots_it_and_restore_snapshot_recreates_it(
        pruvon: Any, blog: str, host: Path) -> None:
    destroyed = pruvon_cli("apps", "destroy", blog, "--force")
    assert destroyed.returncode == 0, destroyed.stderr
    [snap] = backups.catalogue(pruvon).list(type="app")
    assert snap.rotation == "safety" and snap.service == blog and "/app/safety/blog/" in snap.path
    assert b"blog" not in sim(host, "apps:list")
    restored = pruvon_cli("apps", "restore-snapshot", str(snap.id), "--format", "json")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["restore_snapshot"]["app"] == blog
    config = sim(host, "config:export", "--format", "json", blog)
    assert {k: v for k, v in json.loads(config).items() if k in ENV} == ENV
    assert b"blog.example.com" in sim(host, "domains:report", blog)
    assert b"http:80:5000" in sim(host, "ports:report", blog)
    assert b"/app/uploads" in sim(host, "storage:list", blog)
    assert b"web:  2" in sim(host, "ps:scale", blog)
    assert b"example/web:1" in sim(host, "apps:report", blog)


def test_restore_snapshot_refuses_an_existing_app_before_any_change(pruvon: Any, blog: str,
                                                                    dokku_calls: Path) -> None:
    snap = capture(pruvon, blog)
    dokku_calls.write_text("")
    refused = pruvon_cli("apps", "restore-snapshot", str(snap.id))
    assert refused.returncode == 2 and "app blog exists" in refused.stderr
    assert "apps:create" not in dokku_calls.read_text()
    renamed = pruvon_cli("apps", "restore-snapshot", str(snap.id), "--app", "blog-two")
    assert renamed.returncode == 0, renamed.stderr


def test_destroy_with_services_backs_up_the_service_first(pruvon: Any, blog: str,
                                                           host: Path) -> None:
    destroyed = pruvon_cli("apps", "destroy", blog, "--force", "--with-services")
    assert destroyed.returncode == 0, destroyed.stderr
    [dump] = backups.catalogue(pruvon).list(type="postgres")
    assert dump.rotation == "safety" and dump.status == "good"
    assert backups.verify(pruvon, dump.id).ok
    assert b"blog-db" not in sim(host, "postgres:list")


def test_a_safety_backup_that_cannot_be_written_stops_the_destroy(
        pruvon: Any, pruvon_config: Any, blog: str, dokku_calls: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the backup directory should be")
    pruvon_config.write(pruvon_config.path.read_text()
                        + f"  targets:\n    - name: local\n      type: local\n      path: {blocked}\n")
    dokku_calls.write_text("")
    refused = pruvon_cli("apps", "destroy", blog, "--force", "--with-services")
    assert refused.returncode != 0
    assert "safety backup of blog failed, so it was not destroyed" in refused.stderr
    calls = dokku_calls.read_text()
    assert "apps:destroy" not in calls and "postgres:destroy" not in calls
    assert b"blog" in sim(tmp_path / "sim", "apps:list")


def test_service_kind_without_export_is_noted_not_refused(pruvon: Any) -> None:
    result = before_destroy(pruvon, {"kind": "service", "type": "memcached", "name": "m"})
    assert result["ok"] and "no export" in result["message"]


def test_encrypted_snapshot_hides_env_values_and_needs_the_identity(
        pruvon: Any, pruvon_config: Any, blog: str, tmp_path: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    pruvon_config.write(pruvon_config.path.read_text() + "  encryption:\n    recipients:\n"
                        f"      - {identity.to_public()}\n")
    snap = capture(pruvon, blog)
    import zstandard

    stored = zstandard.ZstdDecompressor().decompressobj().decompress(Path(snap.path).read_bytes())
    assert b"s3cr3t" not in stored and b"SECRET_KEY" in stored and b"blog.example.com" in stored
    with pytest.raises(backups.BackupError, match="identity"):
        read_snapshot(pruvon, snap.id)
    key = tmp_path / "key.txt"
    key.write_text(f"{identity}\n")
    assert read_snapshot(pruvon, snap.id, identity=str(key))["env"]["SECRET_KEY"] == "s3cr3t value"
