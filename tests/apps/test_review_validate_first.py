"""Issue 14 finding 6: every field is validated before an operation starts.

``{"action": "restart", "process": "--all"}`` was answered 202 and the
operation failed later.  Bad input must be a 4xx (CLI: exit 2) before any
operation exists and before Dokku is called at all: a recording wrapper
around the simulator logs every ``dokku`` invocation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pruvon_core.operations import OperationStore

SIM = Path(sys.executable).parent / "pruvon-dokku-sim"
PRUVON = str(Path(sys.executable).parent / "pruvon")


def _nothing_happened(pruvon_config: Any, dokku_calls: Path) -> None:
    assert OperationStore(pruvon_config.state_dir).list() == []
    ops_dir = pruvon_config.state_dir / "operations"
    records = [p.name for p in ops_dir.iterdir() if p.name != "locks"] if ops_dir.exists() else []
    assert records == []
    assert dokku_calls.read_text() == ""


API_CASES = [
    ("ps", {"action": "restart", "process": "--all"}, "starts with '-'"),
    ("ps", {"action": "restart", "process": "web;id"}, "process type"),
    ("ps", {"action": "restart", "process": ["web"]}, "process type must be a string"),
    ("ps", {"action": "stop", "process": "web"}, "only restart"),
    ("ps", {"action": "--all"}, "action must be one of"),
    ("ps", {"action": ["restart"]}, "action must be one of"),
    ("ps", {}, "action must be one of"),
    ("scale", {"counts": {"--all": 1}}, "starts with '-'"),
    ("scale", {"counts": {"web": -1}}, "TYPE=COUNT"),
    ("scale", {"counts": {"web": 10**30}}, "web"),
    ("scale", {"counts": {"web": True}}, "TYPE=COUNT"),
    ("deploy", {"image": "--help"}, "image"),
    ("deploy", {"image": ["nginx"]}, "must be a string"),
    ("domains", {"action": "add", "domains": ["--all"]}, "domain"),
    ("domains", {"action": "--all", "domains": ["a.example"]}, "domain action"),
    ("ports", {"action": "add", "mappings": ["http:80:--all"]}, "port"),
    ("ports", {"action": "add", "mappings": []}, "at least one port mapping"),
]


@pytest.mark.parametrize(("route", "payload", "message"), API_CASES)
def test_bad_api_operation_refused_before_anything_starts(
        http, login_as, pruvon_config, dokku_calls, route, payload, message):
    token = login_as("admin")
    response = http.post(f"/api/v1/apps/blog/{route}", json=payload,
                         headers={"X-CSRF-Token": token})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert message in response.get_json()["error"]
    _nothing_happened(pruvon_config, dokku_calls)


@pytest.mark.parametrize(
    ("payload", "message"),
    [({"confirm": "blog", "with_services": "yes"}, "with_services: must be true or false"),
     ({"confirm": "shop-api"}, "type the app name (blog)")],
)
def test_bad_destroy_refused_before_anything_starts(
        http, login_as, pruvon_config, dokku_calls, payload, message):
    token = login_as("admin")
    response = http.delete("/api/v1/apps/blog", json=payload, headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and message in response.get_json()["error"]
    _nothing_happened(pruvon_config, dokku_calls)


@pytest.mark.parametrize(
    ("route", "form", "message"),
    [("ps", {"action": "restart", "process": "--all"}, "starts with"),
     ("scale", {"scale-web": "-3"}, "TYPE=COUNT"),
     ("scale", {"scale-web": "\u00b2"}, "TYPE=COUNT"),  # '²'.isdigit(), int('²') raised
     ("scale", {"scale-web": "9" * 5000}, "TYPE=COUNT"),
     ("deploy", {"image": "--help"}, "image"),
     ("domains", {"action": "add", "domains": "--all"}, "domain"),
     ("ports", {"action": "add", "mappings": "http:80:--all"}, "port")],
)
def test_bad_form_operation_refused_before_anything_starts(
        http, login_as, pruvon_config, dokku_calls, route, form, message):
    token = login_as("admin")
    response = http.post(f"/apps/blog/{route}", data={**form, "csrf_token": token})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert OperationStore(pruvon_config.state_dir).list() == []
    # the form is re-rendered on its tab, which reads the app (ps:scale --format json is a
    # read): only reads, after the refusal
    writes = {"ps:restart", "ps:scale", "git:from-image", "domains:add", "ports:add"}
    called = [line.split() for line in dokku_calls.read_text().splitlines()]
    assert not [argv for argv in called if writes & set(argv) and "--format" not in argv]


def test_a_valid_request_still_starts_the_operation(http, login_as, pruvon_config, dokku_calls):
    token = login_as("admin")
    response = http.post("/api/v1/apps/blog/ps", json={"action": "restart", "process": "web"},
                         headers={"X-CSRF-Token": token})
    assert response.status_code == 202
    assert [op.id for op in OperationStore(pruvon_config.state_dir).list()] == [
        response.get_json()["id"]]


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["restart", "blog", "--process", "--all"], "starts with '-'"),
     (["restart", "blog", "--process=--all"], "starts with '-'"),
     (["stop", "blog", "--process", "web"], "only restart"),
     (["scale", "blog", "--", "--all=2"], "starts with '-'"),
     (["deploy", "blog", "--", "--help"], "image")],
)
def test_cli_refuses_the_same_before_anything_starts(pruvon_config, dokku_calls, argv, message):
    result = subprocess.run([PRUVON, "apps", *argv], capture_output=True, text=True,
                            env=dict(os.environ), timeout=120, check=False)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stderr
    _nothing_happened(pruvon_config, dokku_calls)
