"""The apps service layer against the Dokku simulator (real sim executables)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pruvon_apps import service

from pruvon_core import audit
from pruvon_core.dokku import errors
from pruvon_core.operations import OperationManager, StepTimeout
from pruvon_core.permissions import SYSTEM, PermissionDenied, actor_for_user
from pruvon_testing.fixtures_client import client_for_sim
from pruvon_testing.sim.core import SimState
from tests.apps.conftest import register_image, sim

TRICKY = {
    "NEWLINES": "line one\nline two\n",
    "QUOTES": "it's \"quoted\" inside",
    "DOLLAR": "$HOME ${PATH} $(whoami) `id`",
    "BACKSLASH": "C:\\path\\inside\\ and \\\\ double",
    "UNICODE": "ünïcödé ✓ 日本語 🚀",
    "SPACES": "  padded  ",
    "EQUALS": "a=b=c",
    "EMPTY": "",
    "SINGLE": "'",
    "MIXED": "\\\"'$\n\t",
}


def op_run(tmp_path: Path, steps: list[str], runner: Any, target: str = "app:blog",
           kind: str = "test") -> Any:
    return OperationManager(tmp_path / "state").run(kind, target, steps, runner)


# --------------------------------------------------------------------------- list
def test_list_shows_state_processes_and_filters(apps_client: Any) -> None:
    rows = {r.name: r for r in service.list_apps(apps_client)}
    assert set(rows) == {"blog", "empty", "secret", "shop-api"}
    assert rows["blog"].state == "running" and rows["blog"].processes == {"web": "1/1"}
    assert rows["empty"].state == "not deployed" and rows["empty"].total == 0
    assert rows["blog"].last_deploy and rows["blog"].last_deploy.startswith("20")
    assert rows["empty"].last_deploy is None
    visible = service.list_apps(apps_client, lambda name: name != "secret")
    assert "secret" not in {r.name for r in visible}
    assert [r.name for r in service.list_apps(apps_client, query="SHOP")] == ["shop-api"]
    assert [r.name for r in service.list_apps(apps_client, query="not deployed")] == ["empty"]
    with_domains = service.list_apps(apps_client, query="example.org",
                                     domains={"blog": ["blog.example.org"]})
    assert [r.name for r in with_domains] == ["blog"]


def _calls_for(root: Path, count: int) -> list[Any]:
    for index in range(count):
        sim(root, "apps:create", f"app-{index:03d}")
    client = client_for_sim(root)
    client.version()
    client.reset_calls()
    rows = service.list_apps(client)
    assert len(rows) == count
    return client.calls


def test_list_makes_a_constant_number_of_calls_for_1_and_200_apps(tmp_path: Path) -> None:
    one = _calls_for(tmp_path / "one", 1)
    many = _calls_for(tmp_path / "many", 200)
    assert [c.argv for c in one] == [c.argv for c in many]
    assert len(many) <= 3
    for call in many:  # never one call per app
        assert not any(word.startswith("app-") for word in call.argv), call.argv


def test_last_deploy_from_container_creation() -> None:
    assert service.docker_time("2026-11-22 12:00:01 +0000 UTC") == "2026-11-22T12:00:01+00:00"
    assert service.docker_time("garbage") is None


def test_domain_index_refresh_update_and_staleness(apps_client: Any, tmp_path: Path) -> None:
    index = service.DomainIndex(tmp_path)
    assert index.load() == ({}, None) and index.stale(["blog"])
    service.change_domains(apps_client, "blog", "add", ["blog.example.com"])
    found = index.refresh(apps_client)
    assert found["blog"] == ["blog.example.com"] and found["empty"] == []
    assert not index.stale(["blog", "empty"])
    assert index.stale(["blog", "new-app"])
    index.update("blog", ["other.example.com"])
    assert index.load()[0]["blog"] == ["other.example.com"]
    index.update("blog", None)
    assert "blog" not in index.load()[0]
    assert os.stat(index.path).st_mode & 0o777 == 0o600


# --------------------------------------------------------------------------- detail
def test_detail_of_a_deployed_and_a_missing_app(apps_client: Any) -> None:
    detail = service.app_detail(apps_client, "blog")
    assert detail.state == "running" and detail.scale == {"web": 1}
    assert detail.deploy_source_metadata == "example/web:1"
    with pytest.raises(errors.AppNotFound):
        service.app_detail(apps_client, "nope")
    with pytest.raises(errors.InvalidName):
        service.app_detail(apps_client, "-rf")


# --------------------------------------------------------------------------- config
def test_config_values_of_any_text_round_trip(apps_client: Any) -> None:
    service.set_config(apps_client, "blog", TRICKY)
    assert {k: v for k, v in apps_client.config("blog").items() if k in TRICKY} == TRICKY
    # a later, unrelated set re-serialises the file: still intact
    service.set_config(apps_client, "blog", {"LATER": "1"})
    assert {k: v for k, v in apps_client.config("blog").items() if k in TRICKY} == TRICKY
    masked = dict(service.config_view(apps_client, "blog", reveal=False))
    assert set(masked.values()) == {service.MASK}


@pytest.mark.parametrize(("value", "message"), [
    ('say "hi"', r"ends with '\"'"), ("C:\\dir\\", "ends with a backslash"),
])
def test_config_refuses_values_dokku_would_corrupt_before_any_call(
    apps_client: Any, value: str, message: str
) -> None:
    apps_client.reset_calls()
    with pytest.raises(service.AppsError, match=message):
        service.set_config(apps_client, "blog", {"Q": value, "OK": "1"})
    assert apps_client.calls == []
    assert "Q" not in apps_client.config("blog")


def test_config_multi_edit_set_and_unset(apps_client: Any) -> None:
    service.set_config(apps_client, "blog", {"A": "1", "B": "2"})
    service.set_config(apps_client, "blog", {"C": "3"}, unset=["A"])
    values = apps_client.config("blog")
    assert "A" not in values and values["B"] == "2" and values["C"] == "3"


@pytest.mark.parametrize(("values", "unset", "message"), [
    ({"1BAD": "x"}, [], "config key '1BAD' is invalid"),
    ({"BAD-KEY": "x"}, [], "config key 'BAD-KEY' is invalid"),
    ({"A": "x"}, ["A"], "cannot both set and remove A"),
    ({}, [], "nothing to change"),
    ({"A": "x\x00y"}, [], "NUL byte"),
    ({}, ["no-such key"], "config key"),
])
def test_config_bad_input_is_named(values: dict, unset: list, message: str) -> None:
    with pytest.raises(service.AppsError, match=message):
        service.check_config_change(values, unset)


def test_config_on_a_missing_app(apps_client: Any) -> None:
    with pytest.raises(errors.AppNotFound):
        service.set_config(apps_client, "nope", {"A": "1"})


def test_config_with_restart_streams_output_into_the_operation(
    apps_client: Any, tmp_path: Path
) -> None:
    def runner(ctx: Any) -> None:
        ctx.step("apply")
        service.set_config(apps_client, "blog", {"R": "1"}, restart=True, ctx=ctx)
        ctx.done()

    op = op_run(tmp_path, ["apply"], runner)
    assert op.status == "succeeded", op.error
    output = OperationManager(tmp_path / "state").store.output(op.id)
    assert any("Setting config vars" in line for line in output)
    assert any("Deploying" in line or "Releasing" in line or "Restarting" in line
               for line in output), output


def test_dotenv_escapes_what_a_dotenv_parser_would_expand() -> None:
    text = service.dotenv({"B": 'a"b$c\\d\ne', "A": "plain"})
    assert text == 'A="plain"\nB="a\\"b\\$c\\\\d\\ne"\n'
    assert service.dotenv({}) == ""


# --------------------------------------------------------------------------- domains/ports
def test_domains_lifecycle_and_errors(apps_client: Any) -> None:
    assert service.change_domains(apps_client, "blog", "add", ["a.example.com", "B.example.com"]) \
        == ["a.example.com", "b.example.com"]
    assert service.change_domains(apps_client, "blog", "remove", ["a.example.com"]) \
        == ["b.example.com"]
    assert service.change_domains(apps_client, "blog", "set", ["c.example.com"]) \
        == ["c.example.com"]
    assert service.change_domains(apps_client, "blog", "clear", []) == []
    for bad in (["-x.com"], ["a..b"], ["has space.com"], []):
        with pytest.raises(errors.DokkuError):
            service.change_domains(apps_client, "blog", "add", bad)
    with pytest.raises(service.AppsError, match="domain action"):
        service.change_domains(apps_client, "blog", "rename", ["x.com"])
    with pytest.raises(errors.AppNotFound):
        service.change_domains(apps_client, "nope", "add", ["x.example.com"])


def test_ports_parse_and_change(apps_client: Any) -> None:
    assert service.parse_port("http:80:5000") == ("http", 80, 5000)
    for bad, message in (("http:80", "scheme:host-port"), ("ftp:21:21", "scheme"),
                         ("http:0:5000", "host port"), ("http:80:x", "container port")):
        with pytest.raises(service.AppsError, match=message):
            service.parse_port(bad)
    service.change_ports(apps_client, "blog", "set", ["http:8080:5000"])
    assert [str(m) for m in apps_client.ports("blog").configured] == ["http:8080:5000"]
    service.change_ports(apps_client, "blog", "add", ["https:8443:5000"])
    service.change_ports(apps_client, "blog", "remove", ["http:8080:5000"])
    assert [str(m) for m in apps_client.ports("blog").configured] == ["https:8443:5000"]
    with pytest.raises(service.AppsError, match="at least one"):
        service.change_ports(apps_client, "blog", "add", [])


# --------------------------------------------------------------------------- storage
@pytest.mark.parametrize("bad", [
    "../etc", "/etc/passwd", "/var/lib/dokku/data/storage/../../../etc",
    "/var/lib/dokku/data/storage", "/var/lib/dokku/data/storage/", "a/./b", "a//b",
    "/var/lib/dokku/data/storage-evil/x", "a:b", "a,b", "", "x\n", "uploads/",
])
def test_storage_host_path_stays_inside_the_storage_dir(bad: str) -> None:
    with pytest.raises(service.AppsError):
        service.storage_host_path(bad)


def test_storage_host_path_accepts_names_and_inner_paths() -> None:
    base = service.STORAGE_DIR
    assert service.storage_host_path("uploads") == f"{base}/uploads"
    assert service.storage_host_path(f"{base}/blog/data") == f"{base}/blog/data"
    assert service.storage_host_path("x", "/srv/storage") == "/srv/storage/x"


def test_storage_mount_and_unmount(apps_client: Any) -> None:
    service.storage_change(apps_client, "blog", True, "blog-uploads", "/app/uploads")
    mounts = service.storage_list(apps_client, "blog")
    assert [(m.host_path, m.container_path) for m in mounts] == [
        (f"{service.STORAGE_DIR}/blog-uploads", "/app/uploads")]
    service.storage_change(apps_client, "blog", False, mounts[0].host_path, "/app/uploads")
    assert service.storage_list(apps_client, "blog") == []
    with pytest.raises(service.AppsError):
        service.storage_change(apps_client, "blog", True, "uploads", "relative/path")


# --------------------------------------------------------------------------- processes
def test_restart_stop_start_are_verified(apps_client: Any, tmp_path: Path) -> None:
    for action in ("stop", "start", "restart", "rebuild"):
        op = op_run(tmp_path, ["run", "verify"],
                    lambda ctx, a=action: service.ps_action(apps_client, "blog", a, ctx=ctx))
        assert op.status == "succeeded", (action, op.error)
        assert [s.status for s in op.steps] == ["done", "done"]
        states = service.process_states(apps_client, "blog")
        assert all(up for _, up in states) == (action != "stop"), (action, states)


def test_restart_of_one_process_type(apps_client: Any, tmp_path: Path) -> None:
    op = op_run(tmp_path, ["run", "verify"],
                lambda ctx: service.ps_action(apps_client, "blog", "restart", "web", ctx))
    assert op.status == "succeeded", op.error
    with pytest.raises(service.AppsError, match="only restart"):
        service.ps_action(apps_client, "blog", "stop", "web")
    with pytest.raises(service.AppsError, match="action must be"):
        service.ps_action(apps_client, "blog", "explode")


def test_lifecycle_on_never_deployed_and_missing_apps(apps_client: Any) -> None:
    with pytest.raises(errors.NotDeployed):
        service.ps_action(apps_client, "empty", "restart")
    with pytest.raises(errors.NotDeployed):
        service.ps_action(apps_client, "empty", "stop")
    with pytest.raises(errors.AppNotFound):
        service.ps_action(apps_client, "nope", "restart")


def test_scale_reaches_the_wanted_counts(apps_client: Any, tmp_path: Path) -> None:
    op = op_run(tmp_path, ["run", "verify"],
                lambda ctx: service.scale(apps_client, "blog", {"web": 2}, ctx))
    assert op.status == "succeeded", op.error
    assert op.percent == 100.0
    assert service.list_apps(apps_client, query="blog")[0].processes == {"web": "2/2"}
    assert service.parse_scale(["web=3", "worker=0"]) == {"web": 3, "worker": 0}
    for bad in (["web"], ["web=-1"], ["web=two"], ["-x=1"], [], ["web=1001"]):
        with pytest.raises(service.AppsError):
            service.parse_scale(bad)


def test_wait_for_state_times_out_with_a_clear_message(apps_client: Any) -> None:
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(StepTimeout, match="did not reach the expected state within 3 s"):
        service.wait_for_state(apps_client, "blog", {"web": 5}, False, timeout=3,
                               clock=clock, sleep=sleep)


# --------------------------------------------------------------------------- create
def test_create_with_everything(apps_client: Any, tmp_path: Path) -> None:
    request = service.CreateRequest(
        name="shop-new", image="example/web:1", domains=["shop.example.com"],
        env={"MULTI": "a\nb", "Q": "it's"}, ports=["http:80:5000"],
        mounts=[("shop-uploads", "/app/uploads")],
        services=[service.ServiceLink("postgres", "shop-db", create=True)],
    )
    service.check_create(apps_client, request)
    granted = []
    steps = service.create_steps(request)
    op = op_run(tmp_path, steps, lambda ctx: service.run_create(
        apps_client, request, ctx, after_create=granted.append), target="app:shop-new")
    assert op.status == "succeeded", op.error
    assert granted == ["shop-new"]
    assert [s.status for s in op.steps] == ["done"] * len(steps)
    assert apps_client.config("shop-new")["MULTI"] == "a\nb"
    assert "DATABASE_URL" in apps_client.config("shop-new")
    assert apps_client.domains("shop-new").app_vhosts == ["shop.example.com"]
    assert service.list_apps(apps_client, query="shop-new")[0].state == "running"
    assert [m.container_path for m in apps_client.storage("shop-new")] == ["/app/uploads"]


def test_create_validation_names_every_problem(apps_client: Any) -> None:
    request = service.CreateRequest(name="blog", image="bad image", domains=["-x.com"],
                                    ports=["http:80"], env={"1X": "y"},
                                    mounts=[("../etc", "/x")])
    with pytest.raises(service.AppsError) as info:
        service.check_create(apps_client, request)
    text = str(info.value)
    for part in ("already exists", "image", "domains", "ports", "env", "mounts"):
        assert part in text, (part, text)
    assert service.check_name(apps_client, "Bad_Name") is not None
    assert service.check_name(apps_client, "fresh") is None
    with pytest.raises(service.AppsError, match="either a docker image or a git"):
        service.check_create(apps_client, service.CreateRequest(
            name="x1", image="a:1", git_repo="https://example.com/r.git"))


def test_failed_create_lists_done_steps_and_rolls_back(
    apps_client: Any, sim_root: Path, tmp_path: Path
) -> None:
    SimState(sim_root).set_knobs(faults={"git:from-image": {"exit": 1,
                                                            "stderr": " !     pull failed\n"}})
    request = service.CreateRequest(
        name="doomed", image="example/web:1",
        services=[service.ServiceLink("redis", "doomed-cache", create=True)])
    op = op_run(tmp_path, service.create_steps(request),
                lambda ctx: service.run_create(apps_client, request, ctx), target="app:doomed")
    assert op.status == "failed" and "pull failed" in op.error
    assert [s.status for s in op.steps] == ["done", "done", "failed"]
    plan = service.rollback_plan(op.steps)
    assert plan == [("app", "doomed"), ("service", ("redis", "doomed-cache"))]
    SimState(sim_root).set_knobs(faults={})
    undo = op_run(tmp_path, service.rollback_steps(plan),
                  lambda ctx: service.run_rollback(apps_client, plan, ctx), target="app:doomed")
    assert undo.status == "succeeded", undo.error
    assert "doomed" not in apps_client.list_apps()
    assert not apps_client.service_exists("redis", "doomed-cache")


# --------------------------------------------------------------------------- destroy
def test_destroy_needs_the_name_and_writes_a_snapshot_first(
    apps_client: Any, tmp_path: Path
) -> None:
    service.set_config(apps_client, "blog", {"KEEP": "me"})
    service.change_domains(apps_client, "blog", "add", ["blog.example.com"])
    with pytest.raises(service.AppsError, match="type the app name"):
        service.destroy(apps_client, "blog", "blgo", tmp_path)
    assert "blog" in apps_client.list_apps()
    result = service.destroy(apps_client, "blog", "blog", tmp_path)
    snapshot = Path(result["snapshot"])
    data = json.loads(snapshot.read_text())
    assert data["env"]["KEEP"] == "me" and data["domains"] == ["blog.example.com"]
    assert data["scale"] == {"web": 1} and "ports" in data and "storage" in data
    assert snapshot.stat().st_mode & 0o777 == 0o600
    assert "blog" not in apps_client.list_apps()
    with pytest.raises(errors.AppNotFound):
        service.destroy(apps_client, "blog", "blog", tmp_path)


def test_destroy_with_services_keeps_shared_ones(
    apps_client: Any, sim_root: Path, tmp_path: Path
) -> None:
    for argv in (("postgres:create", "own-db"), ("postgres:link", "own-db", "blog"),
                 ("postgres:create", "shared-db"), ("postgres:link", "shared-db", "blog"),
                 ("postgres:link", "shared-db", "shop-api")):
        sim(sim_root, *argv)
    result = service.destroy(apps_client, "blog", "blog", tmp_path, with_services=True)
    assert result["services_destroyed"] == ["postgres:own-db"]
    assert not apps_client.service_exists("postgres", "own-db")
    assert apps_client.service_exists("postgres", "shared-db")


# --------------------------------------------------------------------------- guard
def test_guard_checks_and_audits(pruvon_config: Any) -> None:
    state = pruvon_config.state_dir
    config = pruvon_config.config()
    alice = service.Guard(actor_for_user(config.user("alice")), config, state)
    assert alice.allowed("apps.config.write", "blog")
    assert not alice.allowed("apps.config.write", "secret")
    with pytest.raises(PermissionDenied):
        alice.require("apps.destroy", "secret")
    with alice.mutation("apps.config.write", "blog", set=["A"]):
        pass
    with pytest.raises(RuntimeError), alice.mutation("apps.ps.write", "blog"):
        raise RuntimeError("boom")
    viewer = service.Guard(actor_for_user(config.user("victor")), config, state)
    assert viewer.allowed("apps.read", "blog") and not viewer.allowed("apps.config.read", "blog")
    events = [(e.action, e.target, e.result) for e in audit.read(state_dir=state)]
    assert ("apps.destroy", "app:secret", "denied") in events
    assert ("apps.config.write", "app:blog", "ok") in events
    assert ("apps.ps.write", "app:blog", "failed") in events
    assert service.Guard(SYSTEM).allowed("apps.destroy", "anything")


def test_settings_reports_effective_values_and_skip_missing_plugins(apps_client: Any) -> None:
    settings = service.app_settings(apps_client, "blog")
    assert "letsencrypt" not in settings  # not installed on the simulated host
    assert dict(settings["nginx"])["access-log-path"] == "/var/log/nginx/blog-access.log"
    assert dict(settings["proxy"])["type"] == "nginx"
    assert dict(settings["certs"])["enabled"] == "false"
    assert settings["resource"] == []
    with pytest.raises(errors.AppNotFound):
        service.app_settings(apps_client, "nope")


def test_deploy_remembers_the_image_it_replaced(apps_client: Any, sim_root: Path,
                                                tmp_path: Path) -> None:
    register_image(sim_root, "example/web:2")
    op = op_run(tmp_path, ["deploy"], lambda ctx: service.deploy_image(
        apps_client, "blog", "example/web:2", ctx), kind="apps.deploy")
    assert op.status == "succeeded", op.error
    assert op.result == {"image": "example/web:2", "previous_image": "example/web:1"}
    store = OperationManager(tmp_path / "state").store
    assert service.rollback_image(store.list(target="app:blog")) == "example/web:1"
    assert apps_client.app_report("blog").deploy_source_metadata == "example/web:2"
    first = service.deploy_image(apps_client, "empty", "example/web:1")
    assert first == {"image": "example/web:1", "previous_image": ""}
    with pytest.raises(errors.InvalidName):
        service.deploy_image(apps_client, "blog", "bad image")


def test_nginx_log_sources() -> None:
    assert service.nginx_log_args("blog", "nginx-access") == ["nginx:access-logs", "blog", "-t"]
    assert service.nginx_log_args("blog", "nginx-error", tail=False) == ["nginx:error-logs",
                                                                         "blog"]
    with pytest.raises(service.AppsError, match="log source"):
        service.nginx_log_args("blog", "syslog")
