"""``pruvon backup …`` as an operator runs it: real subprocesses on the simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pruvon_backups import public as backups

PRUVON = str(Path(sys.executable).parent / "pruvon")


def pruvon_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([PRUVON, *args], capture_output=True, text=True, input=stdin,
                          timeout=120, check=False)


def test_run_then_list_json_has_the_documented_keys_and_the_stored_path(pruvon: Any) -> None:
    ran = pruvon_cli("backup", "run", "postgres", "blog-db", "--format", "json")
    assert ran.returncode == 0, ran.stderr
    backup = json.loads(ran.stdout)["backup"]
    listed = pruvon_cli("backup", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)["backups"]
    assert set(row) == {"id", "type", "service", "rotation", "path", "size", "sha256",
                        "encrypted", "created", "status", "host"}
    assert row["host"] == "local"  # the default host's name (issue 17)
    assert row == backup and row["status"] == "good" and Path(row["path"]).is_file()
    table = pruvon_cli("backup", "list")
    assert "blog-db" in table.stdout and "manual" in table.stdout


def test_verify_exit_codes_and_the_reason(pruvon: Any) -> None:
    record = backups.run_backup(pruvon, "redis", "cache")
    good = pruvon_cli("backup", "verify", str(record.id))
    assert good.returncode == 0 and "is good" in good.stdout and "sha256" in good.stdout
    Path(record.path).write_bytes(Path(record.path).read_bytes()[:10])
    bad = pruvon_cli("backup", "verify", str(record.id))
    assert bad.returncode == 1 and "truncated" in bad.stderr and "Traceback" not in bad.stderr
    missing = pruvon_cli("backup", "verify", "4242")
    assert missing.returncode == 2 and "no backup with id 4242" in missing.stderr


def test_restore_without_a_terminal_or_yes_is_refused_before_dokku(pruvon: Any,
                                                                    dokku_calls: Path) -> None:
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    dokku_calls.write_text("")
    refused = pruvon_cli("backup", "restore", str(record.id))
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert dokku_calls.read_text() == ""


def test_restore_yes_into_new_service(pruvon: Any, imported: Path, host: Path) -> None:
    from tests.backups.conftest import export

    record = backups.run_backup(pruvon, "postgres", "blog-db")
    done = pruvon_cli("backup", "restore", str(record.id), "--into", "blog-restored", "--yes")
    assert done.returncode == 0, done.stderr
    assert "restored backup" in done.stdout and "blog-restored" in done.stdout
    assert imported.read_bytes() == export(host, "postgres", "blog-db")


def test_run_with_one_word_is_a_usage_error(pruvon: Any) -> None:
    bad = pruvon_cli("backup", "run", "postgres")
    assert bad.returncode == 2 and "give both TYPE and NAME" in bad.stderr


def test_bad_names_are_refused_before_dokku(pruvon: Any, dokku_calls: Path) -> None:
    dokku_calls.write_text("")
    bad = pruvon_cli("backup", "run", "postgres", "--evil;rm")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    worse = pruvon_cli("backup", "run", "postgres", "../x")
    assert worse.returncode == 2 and "Traceback" not in worse.stderr
    assert dokku_calls.read_text() == ""


def test_auto_backs_up_every_service_once_a_day(pruvon: Any) -> None:
    first = pruvon_cli("backup", "auto", "--format", "json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert len(summary["ok"]) == 2 and summary["rotation"] in ("daily", "weekly", "monthly")
    again = json.loads(pruvon_cli("backup", "auto", "--format", "json").stdout)
    assert again["ok"] == [] and again["failed"] == []
    runs = backups.catalogue(pruvon).runs()
    assert [r["status"] for r in runs] == ["ok", "ok"]


def test_second_run_while_one_holds_the_lock_exits_3_with_a_clear_message(pruvon: Any) -> None:
    from pruvon_backups.locking import run_lock

    with run_lock(pruvon.state_dir, backups.catalogue(pruvon)):
        busy = pruvon_cli("backup", "auto")
        also = pruvon_cli("backup", "run", "redis", "cache")
    assert busy.returncode == 3 and "another backup run is in progress" in busy.stderr
    assert also.returncode == 3
    assert backups.catalogue(pruvon).list() == []


def test_prune_dry_run_lists_and_keeps(pruvon: Any) -> None:
    out = pruvon_cli("backup", "prune", "--dry-run", "--format", "json")
    assert out.returncode == 0 and json.loads(out.stdout) == {"dry_run": True, "backups": []}


@pytest.mark.parametrize("name", ["backup-run", "backup-list", "backup-verify", "backup-restore",
                                  "backup-prune", "backup-auto"])
def test_dokku_pruvon_backup_commands_resolve_through_the_shim(name: str) -> None:
    import click

    from pruvon_core.cli import cli
    from pruvon_core.shim_commands import resolve_dokku_name

    with click.Context(cli) as ctx:
        assert resolve_dokku_name(cli, ctx, name) == name.split("-")


def test_without_a_config_file_the_defaults_apply(host: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    backups_dir = tmp_path / "default-backups"
    monkeypatch.setenv("PRUVON_CONFIG", str(tmp_path / "absent.yml"))
    monkeypatch.setenv("PRUVON_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PRUVON_BACKUP_DIR", str(backups_dir))
    ran = pruvon_cli("backup", "run", "redis", "cache", "--format", "json")
    assert ran.returncode == 0, ran.stderr
    path = Path(json.loads(ran.stdout)["backup"]["path"])
    assert path.is_file() and backups_dir in path.parents
    listed = pruvon_cli("backup", "list", "--format", "json")
    assert [b["path"] for b in json.loads(listed.stdout)["backups"]] == [str(path)]
