"""Pytest fixtures: a config file with users of every role, and a state directory.

``pruvon_config`` writes a fresh ``pruvon.yml`` (mode 0600) and an empty state
directory (0700) under ``tmp_path``, points ``PRUVON_CONFIG`` and
``PRUVON_STATE_DIR`` at them (through ``monkeypatch``, so subprocesses such as
the ``pruvon`` CLI see them too) and sets ``PRUVON_BCRYPT_ROUNDS=4`` so hashing
is fast.  That low cost is honoured only while pytest runs (see
``pruvon_auth.passwords``); production refuses anything below 12.

The users (passwords in ``PruvonTestConfig.passwords``):

=========  ======  ==========================================================
admin      admin   everything
alice      user    apps ``blog`` and ``shop-*``; postgres ``blog-db``, redis
                   ``*``; route ``/backups``; may create apps
victor     viewer  app ``blog``; postgres ``blog-db``; read-only
dave       user    every app, but ``disabled: true``
=========  ======  ==========================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

TEST_BCRYPT_ROUNDS = "4"

PASSWORDS = {
    "admin": "admin-password-0001",
    "alice": "alice-password-0002",
    "victor": "victor-password-0003",
    "dave": "dave-password-00004",
}

CONFIG_TEMPLATE = """\
# Test configuration written by the pruvon_config fixture.
pruvon:
  listen: 127.0.0.1:8080

users:
  # the one admin
  - username: admin
    password: {admin}
    role: admin
  - username: alice
    password: {alice}
    role: user
    routes:
      - /backups
    apps:
      - blog
      - shop-*
    services:
      postgres:
        - blog-db
      redis:
        - "*"
    can_create_apps: true
  - username: victor
    password: {victor}
    role: viewer
    apps:
      - blog
    services:
      postgres:
        - blog-db
  - username: dave
    password: {dave}
    role: user
    apps:
      - "*"
    disabled: true
"""

_hash_cache: dict[str, str] = {}


def _hashes() -> dict[str, str]:
    """bcrypt hashes of :data:`PASSWORDS`, made once per test session (cost 4)."""
    if not _hash_cache:
        import bcrypt

        for name, password in PASSWORDS.items():
            _hash_cache[name] = bcrypt.hashpw(
                password.encode(), bcrypt.gensalt(int(TEST_BCRYPT_ROUNDS))
            ).decode()
    return dict(_hash_cache)


@dataclass
class PruvonTestConfig:
    """Paths and credentials of the fixture install."""

    path: Path
    state_dir: Path
    passwords: dict[str, str] = field(default_factory=lambda: dict(PASSWORDS))
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> Any:
        """A fresh ``ConfigStore`` on the file (reloads on change like the server's)."""
        from pruvon_core.config import ConfigStore

        return ConfigStore(self.path)

    def config(self) -> Any:
        from pruvon_core.config import load_config

        return load_config(self.path)

    def user(self, username: str) -> Any:
        return self.config().user(username)

    def write(self, text: str) -> None:
        """Replace the file (as an operator's editor would); mode stays 0600."""
        self.path.write_text(text, encoding="utf-8")
        os.chmod(self.path, 0o600)


@pytest.fixture
def pruvon_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PruvonTestConfig:
    """A config with admin/alice/victor/dave and an empty state dir, wired via env vars."""
    hashes = _hashes()
    path = tmp_path / "pruvon.yml"
    path.write_text(CONFIG_TEMPLATE.format(**hashes), encoding="utf-8")
    os.chmod(path, 0o600)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chmod(state, 0o700)
    monkeypatch.setenv("PRUVON_CONFIG", str(path))
    monkeypatch.setenv("PRUVON_STATE_DIR", str(state))
    monkeypatch.setenv("PRUVON_BCRYPT_ROUNDS", TEST_BCRYPT_ROUNDS)
    return PruvonTestConfig(path=path, state_dir=state, hashes=hashes)


@pytest.fixture
def pruvon_config_store(pruvon_config: PruvonTestConfig) -> Any:
    """The ``ConfigStore`` of :func:`pruvon_config`."""
    return pruvon_config.store


@pytest.fixture
def pruvon_state_dir(pruvon_config: PruvonTestConfig) -> Path:
    """The state directory of :func:`pruvon_config` (``PRUVON_STATE_DIR``)."""
    return pruvon_config.state_dir
