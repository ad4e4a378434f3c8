"""The /backups page and /api/v1/backups on the simulator: scoping, statuses, forms."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pruvon_backups import public as backups

from tests.backups.conftest import sim
from tests.backups.web.conftest import api, wait_operation


def run_now(pruvon_web_client: Any, token: str, kind: str, name: str) -> dict[str, Any]:
    response = api(pruvon_web_client, token, "POST", "/api/v1/backups/run",
                   json={"scope": "service", "type": kind, "name": name})
    assert response.status_code == 202, response.get_json()
    done = wait_operation(pruvon_web_client, response.get_json()["id"], token)
    assert done["status"] == "succeeded", done
    return done


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines()


# --------------------------------------------------------------------------- page
def test_page_shows_services_never_backed_up_as_stale_then_fresh_after_run_now(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str]) -> None:
    token = pruvon_web_login("admin")
    page = pruvon_web_client.get("/backups").get_data(as_text=True)
    assert 'id="service-postgres-blog-db" class="stale"' in page
    assert "pruvon-backup.timer" in page and "Sunday" in page  # schedule as configured
    response = pruvon_web_client.post("/backups/run", data={"csrf_token": token, "scope": "service",
                                               "type": "postgres", "name": "blog-db"})
    assert response.status_code == 303
    op_id = response.headers["Location"].rsplit("/", 1)[1]
    done = wait_operation(pruvon_web_client, op_id, token)
    assert done["status"] == "succeeded" and done["result"]["backups"]
    page = pruvon_web_client.get("/backups").get_data(as_text=True)
    assert 'id="service-postgres-blog-db" class=""' in page
    assert f'id="backup-{done["result"]["backups"][0]}"' in page
    op_page = pruvon_web_client.get(f"/backups/operations/{op_id}").get_data(as_text=True)
    assert "succeeded" in op_page and 'data-ws="/ws/backups/restore/' in op_page


def test_menu_and_dashboard_card_count_stale_services(pruvon_web_client: Any,
                                                      pruvon_web_login: Callable[[str], str]) -> None:
    token = pruvon_web_login("admin")
    run_now(pruvon_web_client, token, "redis", "cache")
    dashboard = pruvon_web_client.get("/").get_data(as_text=True)
    assert 'href="/backups"' in dashboard
    assert "2 of 3 services without a recent good backup" in dashboard


def test_run_form_refused_with_specific_message(pruvon_web_client: Any, pruvon_web_login: Callable[[str], str],
                                               dokku_calls: Path) -> None:
    token = pruvon_web_login("admin")
    response = pruvon_web_client.post("/backups/run", data={"csrf_token": token, "scope": "everything"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "scope: must be one of service, app, all, not &#39;everything&#39;" in page
    assert 'id="backup-services"' in page  # the page itself, with the message
    assert not [c for c in calls(dokku_calls) if ":export" in c]  # the page's reads only


# --------------------------------------------------------------------------- API
def test_api_list_detail_download_verify_delete(pruvon_web_client: Any, pruvon_web_login: Callable[[str], str],
                                                backup_dir: Path) -> None:
    token = pruvon_web_login("admin")
    backup_id = run_now(pruvon_web_client, token, "postgres", "blog-db")["result"]["backups"][0]
    listing = api(pruvon_web_client, token, "GET", "/api/v1/backups").get_json()
    [entry] = [b for b in listing["backups"] if b["id"] == backup_id]
    assert {"id", "type", "service", "rotation", "path", "size", "sha256", "encrypted",
            "created", "status", "target", "host"} == set(entry)
    assert entry["host"] == "local"  # the default host's name (issue 17)
    row = next(s for s in listing["services"] if s["service"] == "blog-db")
    assert row["stale"] is False and row["last_good"]["id"] == backup_id
    assert listing["schedule"]["targets"][0]["name"] == "local"
    detail = api(pruvon_web_client, token, "GET", f"/api/v1/backups/{backup_id}").get_json()
    assert detail["manifest"]["sha256"] == detail["sha256"]
    download = api(pruvon_web_client, token, "GET", f"/api/v1/backups/{backup_id}/download")
    assert download.status_code == 200 and download.is_streamed
    data = download.get_data()
    assert hashlib.sha256(data).hexdigest() == detail["sha256"]
    assert data == Path(detail["path"]).read_bytes()
    assert download.headers["Content-Length"] == str(len(data))
    assert download.headers["X-Content-SHA256"] == detail["sha256"]
    assert f'filename="{Path(detail["path"]).name}"' in download.headers["Content-Disposition"]
    verified = api(pruvon_web_client, token, "POST", f"/api/v1/backups/{backup_id}/verify", json={})
    assert verified.status_code == 200 and verified.get_json()["ok"] is True
    gone = api(pruvon_web_client, token, "DELETE", f"/api/v1/backups/{backup_id}")
    assert gone.status_code == 200 and gone.get_json()["status"] == "deleted"
    assert not Path(detail["path"]).exists()
    assert api(pruvon_web_client, token, "GET", f"/api/v1/backups/{backup_id}").status_code == 404


def test_verify_reports_a_corrupted_file(pruvon_web_client: Any, pruvon_web_login: Callable[[str], str]) -> None:
    token = pruvon_web_login("admin")
    backup_id = run_now(pruvon_web_client, token, "postgres", "blog-db")["result"]["backups"][0]
    path = Path(api(pruvon_web_client, token, "GET", f"/api/v1/backups/{backup_id}").get_json()["path"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    result = api(pruvon_web_client, token, "POST", f"/api/v1/backups/{backup_id}/verify", json={}).get_json()
    assert result["ok"] is False and "sha256 mismatch" in result["problem"]
    page = pruvon_web_client.post(f"/backups/{backup_id}/verify", data={"csrf_token": token})
    assert page.status_code == 303
    assert "failed verification: sha256 mismatch" in pruvon_web_client.get("/backups").get_data(as_text=True)


@pytest.mark.parametrize(("method", "suffix"), [
    ("GET", ""), ("GET", "/download"), ("POST", "/verify"), ("DELETE", ""),
    ("POST", "/restore")])
def test_unknown_id_is_404(pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], method: str,
                           suffix: str) -> None:
    token = pruvon_web_login("admin")
    for bad in ("999", "abc"):
        response = api(pruvon_web_client, token, method, f"/api/v1/backups/{bad}{suffix}", json={})
        assert response.status_code == 404, (bad, response.get_json())
        assert "no backup" in response.get_json()["error"]


@pytest.mark.parametrize(("payload", "message"), [
    ({"scope": "service", "type": "postgres", "name": "Bad Name"}, "Bad Name"),
    ({"scope": "service", "type": "postgres"}, ""),
    ({"scope": "galaxy"}, "scope: must be one of"),
    ({"scope": "all", "extra": 1}, "extra"),
])
def test_run_bad_input_is_400_before_any_export(pruvon_web_client: Any, pruvon_web_login: Callable[[str], str],
                                                dokku_calls: Path, payload: dict[str, Any],
                                                message: str) -> None:
    token = pruvon_web_login("admin")
    response = api(pruvon_web_client, token, "POST", "/api/v1/backups/run", json=payload)
    assert response.status_code == 400, response.get_json()
    assert message in response.get_json()["error"]
    assert not [c for c in calls(dokku_calls) if ":export" in c]


def test_run_while_another_run_holds_the_lock_is_409(pruvon_web_client: Any, pruvon_web_login: Callable[[str], str],
                                                     pruvon_web_app: Any, dokku_calls: Path) -> None:
    """``pruvon backup auto`` (here: another thread) holds the engine's lock."""
    from pruvon_backups.locking import run_lock

    token = pruvon_web_login("admin")
    state = pruvon_web_app.extensions["pruvon"]
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with run_lock(state.state_dir, backups.catalogue(state.pruvon)):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    try:
        response = api(pruvon_web_client, token, "POST", "/api/v1/backups/run",
                       json={"scope": "service", "type": "postgres", "name": "blog-db"})
        assert response.status_code == 409
        assert "another backup run is in progress" in response.get_json()["error"]
    finally:
        release.set()
        thread.join()
    assert not [c for c in calls(dokku_calls) if ":export" in c]


