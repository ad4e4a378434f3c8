"""``/api/v1/services…``: scoped like the pages, 202 operations, in the OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pruvon_core import audit
from tests.services.conftest import sim, wait_operation


@pytest.fixture
def services(host: Path) -> Path:
    """postgres ``blog-db`` (alice's, linked to blog), ``other-db``; redis ``cache``."""
    sim(host, "postgres:create", "blog-db")
    sim(host, "postgres:create", "other-db")
    sim(host, "redis:create", "cache")
    sim(host, "postgres:link", "blog-db", "blog")
    return host


def test_list_is_filtered_to_the_grant(http: Any, login_as: Any, services: Path) -> None:
    login_as("alice")  # postgres blog-db, redis *
    data = http.get("/api/v1/services").get_json()
    assert [(s["type"], s["name"]) for s in data["services"]] == [
        ("postgres", "blog-db"), ("redis", "cache")]
    assert data["services"][0]["links"] == ["blog"]
    assert data["services"][0]["status"] == "running"
    only = http.get("/api/v1/services?type=redis").get_json()["services"]
    assert [s["name"] for s in only] == ["cache"]
    unknown = http.get("/api/v1/services?type=mysql")
    assert unknown.status_code == 400 and "not installed" in unknown.get_json()["error"]


def test_admin_sees_every_service(http: Any, login_as: Any, services: Path) -> None:
    login_as("admin")
    names = [s["name"] for s in http.get("/api/v1/services").get_json()["services"]]
    assert names == ["blog-db", "other-db", "cache"]


def test_a_service_outside_the_grant_is_403_before_dokku(
        http: Any, login_as: Any, services: Path, pruvon_config: Any, dokku_calls: Path) -> None:
    token = login_as("alice")
    before = dokku_calls.read_text()
    for method, path, body in (
            ("get", "/api/v1/services/postgres/other-db", None),
            ("post", "/api/v1/services/postgres/other-db/restart", None),
            ("post", "/api/v1/services/postgres/other-db/link", {"app": "blog"}),
            ("delete", "/api/v1/services/postgres/other-db", {"confirm": "other-db"}),
            ("get", "/api/v1/services/postgres/other-db/operations", None)):
        response = getattr(http, method)(path, json=body, headers={"X-CSRF-Token": token})
        assert response.status_code == 403, (path, response.get_data(as_text=True))
        assert "error" in response.get_json()
    assert dokku_calls.read_text() == before  # nothing reached Dokku
    denied = [e for e in audit.read(state_dir=pruvon_config.state_dir) if e.result == "denied"]
    assert any("postgres/other-db" in (e.target or "") for e in denied)  # refusals audited


def test_detail_masks_the_dsn_and_reveal_needs_a_writer(
        http: Any, login_as: Any, services: Path, pruvon_config: Any) -> None:
    login_as("victor")  # viewer of postgres blog-db
    detail = http.get("/api/v1/services/postgres/blog-db").get_json()
    assert ":****@" in detail["dsn"] and detail["links"] == ["blog"]
    assert http.get("/api/v1/services/postgres/blog-db?reveal=1").status_code == 403


def test_a_writer_reveals_the_dsn_audited(http: Any, login_as: Any, services: Path,
                                          pruvon_config: Any) -> None:
    login_as("alice")
    revealed = http.get("/api/v1/services/postgres/blog-db?reveal=1").get_json()
    assert ":****@" not in revealed["dsn"] and revealed["dsn"].startswith("postgres://")
    assert any(e.details.get("reveal") == "dsn" and e.actor == "user:alice"
               for e in audit.read(state_dir=pruvon_config.state_dir))
    missing = http.get("/api/v1/services/redis/ghost")
    assert missing.status_code == 404 and "does not exist" in missing.get_json()["error"]


def test_operations_answer_202_and_run(http: Any, login_as: Any, services: Path,
                                       pruvon_config: Any) -> None:
    token = login_as("admin")
    headers = {"X-CSRF-Token": token}
    created = http.post("/api/v1/services", json={"type": "redis", "name": "queue",
                                                  "flags": {"image-version": "8.0.0"},
                                                  "link": ["shop-api"]}, headers=headers)
    assert created.status_code == 202, created.get_data(as_text=True)
    op = wait_operation(pruvon_config.state_dir, created.get_json()["id"])
    assert op.status == "succeeded", op.error
    assert b"REDIS_URL" in sim(services, "config:show", "shop-api")
    for path, body in (("/api/v1/services/redis/queue/restart", None),
                       ("/api/v1/services/redis/queue/expose", {"ports": ["16379"]}),
                       ("/api/v1/services/redis/queue/unexpose", None),
                       ("/api/v1/services/redis/queue/unlink", {"app": "shop-api"})):
        response = http.post(path, json=body, headers=headers)
        assert response.status_code == 202, (path, response.get_data(as_text=True))
        op = wait_operation(pruvon_config.state_dir, response.get_json()["id"])
        assert op.status == "succeeded", (path, op.error)
    ops = http.get("/api/v1/services/redis/queue/operations").get_json()["operations"]
    assert len(ops) == 5  # the create is on the service too
    one = http.get(f"/api/v1/services/redis/queue/operations/{ops[0]['id']}").get_json()
    assert one["id"] == ops[0]["id"] and "output" in one
    gone = http.delete("/api/v1/services/redis/queue", json={"confirm": "queue"},
                       headers=headers)
    assert gone.status_code == 202
    assert wait_operation(pruvon_config.state_dir, gone.get_json()["id"]).status == "succeeded"
    assert b"queue" not in sim(services, "redis:list")


@pytest.mark.parametrize(("path", "body", "message"), [
    ("/api/v1/services", {"type": "postgres", "name": "a;b"}, "service name"),
    ("/api/v1/services", {"type": "postgres", "name": "-x"}, "starts with '-'"),
    ("/api/v1/services", {"type": "mysql", "name": "db"}, "not installed"),
    ("/api/v1/services", {"type": "postgres", "name": "db", "flags": {"privileged": "1"}},
     "unknown flag"),
    ("/api/v1/services", {"type": "postgres", "name": "db", "extra": 1}, "unknown field"),
    ("/api/v1/services/postgres/blog-db/link", {"app": "$(id)"}, "app name"),
    ("/api/v1/services/postgres/blog-db/expose", {"ports": ["1;2"]}, "PORT"),
    ("/api/v1/services/postgres/blog-db", {"confirm": "nope"}, "type the service name"),
])
def test_bad_input_is_400_and_never_reaches_dokku(
        http: Any, login_as: Any, services: Path, dokku_calls: Path, path: str, body: dict,
        message: str) -> None:
    token = login_as("admin")
    method = http.delete if path.endswith("blog-db") else http.post
    before = [line for line in dokku_calls.read_text().splitlines()
              if not line.startswith(("plugin:list", "version"))]
    response = method(path, json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert message in response.get_json()["error"]
    after = [line for line in dokku_calls.read_text().splitlines()
             if not line.startswith(("plugin:list", "version"))]
    assert after == before


def test_a_linked_destroy_is_409_with_the_reason(http: Any, login_as: Any, services: Path,
                                                pruvon_config: Any) -> None:
    token = login_as("admin")
    response = http.delete("/api/v1/services/postgres/blog-db", json={"confirm": "blog-db"},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 409
    assert "unlink blog first" in response.get_json()["error"]
    assert b"blog-db" in sim(services, "postgres:list")


def test_the_endpoints_are_in_the_openapi_document(http: Any, login_as: Any) -> None:
    login_as("admin")
    paths = http.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/services"])
    one = paths["/api/v1/services/{kind}/{name}"]
    assert {"get", "delete"} <= set(one)
    for verb in ("link", "unlink", "start", "stop", "restart", "expose", "unexpose", "clone",
                 "upgrade"):
        assert "post" in paths[f"/api/v1/services/{{kind}}/{{name}}/{verb}"], verb
    assert paths["/api/v1/services"]["get"]["x-pruvon-action"] == "services.read"
