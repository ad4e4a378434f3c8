"""App templates: shipped presets, a plugin's own through ``pruvon_app_templates``, the
wizard filled from one, ``pruvon apps create --template``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pruvon_core.hookspecs import hookimpl
from pruvon_core.plugins import get_plugin_manager
from pruvon_core.registry import AppTemplate, app_templates
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.images import register_image

PRUVON = str(Path(sys.executable).with_name("pruvon"))


class ExtraTemplates:
    """A third-party plugin adding one good template and two malformed ones."""

    @hookimpl
    def pruvon_app_templates(self):
        return [
            AppTemplate("grafana", "Dashboards", title="Grafana", image="grafana/grafana:11.2.0",
                        ports=("http:80:3000",), env={"GF_LOG_MODE": "console"},
                        services=("postgres",), mounts=("/var/lib/grafana",)),
            AppTemplate("evil", "x", title="Evil", image="x;rm -rf /"),
            AppTemplate("evil-mount", "x", title="Evil", image="nginx",
                        mounts=("/$(id)",)),
            AppTemplate("metabase", "a second metabase", title="Other", image="nginx"),
        ]


@pytest.fixture
def extra_templates():
    manager = get_plugin_manager()
    manager.register(ExtraTemplates(), name="extra-templates")
    yield manager
    manager.pm.unregister(name="extra-templates")


def test_shipped_templates_are_valid_and_listed():
    names = [t.name for t in app_templates(get_plugin_manager().pruvon)]
    assert {"uptime-kuma", "metabase", "n8n", "static-site", "umami"} <= set(names)


def test_a_plugin_extends_the_list_and_malformed_templates_are_skipped(extra_templates):
    found = {t.name: t for t in app_templates(extra_templates.pruvon)}
    assert found["grafana"].image == "grafana/grafana:11.2.0"
    assert "evil" not in found and "evil-mount" not in found
    # pluggy calls the later-registered plugin first: a plugin may replace a shipped preset
    assert found["metabase"].title == "Other"


def test_data_file_with_unknown_keys_is_refused():
    with pytest.raises(ValueError, match="unknown template keys: command"):
        AppTemplate.from_dict({"name": "x", "description": "", "command": "sh"})


def test_the_wizard_is_filled_from_a_template(http: Any, login_as: Any, extra_templates):
    login_as("alice")  # may create apps
    page = http.get("/apps/create").get_data(as_text=True)
    assert "/apps/create?template=uptime-kuma" in page and "Grafana" in page
    page = http.get("/apps/create?template=grafana").get_data(as_text=True)
    assert 'value="grafana/grafana:11.2.0"' in page and 'value="http:80:3000"' in page
    assert "GF_LOG_MODE=console" in page and "+postgres:{app}-postgres" in page
    assert "{app}:/var/lib/grafana" in page
    unknown = http.get("/apps/create?template=nope").get_data(as_text=True)
    assert "No app template named &#39;nope&#39;" in unknown


def test_api_lists_templates_with_their_fields(http: Any, login_as: Any):
    login_as("admin")
    data = http.get("/api/v1/app-templates").get_json()
    kuma = next(t for t in data["templates"] if t["name"] == "uptime-kuma")
    assert kuma["fields"]["mounts"] == "{app}:/app/data"


def test_create_from_a_template_substitutes_the_app_name(http: Any, login_as: Any,
                                                         dokku_calls: Path, pruvon_config: Any,
                                                         sim_root: Path):
    from tests.apps.conftest import wait_operation

    register_image(SimState(sim_root), "louislam/uptime-kuma:1.23.16", ports=[3001],
                   cmd=["httpd", "-f", "-v", "-p", "3001", "-h", "/www"])
    token = login_as("admin")
    response = http.post("/apps/create", data={
        "csrf_token": token, "name": "kuma", "image": "louislam/uptime-kuma:1.23.16",
        "ports": "http:80:3001", "mounts": "{app}:/app/data", "services": "", "env": "",
        "domains": ""})
    assert response.status_code == 303
    op = wait_operation(pruvon_config.state_dir, response.headers["Location"].rsplit("/", 1)[1])
    assert op.status == "succeeded", op.error
    calls = dokku_calls.read_text()
    assert "storage:mount kuma /var/lib/dokku/data/storage/kuma:/app/data" in calls


def test_cli_templates_and_create_with_one(pruvon_config: Any, sim_root: Path):
    register_image(SimState(sim_root), "nginx:1.27-alpine", ports=[80],
                   cmd=["httpd", "-f", "-v", "-p", "80", "-h", "/www"])
    listed = subprocess.run([PRUVON, "apps", "templates", "--format", "json"],
                            capture_output=True, text=True, check=True)
    assert "static-site" in {t["name"] for t in json.loads(listed.stdout)["templates"]}
    result = subprocess.run([PRUVON, "apps", "create", "site", "--template", "static-site"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    from pruvon_testing.sim.main import run

    code, out, _err = run(["storage:list", "site"], root=sim_root)
    assert code == 0 and b"/var/lib/dokku/data/storage/site:/usr/share/nginx/html" in out
    bad = subprocess.run([PRUVON, "apps", "create", "x1", "--template", "nope"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "no app template named 'nope'" in bad.stderr
