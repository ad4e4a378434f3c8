"""Issue 19: garbage from Dokku and a missing docker are said, never silent.

Page, API and CLI against the real simulator: ``apps:list`` printing garbage
with exit 0 is a 502 naming the command (nothing listed); with ``docker``
missing the list still shows Dokku's states, and says live state is
unavailable and why (page notice, API ``live_state``, CLI stderr + exit 5).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pruvon_testing.sim.core import SimState

PRUVON = str(Path(sys.executable).parent / "pruvon")
GARBAGE = {"apps:list": {"exit": 0, "stdout": "=====> My Apps\nblog\n<<garbage>>\n\x01\x02\n"}}


@pytest.fixture
def no_docker(sim_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``docker`` is not installed (its command does not exist)."""
    missing = sim_root.parent / "bin" / "docker"
    monkeypatch.setenv("PRUVON_DOCKER_COMMAND", str(missing))
    return missing


def pruvon(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PRUVON, *args], capture_output=True, text=True, env=dict(os.environ),
                          timeout=120, check=False)


def test_garbage_apps_list_is_a_502_naming_the_command(sim_root, http, login_as) -> None:
    login_as("admin")
    SimState(sim_root).set_knobs(faults=GARBAGE)
    api = http.get("/api/v1/apps")
    assert api.status_code == 502
    error = api.get_json()["error"]
    assert error.startswith("dokku apps:list printed output Pruvon cannot read: line 3")
    assert "<<garbage>>" in error and "apps" not in api.get_json()
    page = http.get("/apps")
    html = page.get_data(as_text=True)
    assert page.status_code == 502 and "dokku apps:list printed output" in html
    assert 'href="/apps/blog"' not in html and "&lt;&lt;garbage&gt;&gt;" in html


def test_garbage_apps_list_cli_exit_1_no_table(sim_root) -> None:
    SimState(sim_root).set_knobs(faults=GARBAGE)
    done = pruvon("apps", "list")
    assert done.returncode == 1 and done.stdout == ""
    assert "dokku apps:list printed output Pruvon cannot read: line 3 '<<garbage>>'" in done.stderr
    assert "Traceback" not in done.stderr


def test_live_state_reported_when_docker_works(http, login_as) -> None:
    login_as("admin")
    listed = http.get("/api/v1/apps").get_json()
    assert listed["live_state"]["available"] is True
    assert listed["live_state"]["source"] == "docker" and listed["live_state"]["error"] is None
    html = http.get("/apps").get_data(as_text=True)
    assert 'id="live-state-notice"' not in html and "States as of" in html


def test_missing_docker_page_notice_and_api_field(no_docker, http, login_as) -> None:
    login_as("admin")
    page = http.get("/apps")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="live-state-notice"' in html and "Live state unavailable: docker unavailable" in html
    assert "ps:report" in html and 'href="/apps/blog"' in html
    listed = http.get("/api/v1/apps").get_json()
    live = listed["live_state"]
    assert live["available"] is False and live["source"] == "report"
    assert "docker" in live["error"] and str(no_docker) in live["error"]
    assert {a["name"]: a["state"] for a in listed["apps"]}["blog"] == "running"


def test_missing_docker_cli_prints_table_then_exit_5(no_docker) -> None:
    done = pruvon("apps", "list")
    assert done.returncode == 5, done.stderr
    assert done.stdout.splitlines()[0].split()[0] == "NAME" and "blog" in done.stdout
    assert "Live state unavailable: docker unavailable" in done.stderr
    assert "Traceback" not in done.stderr
    as_json = pruvon("apps", "list", "--format", "json")
    assert as_json.returncode == 5
    data = json.loads(as_json.stdout)
    assert data["live_state"]["available"] is False and "docker" in data["live_state"]["error"]
    assert {a["name"] for a in data["apps"]} == {"blog", "shop-api", "secret", "empty"}


def test_live_cli_exit_0_and_json_field(sim_root) -> None:
    done = pruvon("apps", "list", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["live_state"]["available"] is True
