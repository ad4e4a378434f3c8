"""Pytest fixtures: a :class:`DokkuClient` bound to the simulator (see pytest_plugin.py).

``dokku_client`` runs the real ``pruvon-dokku-sim`` / ``pruvon-docker-sim``
executables as child processes, exactly as Pruvon runs ``dokku`` and
``docker`` on a host, against the state directory of the ``dokku_sim``
fixture.  So a plugin author's test exercises the same transport, argv,
parsing and error mapping as production.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pruvon_core.dokku import CommandTransport, DockerCli, DokkuClient


def sim_executable(name: str) -> list[str]:
    """The console script ``name`` of this installation, as an argv prefix.

    Looked up next to the running interpreter (the venv's ``bin/``), so tests
    never pick up another installation from ``$PATH``.
    """
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    module = {
        "pruvon-dokku-sim": "pruvon_testing.sim.main",
        "pruvon-docker-sim": "pruvon_testing.sim.docker_main",
    }[name]
    return [sys.executable, "-c", f"import sys; from {module} import main; sys.exit(main())"]


def sim_root(sim: Any) -> Path:
    """The state directory of whatever ``dokku_sim`` provides (an object with ``root``, or a path)."""
    return Path(getattr(sim, "root", sim))


def client_for_sim(root: str | Path, **kwargs: Any) -> DokkuClient:
    """A client whose ``dokku`` and ``docker`` are the simulator's, on state dir ``root``."""
    env = {"PRUVON_SIM_ROOT": str(root)}
    transport = CommandTransport(sim_executable("pruvon-dokku-sim"), env=env)
    docker = DockerCli(sim_executable("pruvon-docker-sim"), env=env)
    kwargs.setdefault("timeout", 30.0)
    return DokkuClient(transport, docker, **kwargs)


@pytest.fixture
def dokku_client(dokku_sim: Any) -> Iterator[DokkuClient]:
    """A Dokku client bound to the fresh simulator of ``dokku_sim``."""
    yield client_for_sim(sim_root(dokku_sim))
