"""Every reference capture must be claimed by exactly one golden test module."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from tests.golden.harness import CASES


def claimed() -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not info.name.startswith("test_golden_"):
            continue
        module = importlib.import_module(f"tests.golden.{info.name}")
        for name in getattr(module, "CLAIMED", ()):
            owners.setdefault(name, []).append(info.name)
    return owners


def test_every_capture_is_claimed_once() -> None:
    owners = claimed()
    missing = sorted(set(CASES) - set(owners))
    doubled = {name: mods for name, mods in owners.items() if len(mods) > 1}
    unknown = sorted(set(owners) - set(CASES))
    assert not unknown, f"claimed but not a capture: {unknown}"
    assert not doubled, f"claimed twice: {doubled}"
    assert not missing, f"{len(missing)} captures have no golden test: {missing[:40]}"
