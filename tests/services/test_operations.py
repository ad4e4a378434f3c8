"""Every service operation on the simulator, and Dokku's error paths.

Operations run through the one runner (validate, permit, lock, audit), as
every front end runs them.  Bad input is refused before Dokku: the client's
call log (``client.calls``) stays empty.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pluggy
import pytest
from pruvon_services import operations as ops
from pruvon_services.public import ServicesDeps, ServicesError, runner

from pruvon_core import audit, hookspecs
from pruvon_core.guard import Guard, HostAccessDenied
from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import PermissionDenied, actor_for_user
from tests.services.conftest import sim


@pytest.fixture
def run_op(client: Any, system_guard: Guard) -> Any:
    """Run a spec to its end as the system actor; returns the finished operation."""
    deps = ServicesDeps(client, system_guard.state_dir)
    run = runner(system_guard, deps)

    def go(spec: Any, target: str, **params: Any) -> Any:
        op = run.start(spec, target, params)
        return run.wait(op, 60)

    go.runner = run  # type: ignore[attr-defined]
    return go


def only_reads(client: Any) -> bool:
    """Nothing but the kind lookup reached Dokku (``version``, ``plugin:list``)."""
    return all(c.argv[0] in ("version", "plugin:list") for c in client.calls)


def ok(op: Any) -> Any:
    assert op.status == "succeeded", op.error
    return op


def test_create_with_flags_and_link_then_info(host: Path, client: Any, run_op: Any) -> None:
    op = ok(run_op(ops.CREATE, "postgres/db1", flags={"image-version": "17.2"},
                   link=["blog"]))
    assert op.percent == 100.0 and [s.name for s in op.steps] == ["create", "link blog"]
    assert b"postgres:17.2" in sim(host, "postgres:info", "db1", "--version")
    assert b"DATABASE_URL" in sim(host, "config:show", "blog")
    events = [(e.action, e.result, e.details.get("phase")) for e in
              audit.read(state_dir=run_op.runner.state_dir)]
    assert events == [("services.create", "ok", "started"), ("services.create", "ok", None)]
    assert audit.read(state_dir=run_op.runner.state_dir)[0].target == "service:postgres/db1"


def test_create_of_a_taken_name_fails_with_dokkus_text(host: Path, run_op: Any) -> None:
    sim(host, "postgres:create", "db1")
    op = run_op(ops.CREATE, "postgres/db1")
    assert op.status == "failed" and "Postgres service db1 already exists" in op.error


@pytest.mark.parametrize("name", ["a;b", "$(reboot)", "db\n1", "-x", "bad name", "a.b", "",
                                  "a/b"])
def test_bad_names_never_reach_dokku(client: Any, run_op: Any, name: str) -> None:
    with pytest.raises(ServicesError):
        run_op(ops.CREATE, f"postgres/{name}")
    assert only_reads(client)


@pytest.mark.parametrize("flags", [{"image": "x;rm -rf /"}, {"memory": "-1"},
                                   {"custom-env": "A=1\nB=2"}, {"privileged": "true"},
                                   {"password": "p w"}, {"image-version": "$(id)"}])
def test_bad_flags_never_reach_dokku(client: Any, run_op: Any, flags: dict) -> None:
    with pytest.raises(ServicesError):
        run_op(ops.CREATE, "postgres/db1", flags=flags)
    assert not [c for c in client.calls if "create" in c.argv[0]]


def test_unknown_kind_and_missing_plugin(client: Any, run_op: Any) -> None:
    with pytest.raises(ServicesError, match="mysql plugin is not installed"):
        run_op(ops.CREATE, "mysql/db1")
    with pytest.raises(ServicesError, match="service type"):
        run_op(ops.CREATE, "Post;gres/db1")
    assert only_reads(client)


def test_lifecycle_expose_unexpose(host: Path, run_op: Any) -> None:
    sim(host, "redis:create", "cache")
    ok(run_op(ops.STOP, "redis/cache"))
    assert sim(host, "redis:info", "cache", "--status").strip() == b"missing"
    ok(run_op(ops.START, "redis/cache"))
    ok(run_op(ops.RESTART, "redis/cache"))
    assert sim(host, "redis:info", "cache", "--status").strip() == b"running"
    ok(run_op(ops.EXPOSE, "redis/cache", ports=["16379"]))
    assert b"6379->16379" in sim(host, "redis:info", "cache", "--exposed-ports")
    op = run_op(ops.EXPOSE, "redis/cache")
    assert op.status == "failed" and "already exposed" in op.error
    ok(run_op(ops.UNEXPOSE, "redis/cache"))
    ok(run_op(ops.EXPOSE, "redis/cache"))  # random port
    assert b"6379->" in sim(host, "redis:info", "cache", "--exposed-ports")
    with pytest.raises(ServicesError, match="at most"):
        run_op(ops.EXPOSE, "redis/cache", ports=["1", "2"])
    with pytest.raises(ServicesError, match="PORT or IPV4:PORT"):
        run_op(ops.EXPOSE, "redis/cache", ports=["0.0.0.0:1;x"])


def test_link_alias_unlink_and_linked_destroy(host: Path, run_op: Any) -> None:
    sim(host, "postgres:create", "db1")
    ok(run_op(ops.LINK, "postgres/db1", app="blog", alias="REPORTS",
              querystring="sslmode=disable"))
    env = sim(host, "config:show", "blog").decode()
    assert "REPORTS_URL:" in env and "?sslmode=disable" in env
    op = run_op(ops.LINK, "postgres/db1", app="blog", alias="REPORTS")
    assert op.status == "failed" and "already in use" in op.error
    op = run_op(ops.DESTROY, "postgres/db1", confirm="db1")
    assert op.status == "failed" and "unlink blog first" in op.error
    assert b"db1" in sim(host, "postgres:list")
    ok(run_op(ops.UNLINK, "postgres/db1", app="blog"))
    op = run_op(ops.UNLINK, "postgres/db1", app="blog")
    assert op.status == "failed" and "Not linked to app blog" in op.error
    ok(run_op(ops.DESTROY, "postgres/db1", confirm="db1"))
    assert b"db1" not in sim(host, "postgres:list")


def test_link_refuses_a_missing_app_and_a_bad_alias(host: Path, client: Any,
                                                    run_op: Any) -> None:
    sim(host, "postgres:create", "db1")
    op = run_op(ops.LINK, "postgres/db1", app="nope")
    assert op.status == "failed" and "App nope does not exist" in op.error
    client.reset_calls()
    for params in ({"app": "blog", "alias": "A;B"}, {"app": "-x"},
                   {"app": "blog", "querystring": "a=1 b"}, {}):
        with pytest.raises(ServicesError):
            run_op(ops.LINK, "postgres/db1", **params)
    assert not [c for c in client.calls if ":link" in c.argv[0]]


def test_destroy_needs_the_typed_name_and_a_service_that_exists(host: Path, client: Any,
                                                                 run_op: Any) -> None:
    sim(host, "postgres:create", "db1")
    with pytest.raises(ServicesError, match=r"type the service name \(db1\)"):
        run_op(ops.DESTROY, "postgres/db1", confirm="db2")
    assert not [c for c in client.calls if ":destroy" in c.argv[0]]
    op = run_op(ops.DESTROY, "postgres/ghost", confirm="ghost")
    assert op.status == "failed" and "Postgres service ghost does not exist" in op.error


def test_destroy_runs_the_safeguards_first(host: Path, client: Any,
                                           system_guard: Guard) -> None:
    sim(host, "postgres:create", "db1")
    seen: list[dict] = []

    class Refusing:
        @hookimpl
        def pruvon_before_destroy(self, target: dict) -> dict:
            seen.append(target)
            return {"ok": False, "message": "backup failed: disk full"}

    pm = pluggy.PluginManager("pruvon")
    pm.add_hookspecs(hookspecs)
    pm.register(Refusing())
    deps = ServicesDeps(client, system_guard.state_dir, pruvon=SimpleNamespace(plugins=pm))
    run = runner(system_guard, deps)
    op = run.wait(run.start(ops.DESTROY, "postgres/db1", {"confirm": "db1"}), 60)
    assert op.status == "failed" and "backup failed: disk full" in op.error
    assert seen == [{"kind": "service", "type": "postgres", "name": "db1"}]
    assert b"db1" in sim(host, "postgres:list")


def test_clone_and_upgrade(host: Path, run_op: Any) -> None:
    sim(host, "postgres:create", "db1")
    ok(run_op(ops.CLONE, "postgres/db1", new_name="db1-copy"))
    assert b"db1-copy" in sim(host, "postgres:list")
    with pytest.raises(ServicesError, match="new name"):
        run_op(ops.CLONE, "postgres/db1", new_name="db1")
    ok(run_op(ops.UPGRADE, "postgres/db1", flags={"image-version": "18.5"}))
    assert sim(host, "postgres:info", "db1", "--version").strip() == b"postgres:18.5"
    with pytest.raises(ServicesError, match="unknown flag"):
        run_op(ops.UPGRADE, "postgres/db1", flags={"password": "x"})


def _scoped_runner(pruvon_config: Any, client: Any, user: str) -> Any:
    config = pruvon_config.config()
    guard = Guard(actor_for_user(config.user(user)), config, pruvon_config.state_dir)
    deps = ServicesDeps(client, pruvon_config.state_dir, store=pruvon_config.store)
    return runner(guard, deps)


def test_scoped_user_is_limited_to_the_grant_and_owns_what_it_creates(
        host: Path, client: Any, pruvon_config: Any) -> None:
    """alice: postgres ``blog-db``, apps ``blog`` and ``shop-*``; may create services here."""
    text = pruvon_config.path.read_text()
    pruvon_config.write(text.replace("    can_create_apps: true\n",
                                     "    can_create_apps: true\n    can_create_services: true\n",
                                     1))
    sim(host, "postgres:create", "blog-db")
    sim(host, "postgres:create", "theirs")
    run = _scoped_runner(pruvon_config, client, "alice")
    assert run.wait(run.start(ops.RESTART, "postgres/blog-db", {}), 60).status == "succeeded"
    client.reset_calls()
    with pytest.raises(PermissionDenied):
        run.start(ops.RESTART, "postgres/theirs", {})
    with pytest.raises(PermissionDenied):  # the app is not alice's
        run.start(ops.LINK, "postgres/blog-db", {"app": "secret"})
    with pytest.raises(HostAccessDenied) as refused:  # raw docker options: admins only
        run.start(ops.CREATE, "postgres/new", {"flags": {"config-options": "-v /:/host"}})
    assert "--config-options" in refused.value.reason
    assert not [c for c in client.calls if ":restart" in c.argv[0] or ":link" in c.argv[0]
                or ":create" in c.argv[0]]
    op = run.wait(run.start(ops.CREATE, "postgres/new", {}), 60)
    assert op.status == "succeeded", op.error
    assert "new" in pruvon_config.user("alice").services["postgres"]


def test_operation_targets_allow_one_service_slash_and_no_path(tmp_path: Path) -> None:
    from pruvon_core.operations import OperationError, OperationManager

    manager = OperationManager(tmp_path)
    done = manager.run("t", "service:postgres/db-1", ["one"], lambda ctx: None)
    assert done.status == "succeeded"
    for bad in ("service:postgres/../x", "service:postgres/a/b", "app:../x", "service:/x"):
        with pytest.raises(OperationError):
            manager.run("t", bad, ["one"], lambda ctx: None)


def test_long_changes_show_dokkus_output_as_it_comes(host: Path, run_op: Any) -> None:
    from pruvon_core.operations import OperationStore

    sim(host, "postgres:create", "db1")
    op = ok(run_op(ops.LINK, "postgres/db1", app="blog"))
    output = OperationStore(run_op.runner.state_dir).output(op.id)
    assert any("DATABASE_URL" in line for line in output)
    assert any("Restarting app blog" in line for line in output)
