"""``pruvon-docker-sim``: lifecycle commands, images, volumes, networks, ``system df|prune``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruvon_testing.sim import dockerobjects
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.docker_main import run as docker
from tests.sim.simutil import ok


def dokku_objects(root: Path) -> None:
    dockerobjects.seed_examples(SimState(root))


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """App ``web`` (one container) and :func:`dockerobjects.seed_examples`."""
    root = tmp_path / "sim"
    ok(root, "apps:create", "web")
    ok(root, "git:from-image", "web", "example/web:1")
    dokku_objects(root)
    return root


def run(root: Path, *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    code, out, err = docker(list(args), root=root, stdin=stdin)
    return code, out.decode(), err.decode()


def rows(root: Path, *args: str) -> list[dict]:
    code, out, err = run(root, *args, "--format", "{{json .}}")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def state_of(root: Path, name: str) -> str:
    return {r["Names"]: r["State"] for r in rows(root, "ps", "-a")}[name]


def test_plain_container_is_listed_without_dokku_labels(host: Path) -> None:
    found = {r["Names"]: r for r in rows(host, "ps", "-a")}
    assert found["redis-cache"]["Labels"] == ""
    assert found["redis-cache"]["Networks"] == "backend"
    assert found["redis-cache"]["Mounts"] == "cache-data"
    assert "com.dokku.app-name=web" in found["web.web.1"]["Labels"]


def test_stop_start_restart_print_the_ref_and_change_state(host: Path) -> None:
    assert run(host, "stop", "redis-cache") == (0, "redis-cache\n", "")
    assert state_of(host, "redis-cache") == "exited"
    assert run(host, "container", "start", "redis-cache")[0] == 0
    assert state_of(host, "redis-cache") == "running"
    assert run(host, "restart", "redis-cache")[0] == 0
    assert state_of(host, "redis-cache") == "running"


def test_kill_a_stopped_container_is_refused(host: Path) -> None:
    assert run(host, "kill", "redis-cache")[0] == 0
    status = {r["Names"]: r["Status"] for r in rows(host, "ps", "-a")}["redis-cache"]
    assert status.startswith("Exited (137)")
    code, _, err = run(host, "kill", "redis-cache")
    assert code == 1 and "is not running" in err


def test_rm_refuses_a_running_container_without_force(host: Path) -> None:
    code, out, err = run(host, "rm", "redis-cache")
    assert code == 1 and out == ""
    assert 'cannot remove container "/redis-cache": container is running' in err
    assert run(host, "rm", "-f", "redis-cache")[0] == 0
    assert "redis-cache" not in {r["Names"] for r in rows(host, "ps", "-a")}


def test_lifecycle_on_unknown_container_names_it(host: Path) -> None:
    code, out, err = run(host, "restart", "redis-cache", "nope")
    assert code == 1 and out == "redis-cache\n"
    assert err.strip() == "Error response from daemon: No such container: nope"
    code, _, err = run(host, "stop")
    assert code == 1 and "requires at least 1 argument" in err


def test_images_json_and_dangling_filter(host: Path) -> None:
    images = rows(host, "images")
    refs = {(r["Repository"], r["Tag"]) for r in images}
    assert ("dokku/web", "latest") in refs and ("<none>", "<none>") in refs
    assert all(r["Containers"] == "N/A" and r["Size"].endswith("B") for r in images)
    dangling = rows(host, "images", "--filter", "dangling=true")
    assert [r["Repository"] for r in dangling] == ["<none>"]
    assert run(host, "images", "--filter", "bogus=1")[0] == 1


def test_volume_ls_inspect_and_missing(host: Path) -> None:
    names = {r["Name"]: r for r in rows(host, "volume", "ls")}
    assert "cache-data" in names and names["cache-data"]["Size"] == "N/A"
    assert [r["Name"] for r in rows(host, "volume", "ls", "--filter", "dangling=false")] == [
        "cache-data"]
    code, out, err = run(host, "volume", "inspect", "cache-data", "gone")
    assert code == 1 and json.loads(out)[0]["Mountpoint"].endswith("/cache-data/_data")
    assert "get gone: no such volume" in err


def test_network_ls_has_builtin_and_user_networks(host: Path) -> None:
    found = {r["Name"]: r for r in rows(host, "network", "ls")}
    assert {"bridge", "host", "none", "backend", "spare"} <= set(found)
    assert found["none"]["Driver"] == "null" and len(found["backend"]["ID"]) == 12


def test_system_df_summary_and_verbose_usage(host: Path) -> None:
    summary = {r["Type"]: r for r in rows(host, "system", "df")}
    assert summary["Local Volumes"]["TotalCount"] == "2"
    assert summary["Local Volumes"]["Active"] == "1"
    _code, out, _ = run(host, "system", "df", "-v", "--format", "{{json .}}")
    verbose = json.loads(out)
    volumes = {v["Name"]: v for v in verbose["Volumes"]}
    assert volumes["cache-data"]["Links"] == "1"
    images = {i["Repository"]: i for i in verbose["Images"]}
    assert images["dokku/web"]["Containers"] == "1" and images["<none>"]["Containers"] == "0"


def test_system_prune_asks_and_keeps_everything_on_no(host: Path) -> None:
    before = rows(host, "ps", "-a")
    code, out, _ = run(host, "stop", "redis-cache")
    code, out, _ = run(host, "system", "prune", stdin=b"n\n")
    assert code == 0 and out.startswith("WARNING! This will remove:")
    assert "all dangling images" in out and "Are you sure you want to continue? [y/N]" in out
    assert len(rows(host, "ps", "-a")) == len(before)


def test_system_prune_force_removes_what_docker_would(host: Path) -> None:
    run(host, "stop", "redis-cache")
    code, out, _ = run(host, "system", "prune", "-f", "--volumes")
    assert code == 0
    assert "Deleted Containers:" in out and "Deleted Networks:\nbackend\nspare\n" in out
    assert "Deleted Volumes:" in out and "cache-data" not in out  # named: kept
    assert out.splitlines()[-1].startswith("Total reclaimed space: ")
    assert {r["Names"] for r in rows(host, "ps", "-a")} == {"web.web.1"}
    assert [r["Repository"] for r in rows(host, "images", "--filter", "dangling=true")] == []
    assert ("example/web", "1") in {(r["Repository"], r["Tag"]) for r in rows(host, "images")}


def test_system_prune_all_removes_unused_tagged_images(host: Path) -> None:
    code, out, _ = run(host, "system", "prune", "-a", "-f")
    assert code == 0 and "untagged: localbusybox:latest" in out
    remaining = {(r["Repository"], r["Tag"]) for r in rows(host, "images")}
    assert ("dokku/web", "latest") in remaining  # used by a running container
    assert ("localbusybox", "latest") not in remaining


def test_a_pruned_image_is_gone_for_deploys_until_pulled_again(host: Path) -> None:
    from pruvon_testing.sim import images
    from pruvon_testing.sim.main import run as dokku

    assert run(host, "system", "prune", "-a", "-f")[0] == 0
    assert images.lookup(SimState(host), "localbusybox:latest") is None
    code, _, _ = dokku(["apps:create", "fresh"], root=host)
    assert code == 0
    code, out, err = dokku(["git:from-image", "fresh", "localbusybox:latest"], root=host)
    assert code != 0, (out, err)
    images.register_image(SimState(host), "localbusybox:latest")  # docker pull
    assert images.lookup(SimState(host), "localbusybox:latest") is not None
