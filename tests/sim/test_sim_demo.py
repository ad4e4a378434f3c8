"""The demo host: built from simulated commands, every state Pruvon must show.

The tests only read, so one seeded host is shared by the module (seeding runs
about a hundred simulated commands); ``dokku_sim_demo`` itself is exercised by
the console-script test's sibling below.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pruvon_testing.fixtures_sim import DokkuSim
from pruvon_testing.sim.demo import APPS, DemoSeedError, seed_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DokkuSim:
    sim = DokkuSim(tmp_path_factory.mktemp("demo"))
    sim.seed_demo()
    return sim


def test_demo_has_a_dozen_apps(demo: DokkuSim) -> None:
    out = demo.check("apps:list", "--format", "json")
    assert json.loads(out) == sorted(app for app, *_ in APPS)
    assert len(APPS) == 12


@pytest.mark.parametrize(
    ("app", "deployed", "running"),
    [("blog", "true", "true"), ("admin", "true", "false"), ("legacy-crm", "true", "false"),
     ("newsletter", "false", "false"), ("staging-api", "false", "false")],
)
def test_demo_app_states(demo: DokkuSim, app: str, deployed: str, running: str) -> None:
    assert demo.check("ps:report", app, "--deployed") == f"{deployed}\n".encode()
    assert demo.check("ps:report", app, "--running") == f"{running}\n".encode()


def test_demo_scaling_domains_and_lock(demo: DokkuSim) -> None:
    assert demo.check("ps:report", "shop-web", "--processes") == b"3\n"
    vhosts = demo.check("domains:report", "shop-web", "--domains-app-vhosts")
    assert vhosts.split() == [b"shop.acme.test", b"www.shop.acme.test"]
    assert demo.run("apps:locked", "legacy-crm")[0] == 0
    assert demo.run("apps:locked", "blog")[0] == 1


def test_demo_services_are_linked(demo: DokkuSim) -> None:
    url = demo.check("config:get", "blog", "DATABASE_URL")
    assert url.startswith(b"postgres://") and b"blog-db" in url
    assert demo.check("config:get", "blog", "REDIS_URL").startswith(b"redis://")
    assert demo.run("postgres:linked", "crm-db", "legacy-crm")[0] != 0
    assert demo.check("config:get", "legacy-crm", "DATABASE_URL").startswith(b"mysql://mysql:")
    assert demo.check("config:get", "newsletter", "DATABASE_URL").startswith(b"mysql://mariadb:")
    assert demo.check("config:get", "metrics", "MONGO_URL").startswith(b"mongodb://events:")
    plugins = demo.check("plugin:list").decode()
    for plugin in ("mariadb  ", "mongo  ", "mysql  ", "postgres  ", "redis  "):
        assert f"  {plugin}" in plugins


def test_seeding_twice_is_refused(demo: DokkuSim) -> None:
    with pytest.raises(DemoSeedError, match="already holds apps"):
        seed_demo(demo.root)


def test_demo_fixture_is_seeded(dokku_sim_demo: DokkuSim) -> None:
    assert dokku_sim_demo.run("apps:exists", "landing")[0] == 0


def test_console_script_seeds_the_demo(dokku_sim: DokkuSim) -> None:
    argv = [sys.executable, "-m", "pruvon_testing.sim", "--seed-demo"]
    proc = subprocess.run(argv, env={**os.environ, **dokku_sim.env}, capture_output=True,
                          check=True, timeout=120)
    assert proc.stdout.startswith(b"Seeded a demo host in ")
    assert json.loads(dokku_sim.check("apps:list", "--format", "json"))[0] == "admin"


def test_demo_deploys_leave_procfile_and_app_json_where_dokku_keeps_them(demo: DokkuSim) -> None:
    root = Path(demo.root)
    assert (root / "data/ps/blog/Procfile").read_text().startswith("web: node server.js\n")
    assert '"name": "blog"' in (root / "data/app-json/blog/app.json").read_text()
    assert (root / "data/ps/blog/Procfile").stat().st_mode & 0o777 == 0o600  # copied from image
    assert not (root / "data/ps/landing/Procfile").exists()  # its image has none
    assert not (root / "data/ps/docs/Procfile").exists()
    assert (root / "data/app-json/docs/app.json").exists()
    assert not (root / "data/ps/newsletter").exists()  # never deployed
