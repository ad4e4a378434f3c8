"""``/docker`` and ``/api/v1/docker…`` on the simulator: reads, every change, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pruvon_core import audit
from pruvon_testing.sim import containers
from pruvon_testing.sim.core import SimState
from tests.docker.conftest import calls

CHANGES = ("start ", "stop ", "restart ", "kill ", "rm ", "system prune")


def changes(log: Path) -> list[str]:
    """docker argvs that change something (what must never run on a refusal)."""
    return [c for c in calls(log) if c.startswith(CHANGES)]


def state_of(root: Path, name: str) -> str:
    found = containers.find(SimState(root), name)
    return found.status if found else "gone"


def post(http: Any, path: str, token: str, payload: Any = None) -> Any:
    """A JSON POST; without ``payload`` the body is ``{}`` (what every change route reads)."""
    return http.post(path, data=json.dumps({} if payload is None else payload),
                     headers={"X-CSRF-Token": token, "Content-Type": "application/json"})


def audited(state_dir: Path, action: str) -> list[Any]:
    return audit.read(action=action, state_dir=state_dir)


# --------------------------------------------------------------------------- reads
def test_page_lists_every_container_with_app_usage_and_objects(http: Any, login_as: Any,
                                                               docker_calls: Path) -> None:
    login_as("admin")
    html = http.get("/docker").get_data(as_text=True)
    for name in ("blog.web.1", "old.web.1", "redis-cache", "worker", "cache-data", "backend"):
        assert name in html
    assert 'href="/apps/blog">blog</a>' in html  # Dokku's container names its app
    assert html.count('class="pill unused"') >= 3  # dangling image, anonymous volume, spare
    assert "%" in html and "MB" in html  # CPU and memory from docker stats
    assert sorted(calls(docker_calls)) == [  # one of each, side by side
        "network ls --no-trunc --format {{json .}}",
        "ps -a --no-trunc --format {{json .}}",
        "stats --no-stream --no-trunc --format {{json .}}",
        "system df -v --format {{json .}}",
    ]


def test_api_overview_parts_and_per_app_usage(http: Any, login_as: Any) -> None:
    login_as("admin")
    data = http.get("/api/v1/docker?part=containers,apps").get_json()
    by_name = {c["name"]: c for c in data["containers"]}
    assert by_name["blog.web.1"]["app"] == "blog" and by_name["redis-cache"]["app"] is None
    assert by_name["redis-cache"]["usage"]["mem_used"] > 0
    assert by_name["worker"]["usage"] is None and by_name["worker"]["uptime"] == ""
    assert set(data["apps"]) == {"blog"} and data["apps"]["blog"]["containers"] == 1
    assert "images" not in data
    full = http.get("/api/v1/docker").get_json()
    volumes = {v["name"]: v for v in full["volumes"]}
    assert volumes["cache-data"]["unused"] is False
    assert {n["name"]: n["unused"] for n in full["networks"]}["spare"] is True
    bad = http.get("/api/v1/docker?part=secrets")
    assert bad.status_code == 400 and "part must be among" in bad.get_json()["error"]


def test_openapi_documents_the_docker_endpoints(http: Any, login_as: Any) -> None:
    login_as("admin")
    paths = http.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/docker", "/api/v1/docker/restart/{ref}", "/api/v1/docker/remove/{ref}",
                 "/api/v1/docker/logs/{ref}", "/api/v1/docker/prune"):
        assert path in paths, path


# --------------------------------------------------------------------------- changes
def test_every_lifecycle_action_changes_state_and_is_audited(
        http: Any, login_as: Any, sim_root: Path, pruvon_config: Any) -> None:
    token = login_as("admin")
    for action, expected in (("stop", "exited"), ("start", "running"), ("restart", "running"),
                             ("kill", "exited")):
        response = post(http, f"/api/v1/docker/{action}/redis-cache", token)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert state_of(sim_root, "redis-cache") == expected
        (entry,) = audited(pruvon_config.state_dir, f"docker.{action}")
        assert entry.result == "ok" and entry.target == "container:redis-cache"


def test_page_form_restarts_and_flashes(http: Any, login_as: Any, sim_root: Path) -> None:
    token = login_as("admin")
    response = http.post("/docker/stop/redis-cache", data={"csrf_token": token})
    assert response.status_code == 303
    assert state_of(sim_root, "redis-cache") == "exited"
    assert "stop: redis-cache" in http.get("/docker").get_data(as_text=True)


def test_refused_state_change_is_409_with_dockers_message(http: Any, login_as: Any,
                                                          pruvon_config: Any) -> None:
    token = login_as("admin")
    response = post(http, "/api/v1/docker/kill/worker", token)
    assert response.status_code == 409
    assert "is not running" in response.get_json()["error"]
    (entry,) = audited(pruvon_config.state_dir, "docker.kill")
    assert entry.result == "failed"


def test_bad_ids_and_signals_never_reach_docker(http: Any, login_as: Any,
                                                docker_calls: Path) -> None:
    token = login_as("admin")
    for path, payload in (("/api/v1/docker/stop/-rf", None), ("/api/v1/docker/stop/a;b", None),
                          ("/api/v1/docker/kill/redis-cache", {"signal": "STOP; rm"}),
                          ("/api/v1/docker/restart/redis-cache", {"time": 1})):
        response = post(http, path, token, payload)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert "error" in response.get_json()
    assert changes(docker_calls) == []


def test_unknown_container_is_404(http: Any, login_as: Any) -> None:
    token = login_as("admin")
    response = post(http, "/api/v1/docker/restart/nope", token)
    assert response.status_code == 404 and "No such container: nope" in response.get_json()["error"]


def test_removing_a_dokku_container_needs_its_app_named(http: Any, login_as: Any,
                                                        sim_root: Path,
                                                        docker_calls: Path) -> None:
    token = login_as("admin")
    page = http.get("/docker/remove/old.web.1").get_data(as_text=True)
    assert 'id="dokku-warning"' in page and "<strong>old</strong>" in page
    refused = post(http, "/api/v1/docker/remove/old.web.1", token, {"confirm": "blog"})
    assert refused.status_code == 400 and "belongs to Dokku app old" in refused.get_json()["error"]
    assert not [c for c in changes(docker_calls) if c.startswith("rm")]
    form = http.post("/docker/remove/old.web.1", data={"csrf_token": token})
    assert form.status_code == 400 and "confirm by typing &#39;old&#39;" in form.get_data(as_text=True)
    done = post(http, "/api/v1/docker/remove/old.web.1", token, {"confirm": "old"})
    assert done.status_code == 200 and state_of(sim_root, "old.web.1") == "gone"


def test_removing_a_running_container_needs_force(http: Any, login_as: Any,
                                                  sim_root: Path) -> None:
    token = login_as("admin")
    refused = post(http, "/api/v1/docker/remove/redis-cache", token)
    assert refused.status_code == 409 and "container is running" in refused.get_json()["error"]
    assert post(http, "/api/v1/docker/remove/redis-cache", token, {"force": True}).status_code == 200
    assert state_of(sim_root, "redis-cache") == "gone"


def test_prune_preview_then_typed_confirm(http: Any, login_as: Any, sim_root: Path,
                                          docker_calls: Path, pruvon_config: Any) -> None:
    token = login_as("admin")
    plan = http.get("/api/v1/docker/prune?volumes=true").get_json()["plan"]
    assert {c["name"] for c in plan["containers"]} == {"old.web.1", "worker"}
    assert plan["dokku_apps"] == ["old"]
    assert [n["name"] for n in plan["networks"]] == ["spare"]
    assert len(plan["volume_list"]) == 1 and plan["volume_list"][0]["anonymous"]
    page = http.get("/docker/prune?volumes=1").get_data(as_text=True)
    assert "Stopped containers of Dokku apps or services go too" in page
    assert "<strong>old</strong>" in page
    unconfirmed = post(http, "/api/v1/docker/prune", token, {"volumes": True, "confirm": "yes"})
    assert unconfirmed.status_code == 400 and 'type "prune"' in unconfirmed.get_json()["error"]
    form = http.post("/docker/prune", data={"csrf_token": token, "volumes": "1", "confirm": ""})
    assert form.status_code == 400
    assert changes(docker_calls) == []
    done = http.post("/docker/prune", data={"csrf_token": token, "volumes": "1",
                                            "confirm": "prune"})
    assert done.status_code == 200 and "Total reclaimed space" in done.get_data(as_text=True)
    assert changes(docker_calls) == ["system prune -f --volumes"]
    assert state_of(sim_root, "worker") == "gone" and state_of(sim_root, "blog.web.1") == "running"
    (entry,) = audited(pruvon_config.state_dir, "docker.prune")
    assert entry.result == "ok" and entry.details["volumes"] is True


def test_api_logs_returns_stdout_and_stderr_lines(http: Any, login_as: Any,
                                                  sim_root: Path) -> None:
    login_as("admin")
    found = containers.find(SimState(sim_root), "redis-cache")
    containers.append_log(SimState(sim_root), found.id, "ready to accept connections")
    containers.append_log(SimState(sim_root), found.id, "warning: overcommit", stream="stderr")
    data = http.get("/api/v1/docker/logs/redis-cache?lines=10").get_json()
    assert data["lines"] == ["ready to accept connections", "warning: overcommit"]
    assert http.get("/api/v1/docker/logs/redis-cache?lines=-1").status_code == 400


# --------------------------------------------------------------------------- who may
def test_admin_only_by_default(http: Any, login_as: Any, pruvon_config: Any) -> None:
    text = pruvon_config.path.read_text().replace("      - /docker\n      - /docker/restart*\n", "")
    pruvon_config.write(text)
    login_as("alice")
    assert http.get("/docker").status_code == 403
    assert http.get("/api/v1/docker").status_code == 403
    assert "/docker" not in http.get("/").get_data(as_text=True).split("<main")[0]


def test_route_grant_opens_only_its_operation(http: Any, login_as: Any, sim_root: Path,
                                              docker_calls: Path) -> None:
    token = login_as("alice")  # routes: /docker, /docker/restart*
    page = http.get("/docker").get_data(as_text=True)
    assert 'aria-label="restart redis-cache"' in page
    assert 'aria-label="stop redis-cache"' not in page and "remove…" not in page
    assert post(http, "/api/v1/docker/restart/redis-cache", token).status_code == 200
    for path in ("/api/v1/docker/stop/redis-cache", "/api/v1/docker/kill/redis-cache",
                 "/api/v1/docker/remove/worker"):
        assert post(http, path, token).status_code == 403, path
    assert post(http, "/api/v1/docker/prune", token, {"confirm": "prune"}).status_code == 403
    assert http.get("/api/v1/docker/logs/redis-cache").status_code == 403
    assert http.get("/docker/terminal/redis-cache").status_code == 403
    assert changes(docker_calls) == ["restart redis-cache"]


def test_viewer_reads_but_changes_nothing(http: Any, login_as: Any, docker_calls: Path,
                                          pruvon_config: Any) -> None:
    token = login_as("victor")  # viewer with /docker*
    assert http.get("/docker").status_code == 200
    assert http.get("/api/v1/docker/logs/redis-cache").status_code == 200
    for path in ("/api/v1/docker/restart/redis-cache", "/api/v1/docker/stop/redis-cache",
                 "/api/v1/docker/remove/worker"):
        assert post(http, path, token).status_code == 403, path
    assert http.post("/docker/stop/redis-cache", data={"csrf_token": token}).status_code == 403
    assert post(http, "/api/v1/docker/prune", token, {"confirm": "prune"}).status_code == 403
    assert http.get("/docker/terminal/redis-cache").status_code == 403
    assert changes(docker_calls) == []


def test_api_key_scope_opens_one_operation(http: Any, login_as: Any,
                                           docker_calls: Path) -> None:
    token = login_as("admin")
    made = post(http, "/api/v1/apikeys", token, {"name": "restarter", "expires_in_days": 1,
                                                 "scopes": ["docker.read", "docker.restart"]})
    assert made.status_code == 201, made.get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {made.get_json()['token']}"}
    http.post("/logout", data={"csrf_token": token})
    assert http.post("/api/v1/docker/restart/redis-cache", headers=bearer).status_code == 200  # no body
    assert http.post("/api/v1/docker/stop/redis-cache", headers=bearer).status_code == 403
    assert changes(docker_calls) == ["restart redis-cache"]


def test_app_page_shows_its_containers_usage_from_one_stats_read(http: Any, login_as: Any,
                                                                 docker_calls: Path) -> None:
    login_as("admin")
    html = http.get("/apps/blog").get_data(as_text=True)
    cpu = html.split('class="usage-cpu">', 1)[1].split("<", 1)[0]
    assert cpu.endswith("%") and float(cpu[:-1]) >= 0
    assert html.split('class="usage-mem">', 1)[1].split("<", 1)[0].endswith("B")
    assert [c for c in calls(docker_calls) if c.startswith("stats")] == [
        "stats --no-stream --no-trunc --format {{json .}}"]


def test_a_service_container_is_named_and_needs_the_service_typed(
        http: Any, login_as: Any, sim_root: Path, docker_calls: Path) -> None:
    from tests.docker.conftest import sim

    sim(sim_root, "postgres:create", "blog-db")
    token = login_as("admin")
    html = http.get("/docker").get_data(as_text=True)
    assert "Dokku postgres service blog-db" in html
    container = "dokku.postgres.blog-db"
    page = http.get(f"/docker/remove/{container}").get_data(as_text=True)
    assert "dokku postgres:start blog-db" in page
    refused = post(http, f"/api/v1/docker/remove/{container}", token, {"force": True})
    assert refused.status_code == 400 and "confirm by typing 'blog-db'" in refused.get_json()[
        "error"]
    assert not [c for c in changes(docker_calls) if c.startswith("rm")]
    done = post(http, f"/api/v1/docker/remove/{container}", token,
                {"force": True, "confirm": "blog-db"})
    assert done.status_code == 200 and state_of(sim_root, container) == "gone"


def test_docker_failing_is_said_on_the_page_and_a_503_in_the_api(
        http: Any, login_as: Any, tmp_path: Path, monkeypatch: Any) -> None:
    broken = tmp_path / "broken-docker"
    broken.write_text("#!/bin/sh\necho 'permission denied while trying to connect to the "
                      "Docker daemon socket' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PRUVON_DOCKER_COMMAND", str(broken))
    token = login_as("admin")
    page = http.get("/docker")
    assert page.status_code == 200
    assert "permission denied while trying to connect" in page.get_data(as_text=True)
    data = http.get("/api/v1/docker").get_json()
    assert data["containers"] == [] and data["errors"]
    restart = post(http, "/api/v1/docker/restart/redis-cache", token)
    assert restart.status_code == 503 and "docker group" in restart.get_json()["error"]
