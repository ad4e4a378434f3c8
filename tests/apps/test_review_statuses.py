"""Issue 19 item 6: one meaning per status, on every front end.

A Dokku timeout was 504 on ``/apps`` and ``/api/v1/apps/blog`` but 502 on
``/api/v1/apps``.  Now one table (``pruvon_web.statuses``) decides: 504 Dokku
timed out, 503 Dokku cannot be run, 502 Dokku failed; as docs/apps.md says.
"""

from __future__ import annotations

import json

import pytest

# every read command the routes below may run; all hang, or all fail
COMMANDS = ("apps:list", "apps:exists", "apps:report", "ps:report", "ps:scale", "ps:inspect",
            "config:show", "config:export", "config:get", "domains:report", "ports:report",
            "ports:list", "storage:report", "storage:list", "git:report", "nginx:report",
            "proxy:report", "builder:report", "docker-options:report", "version", "help",
            "plugin:list")
ROUTES = ("/apps", "/apps/blog", "/api/v1/apps", "/api/v1/apps/blog", "/api/v1/apps/blog/config",
          "/api/v1/apps/blog/ports", "/api/v1/apps/blog/storage")


@pytest.fixture
def admin(http, login_as):
    login_as("admin")
    return http


def _status(http, route: str) -> tuple[int, str]:
    response = http.get(route)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("route", ROUTES)
def test_a_hung_dokku_is_504_everywhere(admin, pruvon_config, monkeypatch, route):
    pruvon_config.write(pruvon_config.path.read_text() + "dokku:\n  timeout: 1\n")
    monkeypatch.setenv("PRUVON_SIM_HANG", ",".join(COMMANDS))
    status, text = _status(admin, route)
    assert status == 504, text
    if route.startswith("/api/"):
        assert json.loads(text)["error"]
    else:
        assert "Dokku timed out" in text


@pytest.mark.parametrize("route", ROUTES)
def test_a_failing_dokku_is_502_everywhere(admin, monkeypatch, route):
    faults = {c: {"exit": 1, "stderr": " !     disk on fire"} for c in COMMANDS}
    monkeypatch.setenv("PRUVON_SIM_FAULTS", json.dumps(faults))
    status, text = _status(admin, route)
    assert status == 502, text
    assert "disk on fire" in text


@pytest.mark.parametrize("route", ROUTES)
def test_a_missing_dokku_is_503_everywhere(admin, monkeypatch, tmp_path, route):
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(tmp_path / "no-such-dokku"))
    status, text = _status(admin, route)
    assert status == 503, text
