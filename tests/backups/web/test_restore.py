"""Restore from the page and the API: typed name, into a new service, safety backup, Dokku's text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pruvon_backups import public as backups

from tests.backups.conftest import export, make_redis_data_writable, sim
from tests.backups.web.conftest import api, wait_operation


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines()


def imports(log: Path) -> list[str]:
    return [c for c in calls(log) if ":import" in c or ":create" in c]


def test_api_restore_into_a_new_service_round_trips(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], pruvon_web_app: Any,
        host: Path, dokku_calls: Path, imported: Path) -> None:
    pruvon = pruvon_web_app.extensions["pruvon"].pruvon
    original = export(host, "postgres", "blog-db")
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    token = pruvon_web_login("admin")
    response = api(pruvon_web_client, token, "POST", f"/api/v1/backups/{record.id}/restore",
                   json={"confirm": "blog-db", "into": "blog-db-check"})
    assert response.status_code == 202, response.get_json()
    started = response.get_json()
    assert started["target"] == "backup:postgres:blog-db-check"
    done = wait_operation(pruvon_web_client, started["id"], token)
    assert done["status"] == "succeeded", done
    assert done["progress"] == {"percent": 100, "bytes": len(original), "total": len(original)}
    assert done["result"]["service"] == "blog-db-check" and done["result"]["created_service"]
    assert imported.read_bytes() == original
    assert "postgres:import blog-db-check" in calls(dokku_calls)
    assert "postgres:import blog-db" not in calls(dokku_calls)  # production untouched


def test_page_restore_over_the_service_takes_a_safety_backup(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], pruvon_web_app: Any,
        host: Path) -> None:
    pruvon = pruvon_web_app.extensions["pruvon"].pruvon
    original = export(host, "redis", "cache")
    record = backups.run_backup(pruvon, "redis", "cache")
    sim(host, "redis:connect", "cache", stdin=b"SET greeting changed\n")
    make_redis_data_writable(host, "cache")
    token = pruvon_web_login("alice")
    form = pruvon_web_client.get(f"/backups/{record.id}/restore").get_data(as_text=True)
    assert "Type <code>cache</code> to confirm" in form
    assert 'value="new"' not in form  # alice may not create services: no "into" option
    response = pruvon_web_client.post(f"/backups/{record.id}/restore", data={
        "csrf_token": token, "target": "existing", "safety": "1", "confirm": "cache"})
    assert response.status_code == 303
    op_id = response.headers["Location"].rsplit("/", 1)[1]
    done = wait_operation(pruvon_web_client, op_id, token)
    assert done["status"] == "succeeded", done
    assert export(host, "redis", "cache") == original
    safety = backups.catalogue(pruvon).get(done["result"]["safety_backup"])
    assert safety.rotation == "safety" and safety.status == "good"


@pytest.mark.parametrize(("form", "message"), [
    ({"confirm": "wrong"}, "type the service name (blog-db) exactly to confirm"),
    ({"confirm": ""}, "type the service name (blog-db) exactly to confirm"),
    ({"confirm": "blog-db", "target": "new", "into": "Bad Name!"}, "Bad Name!"),
    ({"confirm": "blog-db", "target": "new", "into": "secret-db"},
     "postgres service secret-db already exists"),
])
def test_restore_form_refused_re_renders_with_the_message_and_nothing_reaches_dokku(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], pruvon_web_app: Any,
        dokku_calls: Path, form: dict[str, str], message: str) -> None:
    pruvon = pruvon_web_app.extensions["pruvon"].pruvon
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    token = pruvon_web_login("admin")
    before = imports(dokku_calls)
    response = pruvon_web_client.post(f"/backups/{record.id}/restore",
                                      data={"csrf_token": token, **form})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="restore-form"' in page
    assert message.replace("(", "(").replace("!", "!") in page.replace("&#39;", "'")
    assert imports(dokku_calls) == before


def test_alice_cannot_restore_into_a_new_service(pruvon_web_client: Any,
                                                 pruvon_web_login: Callable[[str], str],
                                                 pruvon_web_app: Any, dokku_calls: Path) -> None:
    """Restoring into a new service creates one: that needs services.create."""
    pruvon = pruvon_web_app.extensions["pruvon"].pruvon
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    token = pruvon_web_login("alice")
    before = imports(dokku_calls)
    response = api(pruvon_web_client, token, "POST", f"/api/v1/backups/{record.id}/restore",
                   json={"confirm": "blog-db", "into": "blog-db-copy"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "not allowed: services.create"
    assert imports(dokku_calls) == before


def test_failed_import_ends_the_operation_with_dokkus_own_text(
        pruvon_web_client: Any, pruvon_web_login: Callable[[str], str], pruvon_web_app: Any,
        host: Path) -> None:
    """dokku-redis#248: redis:import cannot write dump.rdb; the operator reads Dokku's error."""
    pruvon = pruvon_web_app.extensions["pruvon"].pruvon
    record = backups.run_backup(pruvon, "redis", "cache")
    token = pruvon_web_login("admin")
    response = api(pruvon_web_client, token, "POST", f"/api/v1/backups/{record.id}/restore",
                   json={"confirm": "cache", "safety": False})
    done = wait_operation(pruvon_web_client, response.get_json()["id"], token)
    assert done["status"] == "failed"
    assert "dump.rdb: Permission denied" in done["error"]


@pytest.mark.parametrize(("payload", "message"), [
    ({"confirm": "blog-db", "safety": "yes"}, "safety"),
    ({"confirm": "blog-db", "identity": "not a key"}, "not an age identity"),
    ({"confirm": "blog-db", "unknown": 1}, "unknown"),
    ({"confirm": 5}, "confirm"),
])
def test_api_restore_bad_input_is_400(pruvon_web_client: Any,
                                      pruvon_web_login: Callable[[str], str],
                                      pruvon_web_app: Any, dokku_calls: Path,
                                      payload: dict[str, Any], message: str) -> None:
    pruvon = pruvon_web_app.extensions["pruvon"].pruvon
    record = backups.run_backup(pruvon, "postgres", "blog-db")
    token = pruvon_web_login("admin")
    before = imports(dokku_calls)
    response = api(pruvon_web_client, token, "POST", f"/api/v1/backups/{record.id}/restore",
                   json=payload)
    assert response.status_code == 400, response.get_json()
    assert message in response.get_json()["error"]
    assert imports(dokku_calls) == before
