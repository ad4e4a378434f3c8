"""The apps pages and JSON API through the Flask test client (real simulator)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pruvon_core import audit
from pruvon_core.operations import OperationStore
from tests.apps.conftest import wait_operation


def op_id(response: Any) -> str:
    location = response.headers["Location"]
    assert "/operations/" in location, location
    return location.rsplit("/", 1)[1]


def events(pruvon_config: Any) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.target, e.result) for e in audit.read(state_dir=pruvon_config.state_dir)]


# --------------------------------------------------------------------------- list / detail
def test_admin_list_shows_every_app_with_state(http: Any, login_as: Any) -> None:
    login_as("admin")
    html = http.get("/apps").get_data(as_text=True)
    for name in ("blog", "shop-api", "secret", "empty"):
        assert f'href="/apps/{name}"' in html
    assert "not deployed" in html and "web 1/1" in html
    searched = http.get("/apps?q=shop").get_data(as_text=True)
    assert 'href="/apps/shop-api"' in searched and 'href="/apps/blog"' not in searched


def test_scoped_user_sees_only_its_apps_and_cannot_open_others(http: Any, login_as: Any) -> None:
    login_as("alice")
    html = http.get("/apps").get_data(as_text=True)
    assert 'href="/apps/blog"' in html and 'href="/apps/shop-api"' in html
    assert "/apps/secret" not in html and "/apps/empty" not in html
    for path in ("/apps/secret", "/apps/secret?tab=config", "/apps/secret/config.env",
                 "/api/v1/apps/secret", "/api/v1/apps/secret/config",
                 "/api/v1/apps/secret/operations"):
        assert http.get(path).status_code in (403, 404), path
    listed = http.get("/api/v1/apps").get_json()
    assert {a["name"] for a in listed["apps"]} == {"blog", "shop-api"}


def test_narrowed_grant_applies_on_next_request_without_sign_out(
    http: Any, login_as: Any, pruvon_config: Any
) -> None:
    login_as("alice")
    assert http.get("/apps/shop-api").status_code == 200
    pruvon_config.write(pruvon_config.path.read_text().replace("      - shop-*\n", "", 1))
    assert http.get("/apps/shop-api").status_code in (403, 404)
    assert http.get("/apps/blog").status_code == 200  # still signed in, other grants intact
    listed = http.get("/api/v1/apps").get_json()
    assert {a["name"] for a in listed["apps"]} == {"blog"}


def test_every_tab_renders(http: Any, login_as: Any) -> None:
    login_as("admin")
    for tab in ("overview", "processes", "config", "domains", "ports", "storage", "settings", "files",
                "logs", "operations"):
        response = http.get(f"/apps/blog?tab={tab}")
        assert response.status_code == 200, tab
    settings = http.get("/apps/blog?tab=settings").get_data(as_text=True)
    assert "/var/log/nginx/blog-access.log" in settings and "TLS certificate" in settings
    assert http.get("/apps/blog?tab=nope").status_code == 404
    assert http.get("/apps/nope").status_code == 404
    never = http.get("/apps/empty").get_data(as_text=True)
    assert "never deployed" in never


# --------------------------------------------------------------------------- config
def test_config_multi_edit_without_restart(http: Any, login_as: Any, pruvon_config: Any) -> None:
    token = login_as("admin")
    response = http.post("/apps/blog/config", data={
        "csrf_token": token, "key": ["FIRST", "SECOND", ""], "value": ["1", "a\nb", ""]})
    assert response.status_code == 303
    revealed = http.get("/apps/blog?tab=config&reveal=1").get_data(as_text=True)
    assert "FIRST" in revealed and "a\nb" in revealed
    response = http.post("/apps/blog/config", data={
        "csrf_token": token, "key": ["THIRD"], "value": ["3"], "remove": ["FIRST"]})
    assert response.status_code == 303
    env = http.get("/apps/blog/config.env")
    assert env.headers["Content-Disposition"] == 'attachment; filename="blog.env"'
    assert 'THIRD="3"' in env.get_data(as_text=True) and "FIRST" not in env.get_data(as_text=True)
    assert ("apps.config.write", "app:blog", "ok") in events(pruvon_config)
    assert ("apps.config.read", "app:blog", "ok") in events(pruvon_config)


def test_config_bad_input_re_renders_the_form_with_the_message(http: Any, login_as: Any) -> None:
    token = login_as("admin")
    response = http.post("/apps/blog/config", data={
        "csrf_token": token, "key": ["1BAD", "GOOD"], "value": ["x", "kept value"]})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "config key &#39;1BAD&#39; is invalid" in html
    assert 'value="1BAD"' in html and "kept value" in html
    trailing = http.post("/apps/blog/config", data={
        "csrf_token": token, "key": ["Q"], "value": ['ends"']})
    assert trailing.status_code == 400 and "ends with" in trailing.get_data(as_text=True)


def test_config_with_restart_runs_in_the_background(
    http: Any, login_as: Any, pruvon_config: Any
) -> None:
    token = login_as("admin")
    response = http.post("/apps/blog/config", data={
        "csrf_token": token, "key": ["R"], "value": ["1"], "restart": "1"})
    assert response.status_code == 303
    op = wait_operation(pruvon_config.state_dir, op_id(response))
    assert op.status == "succeeded", op.error
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert "succeeded" in page and "Setting config vars" in page


def test_viewer_sees_masked_values_and_cannot_write(
    http: Any, login_as: Any, pruvon_config: Any
) -> None:
    secret_value = "super-secret-value"
    from pruvon_testing.fixtures_client import client_for_sim

    client_for_sim(Path(os.environ["PRUVON_SIM_ROOT"])).config_set("blog", {
        "TOKEN": secret_value})
    token = login_as("victor")
    for path in ("/apps/blog?tab=config", "/apps/blog?tab=config&reveal=1"):
        html = http.get(path).get_data(as_text=True)
        assert "TOKEN" in html and secret_value not in html
        assert 'id="config-form"' not in html
    assert http.get("/apps/blog/config.env").status_code == 403
    api = http.get("/api/v1/apps/blog/config").get_json()
    assert api["masked"] is True and "TOKEN" in api["config"]
    assert set(api["config"].values()) == {"••••••••"}
    refused = http.post("/apps/blog/config", data={"csrf_token": token, "key": ["A"],
                                                   "value": ["1"]})
    assert refused.status_code == 403
    assert ("apps.config.write", "app:blog", "denied") in events(pruvon_config)


# --------------------------------------------------------------------------- domains, ports, storage
def test_domains_ports_storage_errors_and_success(
    http: Any, login_as: Any, pruvon_config: Any
) -> None:
    token = login_as("admin")
    bad = http.post("/apps/blog/domains", data={"csrf_token": token, "action": "add",
                                                "domains": "-evil.com"})
    assert bad.status_code == 400 and "starts with" in bad.get_data(as_text=True)
    good = http.post("/apps/blog/domains", data={"csrf_token": token, "action": "add",
                                                 "domains": "blog.example.com"})
    assert wait_operation(pruvon_config.state_dir, op_id(good)).status == "succeeded"
    assert "blog.example.com" in http.get("/apps").get_data(as_text=True)
    bad_port = http.post("/apps/blog/ports", data={"csrf_token": token, "action": "add",
                                                   "mappings": "http:80"})
    assert bad_port.status_code == 400 and "scheme:host-port" in bad_port.get_data(as_text=True)
    traversal = http.post("/apps/blog/storage", data={
        "csrf_token": token, "action": "mount", "host": "../../etc", "container": "/etc"})
    assert traversal.status_code == 400
    assert "must not contain" in traversal.get_data(as_text=True)
    mounted = http.post("/apps/blog/storage", data={
        "csrf_token": token, "action": "mount", "host": "blog-uploads",
        "container": "/app/uploads"})
    assert mounted.status_code == 303
    assert "/var/lib/dokku/data/storage/blog-uploads" in http.get(
        "/apps/blog?tab=storage").get_data(as_text=True)


# --------------------------------------------------------------------------- processes
def test_restart_scale_and_a_refused_concurrent_operation(
    http: Any, login_as: Any, pruvon_config: Any
) -> None:
    token = login_as("admin")
    restart = http.post("/apps/blog/ps", data={"csrf_token": token, "action": "restart"})
    op = wait_operation(pruvon_config.state_dir, op_id(restart))
    assert op.status == "succeeded" and [s.status for s in op.steps] == ["done", "done"]
    scale = http.post("/apps/blog/scale", data={"csrf_token": token, "scale-web": "2"})
    assert wait_operation(pruvon_config.state_dir, op_id(scale)).status == "succeeded"
    assert "web 2/2" in http.get("/apps").get_data(as_text=True)
    bad = http.post("/apps/blog/scale", data={"csrf_token": token, "scale-web": "-1"})
    assert bad.status_code == 400
    fd = OperationStore(pruvon_config.state_dir).acquire("app:blog")
    try:
        busy = http.post("/apps/blog/ps", data={"csrf_token": token, "action": "stop"})
        api_busy = http.post("/api/v1/apps/blog/ps", json={"action": "stop"},
                             headers={"X-CSRF-Token": token})
    finally:
        os.close(fd)
    assert busy.status_code == 409 and "busy" in busy.get_data(as_text=True)
    assert api_busy.status_code == 409 and "busy" in api_busy.get_json()["error"]
    never = http.post("/api/v1/apps/empty/ps", json={"action": "restart"},
                      headers={"X-CSRF-Token": token})
    assert never.status_code == 202
    failed = wait_operation(pruvon_config.state_dir, never.get_json()["id"])
    assert failed.status == "failed" and "has not been deployed" in failed.error


def test_cancel_and_operation_api(http: Any, login_as: Any, pruvon_config: Any) -> None:
    token = login_as("admin")
    started = http.post("/api/v1/apps/blog/ps", json={"action": "restart"},
                        headers={"X-CSRF-Token": token})
    assert started.status_code == 202
    ident = started.get_json()["id"]
    wait_operation(pruvon_config.state_dir, ident)
    data = http.get(f"/api/v1/apps/blog/operations/{ident}?after=0").get_json()
    assert data["status"] == "succeeded" and data["percent"] == 100.0 and data["output"]
    assert http.get(f"/api/v1/apps/shop-api/operations/{ident}").status_code == 404
    assert http.get(f"/api/v1/apps/blog/operations/{ident}?after=x").status_code == 400
    listed = http.get("/api/v1/apps/blog/operations").get_json()["operations"]
    assert listed[0]["id"] == ident
    cancel = http.post(f"/api/v1/apps/blog/operations/{ident}/cancel",
                       headers={"X-CSRF-Token": token})
    assert cancel.status_code == 200 and cancel.get_json()["status"] == "succeeded"


# --------------------------------------------------------------------------- create / destroy
def test_user_with_can_create_apps_creates_and_is_granted(
    http: Any, login_as: Any, pruvon_config: Any
) -> None:
    token = login_as("alice")
    bad = http.post("/apps/create", data={"csrf_token": token, "name": "Bad_Name",
                                          "ports": "http:80"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "app name" in text and "ports" in text and 'value="Bad_Name"' in text
    response = http.post("/apps/create", data={
        "csrf_token": token, "name": "alice-app", "image": "example/web:1",
        "env": "A=1\nB=two words", "domains": "alice.example.com"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/apps/alice-app/operations/")
    op = wait_operation(pruvon_config.state_dir, op_id(response))
    assert op.status == "succeeded", op.error
    assert "alice-app" in pruvon_config.user("alice").apps
    # the added grant applies at once and does not sign her out
    assert http.get("/apps/alice-app").status_code == 200
    assert ("apps.create", "app:alice-app", "ok") in events(pruvon_config)


def test_viewer_cannot_create(http: Any, login_as: Any) -> None:
    token = login_as("victor")
    assert http.get("/apps/create").status_code == 403
    refused = http.post("/apps/create", data={"csrf_token": token, "name": "x1"})
    assert refused.status_code == 403
    assert http.get("/api/v1/apps/create?name=x1").status_code == 403


def test_destroy_needs_the_typed_name(http: Any, login_as: Any, pruvon_config: Any) -> None:
    token = login_as("admin")
    assert 'name="confirm"' in http.get("/apps/shop-api/destroy").get_data(as_text=True)
    wrong = http.post("/apps/shop-api/destroy", data={"csrf_token": token, "confirm": "shop"})
    assert wrong.status_code == 400 and "exactly" in wrong.get_data(as_text=True)
    done = http.post("/apps/shop-api/destroy", data={"csrf_token": token,
                                                      "confirm": "shop-api"})
    op = wait_operation(pruvon_config.state_dir, op_id(done))
    assert op.status == "succeeded", op.error
    snapshot = Path(op.result["snapshot"])
    assert json.loads(snapshot.read_text())["app"] == "shop-api"
    assert http.get("/apps/shop-api").status_code == 404


def test_alice_cannot_destroy_even_her_own_app_without_csrf(http: Any, login_as: Any) -> None:
    login_as("alice")
    response = http.post("/apps/blog/destroy", data={"confirm": "blog"})
    assert response.status_code == 403


# --------------------------------------------------------------------------- JSON API
def test_api_config_patch_and_errors(http: Any, login_as: Any) -> None:
    token = login_as("admin")
    headers = {"X-CSRF-Token": token}
    ok = http.patch("/api/v1/apps/blog/config", json={"set": {"K": "v\n1"}, "unset": []},
                    headers=headers)
    assert ok.status_code == 200 and ok.get_json()["set"] == ["K"]
    assert http.get("/api/v1/apps/blog/config").get_json()["config"]["K"] == "v\n1"
    for payload, status, message in (
        ({"set": {"1X": "y"}}, 400, "config key"),
        ({"sett": {}}, 400, "unknown field"),
        ({"set": {"A": 1}}, 400, "string values"),
        ({"restart": "yes", "set": {"A": "1"}}, 400, "true or false"),
    ):
        response = http.patch("/api/v1/apps/blog/config", json=payload, headers=headers)
        assert response.status_code == status and message in response.get_json()["error"]
    assert http.patch("/api/v1/apps/nope/config", json={"set": {"A": "1"}},
                      headers=headers).status_code == 404


def test_api_detail_create_check_and_destroy(http: Any, login_as: Any, pruvon_config: Any) -> None:
    token = login_as("admin")
    headers = {"X-CSRF-Token": token}
    detail = http.get("/api/v1/apps/blog").get_json()
    assert detail["state"] == "running" and detail["scale"] == {"web": 1}
    assert http.get("/api/v1/apps/create?name=blog").get_json() == {
        "ok": False, "error": "an app called blog already exists"}
    assert http.get("/api/v1/apps/create?name=fresh").get_json()["ok"] is True
    created = http.post("/api/v1/apps", json={"name": "api-app", "ports": ["http:80:5000"]},
                        headers=headers)
    assert created.status_code == 202
    assert wait_operation(pruvon_config.state_dir, created.get_json()["id"]).status == "succeeded"
    refused = http.delete("/api/v1/apps/api-app", json={"confirm": "nope"}, headers=headers)
    assert refused.status_code == 400
    gone = http.delete("/api/v1/apps/api-app", json={"confirm": "api-app"}, headers=headers)
    assert gone.status_code == 202
    assert wait_operation(pruvon_config.state_dir, gone.get_json()["id"]).status == "succeeded"
    assert http.get("/api/v1/apps/api-app").status_code == 404
    spec = http.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/apps/{app}/config" in spec["paths"]


def test_dashboard_card_lists_recent_operations(http: Any, login_as: Any,
                                                pruvon_config: Any) -> None:
    token = login_as("admin")
    started = http.post("/api/v1/apps/blog/ps", json={"action": "restart"},
                        headers={"X-CSRF-Token": token})
    wait_operation(pruvon_config.state_dir, started.get_json()["id"])
    assert "restart blog" in http.get("/").get_data(as_text=True)


def test_deploy_then_roll_back_to_the_previous_image(
    http: Any, login_as: Any, pruvon_config: Any, sim_root: Path
) -> None:
    from tests.apps.conftest import register_image

    token = login_as("admin")
    register_image(sim_root, "example/web:2")
    assert "rollback-form" not in http.get("/apps/blog?tab=processes").get_data(as_text=True)
    bad = http.post("/apps/blog/deploy", data={"csrf_token": token, "image": "bad image"})
    assert bad.status_code == 400 and "image" in bad.get_data(as_text=True)
    deployed = http.post("/apps/blog/deploy", data={"csrf_token": token,
                                                    "image": "example/web:2"})
    op = wait_operation(pruvon_config.state_dir, op_id(deployed))
    assert op.status == "succeeded" and op.result["previous_image"] == "example/web:1"
    page = http.get("/apps/blog?tab=processes").get_data(as_text=True)
    assert 'id="rollback-form"' in page and "example/web:1" in page
