"""One operations layer: the CLI, the pages and the API run an operation the same way.

The same operation through each front end must leave the same audit records
(action, target, result, phase and details, in the same order) and the same
creator grant; only what names the front end (``via``, ``os_user``), the
actor, the client address and the operation's id may differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pruvon_apps import cli, operations, service

from pruvon_core import audit
from pruvon_core.cli import CliContext
from pruvon_core.operations import OperationStore
from pruvon_core.permissions import actor_for_user
from tests.apps.conftest import wait_operation

PRUVON = str(Path(sys.executable).parent / "pruvon")
FRONT_END_FIELDS = {"via", "os_user", "operation"}


def records(state_dir: Path, start: int = 0) -> list[tuple[Any, ...]]:
    """The audit records from ``start`` on, without the fields that name the front end."""
    return [(e.action, e.target, e.result,
             sorted((k, repr(v)) for k, v in e.details.items() if k not in FRONT_END_FIELDS))
            for e in audit.read(state_dir=state_dir)[start:]]


def finished(state_dir: Path, op_id: str, timeout: float = 60.0) -> Any:
    """The finished operation, once its outcome is in the audit log (written just after)."""
    op = wait_operation(state_dir, op_id, timeout)
    deadline = time.monotonic() + timeout
    while not any(e.details.get("operation") == op_id for e in audit.read(state_dir=state_dir)):
        assert time.monotonic() < deadline, f"no outcome record for operation {op_id}"
        time.sleep(0.05)
    return op


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PRUVON, *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120, check=False)


def op_from(response: Any) -> str:
    if response.is_json:
        return response.get_json()["id"]
    return response.headers["Location"].rsplit("/", 1)[1]


def test_restart_is_audited_alike_by_cli_page_and_api(
    http: Any, login_as: Any, pruvon_config: Any
) -> None:
    state = pruvon_config.state_dir
    token = login_as("admin")

    mark = len(audit.read(state_dir=state))
    assert run_cli("apps", "restart", "blog").returncode == 0
    by_cli = records(state, mark)

    mark = len(audit.read(state_dir=state))
    page = http.post("/apps/blog/ps", data={"csrf_token": token, "action": "restart"})
    assert page.status_code == 303
    assert finished(state, op_from(page)).status == "succeeded"
    by_page = records(state, mark)

    mark = len(audit.read(state_dir=state))
    api = http.post("/api/v1/apps/blog/ps", json={"action": "restart"},
                    headers={"X-CSRF-Token": token})
    assert api.status_code == 202, api.get_data(as_text=True)
    assert finished(state, op_from(api)).status == "succeeded"
    by_api = records(state, mark)

    started = ("apps.ps.write", "app:blog", "ok",
               [("phase", "'started'"), ("process", "None"), ("ps", "'restart'")])
    assert by_cli[0] == started
    assert [r[:3] for r in by_cli] == [("apps.ps.write", "app:blog", "ok")] * 2
    assert by_cli == by_page == by_api


def test_refused_input_leaves_no_record_and_no_operation_on_any_front_end(
    http: Any, login_as: Any, pruvon_config: Any, dokku_calls: Path
) -> None:
    """``process`` on a stop is refused by the spec's check, before Dokku or the audit."""
    state = pruvon_config.state_dir
    token = login_as("admin")
    mark = len(audit.read(state_dir=state))
    assert run_cli("apps", "stop", "blog", "--process", "web").returncode == 2
    page = http.post("/apps/blog/ps", data={"csrf_token": token, "action": "stop",
                                           "process": "web"})
    api = http.post("/api/v1/apps/blog/ps", json={"action": "stop", "process": "web"},
                    headers={"X-CSRF-Token": token})
    assert page.status_code == 400 and "only restart" in page.get_data(as_text=True)
    assert api.status_code == 400 and "only restart" in api.get_json()["error"]
    assert records(state, mark) == []
    assert OperationStore(state).list() == []
    assert "ps:stop" not in dokku_calls.read_text()