def test_openapi_documents_the_backups_api(pruvon_web_client: Any, pruvon_web_login: Callable[[str], str]) -> None:
    pruvon_web_login("admin")
    paths = pruvon_web_client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/backups", "/api/v1/backups/run", "/api/v1/backups/{backup_id}",
                 "/api/v1/backups/{backup_id}/download", "/api/v1/backups/{backup_id}/verify",
                 "/api/v1/backups/{backup_id}/restore", "/api/v1/backups/operations/{op_id}"):
        assert path in paths, path
    assert "409" in paths["/api/v1/backups/run"]["post"]["responses"]
    assert "delete" in paths["/api/v1/backups/{backup_id}"]


# --------------------------------------------------------------------------- scoping
def test_scoped_user_sees_and_acts_only_on_granted_services(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], pruvon_web_app: Any, dokku_calls: Path) -> None:
    pruvon = pruvon_web_app.extensions["pruvon"].pruvon
    secret = backups.run_backup(pruvon, "postgres", "secret-db")
    mine = backups.run_backup(pruvon, "postgres", "blog-db")
    token = pruvon_web_login("alice")
    listing = api(pruvon_web_client, token, "GET", "/api/v1/backups").get_json()
    assert {b["service"] for b in listing["backups"]} == {"blog-db"}
    assert {s["service"] for s in listing["services"]} == {"blog-db", "cache"}
    page = pruvon_web_client.get("/backups").get_data(as_text=True)
    assert "secret-db" not in page and f'id="backup-{mine.id}"' in page
    before = calls(dokku_calls)
    for method, suffix in (("GET", ""), ("GET", "/download"), ("POST", "/verify"),
                           ("DELETE", ""), ("POST", "/restore")):
        response = api(pruvon_web_client, token, method, f"/api/v1/backups/{secret.id}{suffix}",
                       json={"confirm": "secret-db"} if suffix == "/restore" else {})
        assert response.status_code == 404, (method, suffix)
    response = api(pruvon_web_client, token, "POST", "/api/v1/backups/run",
                   json={"scope": "service", "type": "postgres", "name": "secret-db"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "postgres service secret-db does not exist"
    assert pruvon_web_client.get(f"/backups/{secret.id}/restore").status_code == 404
    assert calls(dokku_calls) == before  # nothing reached Dokku
    assert Path(secret.path).is_file()
    # "all" covers only what alice may see
    response = api(pruvon_web_client, token, "POST", "/api/v1/backups/run", json={"scope": "all"})
    assert response.status_code == 202
    assert set(response.get_json()["steps"][i]["name"] for i in range(2)) == {
        "postgres:blog-db", "redis:cache"}
    assert len(response.get_json()["steps"]) == 2
    wait_operation(pruvon_web_client, response.get_json()["id"], token)


def test_viewer_may_read_but_not_run_restore_or_delete(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], pruvon_web_app: Any, dokku_calls: Path) -> None:
    pruvon = pruvon_web_app.extensions["pruvon"].pruvon
    mine = backups.run_backup(pruvon, "postgres", "blog-db")
    token = pruvon_web_login("victor")
    assert pruvon_web_client.get("/backups").status_code == 200
    assert api(pruvon_web_client, token, "GET", f"/api/v1/backups/{mine.id}").status_code == 200
    before = calls(dokku_calls)
    refused = [
        api(pruvon_web_client, token, "POST", "/api/v1/backups/run",
            json={"scope": "service", "type": "postgres", "name": "blog-db"}),
        api(pruvon_web_client, token, "POST", f"/api/v1/backups/{mine.id}/restore",
            json={"confirm": "blog-db"}),
        api(pruvon_web_client, token, "DELETE", f"/api/v1/backups/{mine.id}"),
        pruvon_web_client.post(f"/backups/{mine.id}/delete", data={"csrf_token": token}),
        pruvon_web_client.post(f"/backups/{mine.id}/restore", data={"csrf_token": token,
                                                      "confirm": "blog-db"}),
        pruvon_web_client.post("/backups/run", data={"csrf_token": token, "scope": "all"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert calls(dokku_calls) == before
    assert Path(mine.path).is_file()
    page = pruvon_web_client.get("/backups").get_data(as_text=True)
    assert "Run now" not in page and "Restore…" not in page and ">Delete<" not in page


def test_page_costs_the_same_dokku_calls_whatever_the_number_of_services(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], host: Path,
        dokku_calls: Path) -> None:
    pruvon_web_login("admin")
    pruvon_web_client.get("/backups")  # the installed plugins are remembered afterwards

    def cost() -> int:
        before = len(calls(dokku_calls))
        assert pruvon_web_client.get("/backups").status_code == 200
        return len(calls(dokku_calls)) - before

    few = cost()
    for index in range(6):
        sim(host, "redis:create", f"extra-{index}")
    assert cost() == few <= 3  # one <type>:list per backed-up kind


def test_run_now_for_one_apps_services(pruvon_web_client: Any,
                                       pruvon_web_login: Callable[[str], str],
                                       host: Path) -> None:
    for app in ("blog", "secret"):
        sim(host, "apps:create", app)
    sim(host, "postgres:link", "blog-db", "blog")
    sim(host, "postgres:link", "secret-db", "secret")
    token = pruvon_web_login("alice")
    response = api(pruvon_web_client, token, "POST", "/api/v1/backups/run",
                   json={"scope": "app", "app": "blog"})
    assert response.status_code == 202, response.get_json()
    assert [s["name"] for s in response.get_json()["steps"]] == ["postgres:blog-db"]
    assert wait_operation(pruvon_web_client, response.get_json()["id"], token)["status"] == \
        "succeeded"
    refused = api(pruvon_web_client, token, "POST", "/api/v1/backups/run",
                  json={"scope": "app", "app": "secret"})
    assert refused.status_code == 404 and "secret" in refused.get_json()["error"]


def test_a_pruvon_hosts_existing_backups_appear_on_the_page_without_the_cli(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], host: Path,
        backup_dir: Path) -> None:
    """Regression: Pruvon's own tree was catalogued only by the CLI or the first timer run,
    so an operator moving over saw an empty /backups page."""
    from tests.backups.conftest import export

    old = backup_dir / "redis/daily/cache/cache_2025-11-20_03h00m.Thursday.rdb"
    old.parent.mkdir(parents=True)
    old.write_bytes(export(host, "redis", "cache"))
    token = pruvon_web_login("admin")
    assert pruvon_web_client.get("/backups").status_code == 200
    listed = api(pruvon_web_client, token, "GET", "/api/v1/backups").get_json()["backups"]
    assert [(b["type"], b["service"], b["rotation"], b["path"]) for b in listed] == [
        ("redis", "cache", "daily", str(old))]
