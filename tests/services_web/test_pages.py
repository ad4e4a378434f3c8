"""The services pages: list, detail, create, link, destroy, export/import - and what a
scoped user may reach.  Flask's test client on the simulator (through its console
script, as in production); every refusal also checks that nothing reached Dokku."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.apps.conftest import csrf_from, wait_operation
from tests.services_web.conftest import audit_events, calls, post

OP_RE = re.compile(r"(?:/services/[\w-]+/[\w-]+/operations/|/services/create\?operation=)(\w+)$")


def op_id(response: Any) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    match = OP_RE.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


# --------------------------------------------------------------------------- list
def test_list_shows_every_kind_status_version_and_links(
    http: Any, login_as: Any, services: Path
) -> None:
    login_as("admin")
    html = http.get("/services").get_data(as_text=True)
    for row in ("postgres/blog-db", "postgres/crm-db", "redis/cache"):
        assert f'data-service="{row}"' in html
    blog_db = html.split('data-service="postgres/blog-db"', 1)[1].split("</tr>", 1)[0]
    assert "running" in blog_db and '<a href="/apps/blog">blog</a>' in blog_db
    assert re.search(r"<code>[\w.:/-]*\d", blog_db), "a version or image is shown"
    assert 'href="/services"' in http.get("/").get_data(as_text=True)  # the menu entry


def test_list_is_filtered_to_the_grant(http: Any, login_as: Any, services: Path) -> None:
    login_as("alice")  # postgres blog-db, redis *
    html = http.get("/services").get_data(as_text=True)
    assert 'data-service="postgres/blog-db"' in html and 'data-service="redis/cache"' in html
    assert "crm-db" not in html


def test_empty_list_says_how_to_create_one(http: Any, login_as: Any, sim_root: Path) -> None:
    login_as("admin")
    html = http.get("/services").get_data(as_text=True)
    assert 'id="services-empty"' in html and "/services/create" in html


def test_list_costs_the_same_dokku_calls_for_2_and_12_services(
    dokku_calls: Path, http: Any, login_as: Any, services: Path, web_app: Any
) -> None:
    from tests.apps.conftest import sim

    login_as("admin")
    http.get("/services")  # warm: plugin list remembered
    web_app.extensions["pruvon"].client().invalidate()
    dokku_calls.write_text("")
    assert http.get("/services").status_code == 200
    few = len(calls(dokku_calls))
    for index in range(10):
        sim(services, "postgres:create", f"extra-{index}")
    web_app.extensions["pruvon"].client().invalidate()  # created behind Pruvon's back
    dokku_calls.write_text("")
    html = http.get("/services").get_data(as_text=True)
    assert "extra-9" in html
    assert len(calls(dokku_calls)) == few, calls(dokku_calls)
    assert not [c for c in calls(dokku_calls) if ":info" in c]


# --------------------------------------------------------------------------- scope
def test_a_scoped_user_cannot_reach_another_service(
    dokku_calls: Path, http: Any, login_as: Any, services: Path
) -> None:
    token = login_as("alice")
    dokku_calls.write_text("")
    for path in ("/services/postgres/crm-db", "/services/postgres/crm-db/console",
                 "/services/postgres/crm-db/export", "/services/postgres/crm-db/destroy",
                 "/api/v1/services/postgres/crm-db"):
        assert http.get(path).status_code == 403, path
    refused = http.post("/services/postgres/crm-db/import", data=b"PGDMP" + b"\0" * 100,
                        headers={"X-CSRF-Token": token,
                                 "Content-Type": "application/octet-stream"})
    assert refused.status_code == 403
    assert post(http, "/services/postgres/crm-db/link", token, app="blog").status_code == 403
    assert [c for c in calls(dokku_calls) if "crm-db" in c] == []


def test_a_viewer_sees_the_dsn_masked_and_cannot_reveal_it(
    http: Any, login_as: Any, services: Path
) -> None:
    login_as("victor")
    html = http.get("/services/postgres/blog-db?reveal=1").get_data(as_text=True)
    assert "postgres://postgres:****@" in html
    assert 'id="reveal-dsn"' not in html and 'id="link-form"' not in html


def test_a_writer_reveals_the_dsn_and_it_is_audited(
    http: Any, login_as: Any, services: Path, pruvon_config: Any
) -> None:
    login_as("admin")
    masked = http.get("/services/postgres/blog-db").get_data(as_text=True)
    assert "****@" in masked and 'id="reveal-dsn"' in masked
    html = http.get("/services/postgres/blog-db?reveal=1").get_data(as_text=True)
    dsn = re.search(r'id="service-dsn">([^<]+)<', html).group(1)
    assert "****" not in dsn and re.match(r"postgres://postgres:\w+@", dsn)
    assert [e for e in audit_events(pruvon_config.state_dir)
            if e.action == "services.manage" and e.details.get("reveal") == "dsn"]


# --------------------------------------------------------------------------- create
def test_create_with_a_bad_name_is_refused_before_dokku(
    dokku_calls: Path, http: Any, login_as: Any, services: Path
) -> None:
    token = login_as("admin")
    dokku_calls.write_text("")
    for bad in ("x;rm -rf /", "$(id)", "-rf", "a\nb"):
        page = post(http, "/services/create", token, type="postgres", name=bad)
        assert page.status_code == 400, bad
        html = page.get_data(as_text=True)
        assert 'class="flash flash-error"' in html and 'id="create-service-form"' in html
    unknown = post(http, "/services/create", token, type="nosuchdb", name="fine")
    assert unknown.status_code == 400
    assert [c for c in calls(dokku_calls) if ":create" in c] == []


def test_create_and_link_runs_as_an_operation(
    http: Any, login_as: Any, services: Path, pruvon_config: Any
) -> None:
    token = login_as("admin")
    response = post(http, "/services/create", token, type="postgres", name="shop-db",
                    link="shop-api", **{"postgres.image-version": ""})
    op = wait_operation(pruvon_config.state_dir, op_id(response))
    assert op.status == "succeeded", op.error
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="op-progress"' in page
    detail = http.get("/services/postgres/shop-db").get_data(as_text=True)
    assert '<a href="/apps/shop-api">shop-api</a>' in detail
    config = http.get("/apps/shop-api?tab=config&reveal=1").get_data(as_text=True)
    assert "DATABASE_URL" in config


# --------------------------------------------------------------------------- link, destroy
def test_link_and_unlink_from_the_page(
    http: Any, login_as: Any, services: Path, pruvon_config: Any
) -> None:
    token = login_as("admin")
    linked = post(http, "/services/postgres/crm-db/link", token, action="link",
                  app="shop-api", alias="CRM_DATABASE")
    assert wait_operation(pruvon_config.state_dir, op_id(linked)).status == "succeeded"
    config = http.get("/apps/shop-api?tab=config&reveal=1").get_data(as_text=True)
    assert "CRM_DATABASE_URL" in config
    unlinked = post(http, "/services/postgres/crm-db/link", token, action="unlink",
                    app="shop-api")
    assert wait_operation(pruvon_config.state_dir, op_id(unlinked)).status == "succeeded"
    assert "shop-api" not in http.get("/services/postgres/crm-db").get_data(as_text=True) \
        .split('id="links-table"', 1)[1].split("</table>", 1)[0]


def test_link_with_a_bad_alias_is_rerendered_before_dokku(
    dokku_calls: Path, http: Any, login_as: Any, services: Path
) -> None:
    token = login_as("admin")
    dokku_calls.write_text("")
    page = post(http, "/services/postgres/crm-db/link", token, action="link", app="blog",
                alias="bad alias;")
    assert page.status_code == 400
    assert 'class="flash flash-error"' in page.get_data(as_text=True)
    assert [c for c in calls(dokku_calls) if ":link" in c] == []


def test_destroy_is_refused_while_linked_and_names_the_apps(
    dokku_calls: Path, http: Any, login_as: Any, services: Path, pruvon_config: Any
) -> None:
    token = login_as("admin")
    form = http.get("/services/postgres/blog-db/destroy").get_data(as_text=True)
    assert 'id="destroy-linked"' in form and "blog" in form
    dokku_calls.write_text("")
    refused = post(http, "/services/postgres/blog-db/destroy", token, confirm="blog-db")
    assert refused.status_code in (303, 409)
    if refused.status_code == 303:
        op = wait_operation(pruvon_config.state_dir, op_id(refused))
        assert op.status == "failed" and "unlink" in op.error and "blog" in op.error
    else:
        assert "unlink" in refused.get_data(as_text=True)
    assert [c for c in calls(dokku_calls) if ":destroy" in c] == []
    wrong = post(http, "/services/postgres/crm-db/destroy", token, confirm="crm")
    assert wrong.status_code == 400 and "crm-db" in wrong.get_data(as_text=True)
    done = post(http, "/services/postgres/crm-db/destroy", token, confirm="crm-db")
    assert wait_operation(pruvon_config.state_dir, op_id(done)).status == "succeeded"
    assert http.get("/services/postgres/crm-db").status_code == 404


# --------------------------------------------------------------------------- export/import
def test_export_is_a_named_download(http: Any, login_as: Any, services: Path) -> None:
    login_as("admin")
    response = http.get("/services/postgres/blog-db/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="blog-db.dump"'
    assert response.is_streamed
    assert response.get_data().startswith(b"PGDMP")


def test_import_of_a_file_that_is_not_a_dump_never_reaches_dokku(
    dokku_calls: Path, http: Any, login_as: Any, services: Path, pruvon_config: Any
) -> None:
    token = login_as("admin")
    dokku_calls.write_text("")
    refused = http.post("/services/postgres/blog-db/import", data=b"hello, not a dump\n" * 50,
                        headers={"X-CSRF-Token": token,
                                 "Content-Type": "application/octet-stream"})
    assert refused.status_code == 400
    assert "error" in refused.get_json()
    assert [c for c in calls(dokku_calls) if ":import" in c] == []
    assert list((Path(pruvon_config.state_dir) / "imports").glob("*")) == []


def test_export_then_import_round_trip(
    http: Any, login_as: Any, services: Path, pruvon_config: Any
) -> None:
    token = login_as("admin")
    dump = http.get("/services/postgres/blog-db/export").get_data()
    started = http.post("/services/postgres/crm-db/import", data=dump,
                        headers={"X-CSRF-Token": token, "X-Filename": "blog-db.dump",
                                 "Content-Type": "application/octet-stream"})
    assert started.status_code == 202, started.get_data(as_text=True)
    task = started.get_json()
    assert task["ws"] == f"/ws/services/import/{task['task']}"
    op = wait_operation(pruvon_config.state_dir, task["task"])
    assert op.status == "succeeded", op.error
    assert (op.result["bytes"], op.result["total"]) == (len(dump), len(dump))
    assert list((Path(pruvon_config.state_dir) / "imports").glob("*")) == []


def test_import_without_the_csrf_header_is_refused(
    dokku_calls: Path, http: Any, login_as: Any, services: Path
) -> None:
    login_as("admin")
    dokku_calls.write_text("")
    refused = http.post("/services/postgres/blog-db/import", data=b"PGDMP" + b"\0" * 64,
                        headers={"Content-Type": "application/octet-stream"})
    assert refused.status_code == 403
    assert [c for c in calls(dokku_calls) if ":import" in c] == []


def test_import_into_a_busy_service_is_refused_before_the_upload(
    http: Any, login_as: Any, busy_cache: Any, pruvon_config: Any
) -> None:
    token = login_as("admin")
    refused = http.post("/services/redis/cache/import", data=b"REDIS0011" + b"\0" * 64,
                        headers={"X-CSRF-Token": token,
                                 "Content-Type": "application/octet-stream"})
    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert "restart redis/cache is running" in refused.get_json()["error"]
    assert list((Path(pruvon_config.state_dir) / "imports").glob("*")) == []


def test_a_kind_whose_plugin_is_not_installed_is_refused_before_any_call(
    dokku_calls: Path, http: Any, login_as: Any, services: Path
) -> None:
    login_as("admin")
    dokku_calls.write_text("")
    page = http.get("/services/mysql/shop")
    assert page.status_code == 400  # as the API answers it
    assert "the mysql plugin is not installed" in page.get_data(as_text=True)
    assert [c for c in calls(dokku_calls) if c.startswith("mysql:")] == []


def test_a_scoped_creator_follows_the_create_and_then_owns_the_service(
    http: Any, login_as: Any, services: Path, pruvon_config: Any, web_app: Any
) -> None:
    """The new service is granted once it exists: its progress is followed under
    /services/create, which the creator may open all along."""
    text = pruvon_config.path.read_text()
    pruvon_config.path.write_text(text.replace(
        "    can_create_apps: true\n", "    can_create_apps: true\n    can_create_services: true\n",
        1))
    token = login_as("alice")
    response = post(http, "/services/create", token, type="postgres", name="alice-db")
    assert response.headers["Location"].startswith("/services/create?operation=")
    page = http.get(response.headers["Location"])
    assert page.status_code == 200 and 'id="op-progress"' in page.get_data(as_text=True)
    op = wait_operation(pruvon_config.state_dir, op_id(response))
    assert op.status == "succeeded", op.error
    assert http.get("/services/postgres/alice-db").status_code == 200
    admin = web_app.test_client()  # another actor's create is not theirs to follow there
    token = csrf_from(admin.get("/login").get_data(as_text=True))
    admin.post("/login", data={"username": "admin", "csrf_token": token,
                               "password": pruvon_config.passwords["admin"]})
    assert admin.get(response.headers["Location"]).status_code == 404


@pytest.fixture
def busy_cache(services: Path, pruvon_config: Any) -> Any:
    """An operation holding redis/cache (another worker's restart) until the test ends."""
    import threading

    from pruvon_core.operations import OperationManager

    gate = threading.Event()
    busy = OperationManager(pruvon_config.state_dir).start(
        "services.restart", "service:redis/cache", ["run"], lambda ctx: gate.wait(30),
        title="restart redis/cache")
    yield busy
    gate.set()
    wait_operation(pruvon_config.state_dir, busy.id)


def test_cancel_needs_the_permission_that_starts_the_operation(
    http: Any, login_as: Any, busy_cache: Any, pruvon_config: Any
) -> None:
    from pruvon_core.operations import OperationStore

    token = login_as("victor")  # a viewer: sees nothing of redis/cache
    assert http.post(f"/services/redis/cache/operations/{busy_cache.id}/cancel",
                     data={"csrf_token": token}).status_code == 403
    assert not OperationStore(pruvon_config.state_dir).cancel_requested(busy_cache.id)


def test_the_operation_page_offers_cancel_while_running(
    http: Any, login_as: Any, busy_cache: Any, pruvon_config: Any
) -> None:
    from pruvon_core.operations import OperationStore

    token = login_as("alice")  # redis * is hers
    page = http.get(f"/services/redis/cache/operations/{busy_cache.id}").get_data(as_text=True)
    assert 'id="op-cancel"' in page
    done = http.post(f"/services/redis/cache/operations/{busy_cache.id}/cancel",
                     data={"csrf_token": token})
    assert done.status_code == 303
    assert OperationStore(pruvon_config.state_dir).cancel_requested(busy_cache.id)