def test_creator_grant_and_audit_are_the_same_through_page_api_and_cli_runner(
    http: Any, login_as: Any, pruvon_config: Any
) -> None:
    """A scoped user with ``can_create_apps`` creates an app through each entry point.

    The CLI is the ``system`` actor on a real host (no grant: it needs none),
    so its entry point (``cli.run_operation``) is given alice's actor here:
    the runner, not the front end, must be what grants and audits.
    """
    state = pruvon_config.state_dir
    token = login_as("alice")
    results = {}

    mark = len(audit.read(state_dir=state))
    page = http.post("/apps/create", data={"csrf_token": token, "name": "by-page",
                                           "image": "example/web:1"})
    assert page.status_code == 303, page.get_data(as_text=True)
    assert finished(state, op_from(page)).status == "succeeded"
    results["page"] = records(state, mark)

    mark = len(audit.read(state_dir=state))
    api = http.post("/api/v1/apps", json={"name": "by-api", "image": "example/web:1"},
                    headers={"X-CSRF-Token": token})
    assert api.status_code == 202, api.get_data(as_text=True)
    assert finished(state, op_from(api)).status == "succeeded"
    results["api"] = records(state, mark)

    mark = len(audit.read(state_dir=state))
    env = cli.Env(CliContext(pruvon_config.path))
    alice = actor_for_user(pruvon_config.config().user("alice"))
    env.runner = operations.runner(
        service.Guard(alice, pruvon_config.config(), state, extra={"via": "cli"}), env.deps)
    request = cli.build_create_request("by-cli", image="example/web:1")
    assert cli.run_operation(env, operations.CREATE, "by-cli", request=request).status \
        == "succeeded"
    results["cli"] = records(state, mark)

    granted = pruvon_config.user("alice").apps
    assert {"by-page", "by-api", "by-cli"} <= set(granted)
    shapes = {name: [(a, t.replace(name_of(t), "NEW"), r, d) for a, t, r, d in rows]
              for name, rows in results.items() for name_of in [lambda t: t.split(":")[1]]}
    assert shapes["page"] == shapes["api"] == shapes["cli"]
    assert [(a, r, dict(d).get("phase")) for a, _, r, d in shapes["page"]] == [
        ("apps.create", "ok", "'started'"), ("apps.create", "ok", None)]


def test_the_system_actor_gets_no_grant(pruvon_config: Any, sim_root: Path) -> None:
    """``pruvon apps create`` as root grants nobody anything: the config is untouched."""
    before = pruvon_config.path.read_bytes()
    result = run_cli("apps", "create", "by-root", "--image", "example/web:1")
    assert result.returncode == 0, result.stderr
    assert pruvon_config.path.read_bytes() == before
    started = [e for e in audit.read(state_dir=pruvon_config.state_dir)
               if e.action == "apps.create" and e.details.get("phase") == "started"]
    assert [e.target for e in started] == ["app:by-root"]


def test_a_busy_app_is_refused_and_audited_alike_by_cli_page_and_api(
    http: Any, login_as: Any, pruvon_config: Any, sim_root: Path
) -> None:
    """The per-app lock refuses every front end the same way (exit 3 / 409), and the
    refused start has an outcome in the audit log, not only a ``started`` record."""
    import threading

    from pruvon_core.operations import OperationManager

    state = pruvon_config.state_dir
    token = login_as("admin")
    release = threading.Event()
    holder = OperationManager(state).start(
        "apps.ps", "app:blog", ["hold"], lambda ctx: release.wait(60) and None, title="hold")
    try:
        mark = len(audit.read(state_dir=state))
        busy_cli = run_cli("apps", "restart", "blog")
        by_cli = records(state, mark)
        mark = len(audit.read(state_dir=state))
        busy_page = http.post("/apps/blog/ps", data={"csrf_token": token, "action": "restart"})
        by_page = records(state, mark)
        mark = len(audit.read(state_dir=state))
        busy_api = http.post("/api/v1/apps/blog/ps", json={"action": "restart"},
                             headers={"X-CSRF-Token": token})
        by_api = records(state, mark)
    finally:
        release.set()
    assert busy_cli.returncode == 3 and "busy" in busy_cli.stderr
    assert busy_page.status_code == 409 and busy_api.status_code == 409
    assert [(a, r, dict(d).get("phase")) for a, _, r, d in by_cli] == [
        ("apps.ps.write", "ok", "'started'"), ("apps.ps.write", "failed", None)]
    assert holder.id in dict(by_cli[1][3])["error"]
    assert by_cli == by_page == by_api
