"""``pruvon services …`` as an operator runs it: real subprocesses on the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pruvon_core import audit
from tests.services.conftest import sim

PRUVON = str(Path(sys.executable).parent / "pruvon")


@pytest.fixture
def cli_env(host: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    state = tmp_path / "cli-state"
    state.mkdir()
    monkeypatch.setenv("PRUVON_STATE_DIR", str(state))
    monkeypatch.setenv("PRUVON_CONFIG", str(tmp_path / "absent.yml"))
    return dict(os.environ)


def pruvon(env: dict[str, str], *args: str, stdin: bytes | None = None
           ) -> subprocess.CompletedProcess:
    return subprocess.run([PRUVON, "services", *args], input=stdin, capture_output=True,
                          env=env, timeout=120, check=False)


def test_create_link_list_json_and_info(host: Path, cli_env: dict[str, str]) -> None:
    done = pruvon(cli_env, "create", "postgres", "db1", "--image-version", "17.1",
                  "--link", "blog")
    assert done.returncode == 0, done.stderr
    sim(host, "redis:create", "cache")
    listed = pruvon(cli_env, "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    services = json.loads(listed.stdout)["services"]
    assert [(s["type"], s["name"], s["status"], s["links"], s["version"]) for s in services] == [
        ("postgres", "db1", "running", ["blog"], "17.1"), ("redis", "cache", "running", [], "8.8.0")]
    assert set(services[0]) == {"type", "name", "status", "links", "version", "image",
                                "exposed_ports"}
    info = json.loads(pruvon(cli_env, "info", "postgres", "db1", "--format", "json").stdout)
    assert ":****@" in info["dsn"]
    revealed = pruvon(cli_env, "info", "postgres", "db1", "--reveal", "--format", "json")
    assert ":****@" not in json.loads(revealed.stdout)["dsn"]
    reads = [e for e in audit.read(state_dir=Path(cli_env["PRUVON_STATE_DIR"]))
             if e.action == "services.manage"]
    assert reads and reads[-1].details["reveal"] == "dsn"


def test_export_to_file_and_import_back_refusing_a_non_dump(
        host: Path, cli_env: dict[str, str], tmp_path: Path) -> None:
    sim(host, "postgres:create", "db1")
    dump = tmp_path / "db1.dump"
    done = pruvon(cli_env, "export", "postgres", "db1", "-o", str(dump))
    assert done.returncode == 0, done.stderr
    assert dump.read_bytes().startswith(b"PGDMP") and dump.stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".db1.dump.*"))  # no temp file left beside it
    piped = pruvon(cli_env, "export", "postgres", "db1")
    assert piped.returncode == 0 and piped.stdout.startswith(b"PGDMP")  # (a fresh timestamp)
    assert pruvon(cli_env, "import", "postgres", "db1", str(dump)).returncode == 0
    assert pruvon(cli_env, "import", "postgres", "db1", "-",
                  stdin=dump.read_bytes()).returncode == 0
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    refused = pruvon(cli_env, "import", "postgres", "db1", str(text))
    assert refused.returncode == 2 and b"not a Postgres export" in refused.stderr
    assert b"Traceback" not in refused.stderr


def test_destroy_asks_for_the_name_and_refuses_while_linked(
        host: Path, cli_env: dict[str, str]) -> None:
    sim(host, "postgres:create", "db1")
    sim(host, "postgres:link", "db1", "blog")
    linked = pruvon(cli_env, "destroy", "postgres", "db1", "--force")
    assert linked.returncode == 1 and b"unlink blog first" in linked.stderr  # as Dokku: 1
    sim(host, "postgres:unlink", "db1", "blog")
    wrong = pruvon(cli_env, "destroy", "postgres", "db1", stdin=b"db2\n")
    assert wrong.returncode == 2 and b"did not match" in wrong.stderr
    assert b"db1" in sim(host, "postgres:list")
    right = pruvon(cli_env, "destroy", "postgres", "db1", stdin=b"db1\n")
    assert right.returncode == 0, right.stderr
    assert b"db1" not in sim(host, "postgres:list")


@pytest.mark.parametrize(("args", "code", "message"), [
    (("create", "postgres", "a;b"), 2, b"service name 'a;b' is invalid"),
    (("create", "postgres", "--", "-x"), 2, b"starts with '-'"),
    (("create", "mysql", "db"), 2, b"mysql plugin is not installed"),
    (("info", "postgres", "ghost"), 20, b"Postgres service ghost does not exist"),
    (("link", "postgres", "ghost", "blog"), 1, b"Postgres service ghost does not exist"),
    (("create", "postgres", "db", "--memory", "lots"), 2, b"--memory must be megabytes"),
])
def test_errors_are_one_line_on_stderr_with_an_exit_code(
        cli_env: dict[str, str], args: tuple[str, ...], code: int, message: bytes) -> None:
    done = pruvon(cli_env, *args)
    assert done.returncode == code, done.stderr
    assert message in done.stderr and b"Traceback" not in done.stderr


def test_console_runs_connect_with_the_callers_stdio(host: Path,
                                                    cli_env: dict[str, str]) -> None:
    sim(host, "postgres:create", "db1")
    done = pruvon(cli_env, "console", "postgres", "db1", stdin=b"select 1;\n")
    assert done.returncode == 0, done.stderr
    assert b"(1 row)" in done.stdout
