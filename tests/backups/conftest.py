"""Fixtures for the backups tests: a simulated host with services and a bound context.

The Dokku client runs the real ``pruvon-dokku-sim`` console script (as
production runs ``dokku``), so exports and imports stream through real
subprocess pipes; ``dokku_calls`` logs every argv the engine sent.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.sim.main import run

BIN = Path(sys.executable).parent
POSTGRES_ROWS = (b"CREATE TABLE posts (id serial primary key, title text);\n"
                 b"INSERT INTO posts (title) VALUES ('first'), ('second');\n")


def sim(root: Path, *argv: str, stdin: bytes = b"") -> bytes:
    code, out, err = run(list(argv), root=root, stdin=stdin)
    assert code == 0, (argv, out, err)
    return out


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A simulated host: postgres ``blog-db`` with rows, redis ``cache`` with keys."""
    root = tmp_path / "sim"
    root.mkdir()
    monkeypatch.setenv("PRUVON_SIM_ROOT", str(root))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")  # reproducible dumps
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(BIN / "pruvon-dokku-sim"))
    monkeypatch.setenv("PRUVON_DOCKER_COMMAND", str(BIN / "pruvon-docker-sim"))
    sim(root, "postgres:create", "blog-db")
    sim(root, "postgres:connect", "blog-db", stdin=POSTGRES_ROWS)
    sim(root, "redis:create", "cache")
    sim(root, "redis:connect", "cache", stdin=b"SET greeting hello\nSET count 42\n")
    return root


def write_backup_section(pruvon_config: Any, backup_dir: Path, extra: str = "") -> None:
    """Append a ``backup:`` section to the fixture config."""
    text = pruvon_config.path.read_text()
    text += f"\nbackup:\n  backup_dir: {backup_dir}\n" + extra
    pruvon_config.write(text)


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    path = tmp_path / "pruvon-backup"
    path.mkdir()
    return path


@pytest.fixture
def pruvon(pruvon_config: Any, host: Path, backup_dir: Path) -> Any:
    """A bound hook context on the fixture config (backup_dir in tmp) and the simulator."""
    from pruvon_core.config import ConfigStore
    from pruvon_core.plugins import get_plugin_manager
    from pruvon_core.runtime import bind, make_context

    write_backup_section(pruvon_config, backup_dir)
    manager = get_plugin_manager()
    return bind(manager, make_context(manager, ConfigStore(pruvon_config.path),
                                      pruvon_config.state_dir))


def export(root: Path, kind: str, name: str) -> bytes:
    return sim(root, f"{kind}:export", name)


@pytest.fixture
def dokku_calls(tmp_path: Path, host: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``dokku`` = the simulator behind a script logging each argv to the returned file and
    saving what each ``<type>:import`` reads to ``imported.bin`` beside it."""
    log, saved = tmp_path / "dokku-calls.log", tmp_path / "imported.bin"
    log.touch()
    real = BIN / "pruvon-dokku-sim"
    wrapper = tmp_path / "recording-dokku"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> "{log}"\n'
        f'case "$1" in *:import) tee "{saved}" | "{real}" "$@"; exit $?;; esac\n'
        f'exec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(wrapper))
    return log


@pytest.fixture
def imported(dokku_calls: Path) -> Path:
    """The bytes the last ``<type>:import`` read (see :func:`dokku_calls`)."""
    return dokku_calls.with_name("imported.bin")


def make_redis_data_writable(root: Path, name: str) -> None:
    """What an operator does for dokku-redis#248 so ``redis:import`` can write dump.rdb."""
    from pruvon_testing.sim.core import SimState

    data = SimState(root).service_dir("redis", name) / "data"
    data.chmod(data.stat().st_mode | stat.S_IWOTH)
