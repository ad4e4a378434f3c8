"""Plugin loading through real entry points, isolation of broken plugins, core CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pruvon_core import __version__
from pruvon_core.hookspecs import hookimpl
from pruvon_core.plugins import PluginManager, flatten

BUILTINS = {"apps", "auth", "backups", "services", "terminals", "web"}
EXAMPLE = Path(__file__).resolve().parents[2] / "etc" / "pruvon.yml.example"


def make_third_party(site: Path) -> None:
    """A fake installed distribution with three plugins: good, broken at import, raising."""
    (site / "acme_hello.py").write_text(
        textwrap.dedent(
            """
            import click
            from pruvon_core.hookspecs import hookimpl

            @hookimpl
            def pruvon_register_commands(cli):
                @cli.group("hello")
                def hello():
                    "Acme greetings."

                @hello.command("greet")
                @click.argument("name")
                def greet(name):
                    click.echo(f"hello {name}")
            """
        )
    )
    (site / "acme_broken.py").write_text("raise RuntimeError('acme is broken')\n")
    (site / "acme_raising.py").write_text(
        textwrap.dedent(
            """
            from pruvon_core.hookspecs import hookimpl

            @hookimpl
            def pruvon_register_actions():
                raise ValueError("no actions today")
            """
        )
    )
    dist = site / "acme_pruvon-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-pruvon\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text(
        "[pruvon]\nhello = acme_hello\nbroken = acme_broken\nraising = acme_raising\n"
    )


def pruvon(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pruvon_core.cli", *args],
        capture_output=True,
        text=True,
        env=full,
        input=stdin,
        check=False,
    )


@pytest.fixture
def third_party(tmp_path: Path) -> dict[str, str]:
    make_third_party(tmp_path)
    return {"PYTHONPATH": str(tmp_path)}


def test_builtins_are_real_entry_point_packages() -> None:
    proc = pruvon("plugins", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)["plugins"]}
    assert set(rows) >= BUILTINS
    for name in BUILTINS:
        assert rows[name]["distribution"] == "pruvon"
        assert rows[name]["version"] == __version__
        assert rows[name]["module"] == f"pruvon_{name}"
        assert "pruvon_register_actions" in rows[name]["hooks"]
        assert rows[name]["error"] is None


def test_broken_third_party_plugin_is_reported_and_skipped(third_party: dict[str, str]) -> None:
    proc = pruvon("plugins", "--format", "json", env=third_party)
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)["plugins"]}
    assert rows["broken"]["error"] == "RuntimeError: acme is broken"
    assert rows["broken"]["distribution"] == "acme-pruvon"
    assert rows["hello"]["error"] is None and rows["hello"]["version"] == "1.2.3"
    assert set(rows) >= BUILTINS


def test_third_party_group_is_added_to_the_cli(third_party: dict[str, str]) -> None:
    proc = pruvon("hello", "greet", "operator", env=third_party)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello operator\n"


def test_pruvon_plugins_filter(third_party: dict[str, str]) -> None:
    proc = pruvon("plugins", "--format", "json", env={**third_party, "PRUVON_PLUGINS": "apps,hello"})
    names = {row["name"] for row in json.loads(proc.stdout)["plugins"]}
    assert names == {"apps", "hello"}


def test_raising_hook_is_isolated(third_party: dict[str, str], monkeypatch) -> None:
    monkeypatch.syspath_prepend(third_party["PYTHONPATH"])
    manager = PluginManager()
    manager.load_entry_points({"apps", "raising"})
    actions = flatten(manager.hook.pruvon_register_actions(pruvon=manager.pruvon))
    assert any(a.name == "apps.read" for a in actions)
    assert list(manager.hook_errors) == [
        ("raising", "pruvon_register_actions", "ValueError: no actions today")
    ]
    report = {row["name"]: row for row in manager.report()}
    assert report["raising"]["hook_errors"] == [
        {"hook": "pruvon_register_actions", "error": "ValueError: no actions today"}
    ]


def test_in_process_registration_and_unregister() -> None:
    class Voter:
        @hookimpl
        def pruvon_permission_allowed(self, actor, action, resource):
            return action == "x.read"

    manager = PluginManager()
    manager.register(Voter(), name="voter")
    vote = manager.hook.pruvon_permission_allowed
    assert vote(actor=None, action="x.read", resource=None, pruvon=manager.pruvon) == [True]
    manager.unregister("voter")
    assert vote(actor=None, action="x.read", resource=None, pruvon=manager.pruvon) == []


def test_version() -> None:
    proc = pruvon("--version")
    assert proc.stdout.strip() == f"pruvon, version {__version__}"


def test_config_validate_exit_codes(tmp_path: Path) -> None:
    assert pruvon("config", "validate", str(EXAMPLE)).returncode == 0
    bad = tmp_path / "bad.yml"
    bad.write_text("pruvon: {listen: nope}\nusers: [{username: a, password: plain}]\n")
    proc = pruvon("config", "validate", str(bad))
    assert proc.returncode == 1
    assert "pruvon.listen: must be HOST:PORT" in proc.stderr
    assert "users[0].password: must be a bcrypt hash" in proc.stderr
    assert "Traceback" not in proc.stderr
    missing = pruvon("config", "validate", str(tmp_path / "nope.yml"))
    assert missing.returncode == 2 and "file not found" in missing.stderr
    as_json = json.loads(pruvon("config", "validate", "--format", "json", str(bad)).stdout)
    assert as_json["valid"] is False and len(as_json["errors"]) == 2


def test_config_path_from_env_and_show_redacts(tmp_path: Path) -> None:
    proc = pruvon("config", "show", env={"PRUVON_CONFIG": str(EXAMPLE)})
    assert proc.returncode == 0, proc.stderr
    assert "$2b$" not in proc.stdout
    assert "listen: 127.0.0.1:8080" in proc.stdout
    shown = json.loads(pruvon("--config", str(EXAMPLE), "config", "show", "--format", "json").stdout)
    assert shown["admin"]["password"] == "********"


def test_config_show_on_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    proc = pruvon("--config", str(tmp_path / "none.yml"), "config", "show")
    assert proc.returncode == 2
    assert "file not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_plugins_lists_declared_service_types_and_backup_targets() -> None:
    """``pruvon_backup_targets`` has a caller: the built-in local target and the ``s3`` kind
    of the S3 plugin (its own entry point) are listed."""
    proc = pruvon("plugins", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["backup_targets"] == [
        {"name": "local", "description": "A directory on this host (backup.backup_dir)"},
        {"name": "s3", "description": "S3-compatible object storage (AWS S3, MinIO, Ceph, "
                                      "R2 …); needs pip install 'pruvon[s3]'"},
    ]
    assert data["service_types"] == []
    table = pruvon("plugins")
    assert "backup targets: local, s3" in table.stdout and "service types: -" in table.stdout


def test_cli_binds_the_hook_context_to_its_config(tmp_path: Path) -> None:
    """A plugin's hook reads ``pruvon.store``/``config`` instead of process globals."""
    (tmp_path / "acme_ctx.py").write_text(
        textwrap.dedent(
            """
            from pruvon_core.hookspecs import hookimpl

            @hookimpl
            def pruvon_validate_config(data, pruvon):
                if data.get("acme") == "show-context":
                    return [f"acme: config file is {pruvon.store.path.name}"]
                return []
            """
        )
    )
    dist = tmp_path / "acme_ctx-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-ctx\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pruvon]\nacmectx = acme_ctx\n")
    config = tmp_path / "chosen.yml"
    config.write_text(EXAMPLE.read_text() + "\nacme: show-context\n")
    proc = pruvon("--config", str(config), "config", "show", env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 1
    assert "acme: config file is chosen.yml" in proc.stderr and "Traceback" not in proc.stderr
