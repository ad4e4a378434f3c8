"""Seed many services quickly (benchmarks: 200 services across kinds).

Each service is made by the real ``<kind>:create`` command path, run in this
process (no interpreter start per service, no latency knob), so the services are
exactly what the command makes - files, containers, logs - at a few ms each.
``python -m pruvon_testing.sim.services_seed ROOT KIND COUNT [PREFIX]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run
from pruvon_testing.sim.services_types import TYPES


class SeedError(RuntimeError):
    """A create failed: the command's own output is in the message."""


def seed_services(root: Path, kind: str, count: int, prefix: str = "") -> list[str]:
    """Create ``count`` services ``<prefix><kind>-<n>`` (the plugin installed first when it
    is not); returns their names."""
    if kind not in TYPES:
        raise SeedError(f"unknown service kind {kind!r}; known: {', '.join(sorted(TYPES))}")
    from pruvon_testing.sim.cmd_plugin import builtin_installed

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    env = {"PRUVON_SIM_LATENCY": "0"}
    if not builtin_installed(SimState(root), kind):
        _run(root, env, "plugin:install", f"https://github.com/dokku/dokku-{kind}.git")
    names = [f"{prefix or kind + '-'}{index}" for index in range(1, count + 1)]
    for name in names:
        _run(root, env, f"{kind}:create", name)
    return names


def _run(root: Path, env: dict[str, str], *argv: str) -> None:
    code, out, err = run(list(argv), root=root, env=env)
    if code != 0:
        raise SeedError(f"dokku {' '.join(argv)}: exit {code}\n{out.decode()}{err.decode()}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (3, 4) or not args[2].isdigit():
        print("usage: python -m pruvon_testing.sim.services_seed ROOT KIND COUNT [PREFIX]",
              file=sys.stderr)
        return 2
    try:
        names = seed_services(Path(args[0]), args[1], int(args[2]), *args[3:])
    except SeedError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"created {len(names)} {args[1]} services")
    return 0


if __name__ == "__main__":
    sys.exit(main())
