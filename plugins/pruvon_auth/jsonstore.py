"""A small locked JSON file in the state directory, for API keys and TOTP secrets.

Each read-modify-write holds an exclusive ``flock`` on ``<file>.lock`` so two
workers (or a worker and the CLI) never lose each other's changes, and — for
TOTP — so one code cannot be accepted twice by racing requests.  Files are
replaced atomically with mode 0600 (``config.atomic_write``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pruvon_core.files import atomic_write, locked, private_dir, remove_stale_temp_files


class StoreCorrupt(RuntimeError):
    """The store file exists but is not the JSON object we wrote."""


class JsonStore:
    """``with store.edit() as data:`` mutates under lock; ``store.read()`` snapshots."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _lock(self) -> Iterator[None]:
        private_dir(self.path.parent)
        with locked(self.path):
            yield

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise StoreCorrupt(f"{self.path} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise StoreCorrupt(f"{self.path} must hold a JSON object")
        return data

    def read(self) -> dict[str, Any]:
        with self._lock():
            return self._load()

    @contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        with self._lock():
            remove_stale_temp_files(self.path)  # left by a writer killed mid-write
            data = self._load()
            before = json.dumps(data, sort_keys=True)
            yield data
            if json.dumps(data, sort_keys=True) != before:
                atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")
