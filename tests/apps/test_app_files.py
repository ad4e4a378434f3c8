"""Issue 18, app extras: an app's Procfile and app.json as Dokku extracted them at its last deploy,
in the page (tab ``files``), the CLI (``pruvon apps files``) and the API (``…/files``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pruvon_apps import files

from pruvon_core.dokku import DokkuClient, SshTransport
from pruvon_core.dokku.errors import DokkuUnavailable
from tests.apps.conftest import sim

PRUVON = str(Path(sys.executable).with_name("pruvon"))
PROCFILE = "web: ./serve --port $PORT\nworker: ./work <script>alert(1)</script>\n"
APP_JSON = '{\n  "name": "blog",\n  "scripts": {"dokku": {"predeploy": "./migrate"}}\n}\n'


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRUVON, *argv], capture_output=True, text=True, timeout=120,
                          check=False)


def deploy_with(root: Path, app: str, ref: str, found: dict[str, str]) -> None:
    """Deploy ``app`` from an image carrying ``found`` (the simulator extracts them as Dokku)."""
    from pruvon_testing.sim import images
    from pruvon_testing.sim.core import SimState

    base = images.lookup(SimState(root), "example/web:1")
    assert base is not None
    images.register_image(SimState(root), ref, cmd=base.cmd, ports=base.ports, files=found)
    sim(root, "git:from-image", app, ref)


@pytest.fixture
def blog_files(sim_root: Path) -> Path:
    deploy_with(sim_root, "blog", "acme/blog:2", {"Procfile": PROCFILE, "app.json": APP_JSON})
    return sim_root


def test_a_deploy_puts_the_files_where_dokku_keeps_them(blog_files: Path):
    procfile = blog_files / "data" / "ps" / "blog" / "Procfile"
    assert procfile.read_text() == PROCFILE
    assert procfile.stat().st_mode & 0o777 == 0o600  # copied out of an image
    assert (blog_files / "data" / "app-json" / "blog" / "app.json").read_text() == APP_JSON
    deploy_with(blog_files, "blog", "acme/blog:3", {"app.json": APP_JSON})
    assert not procfile.exists()  # a source without a Procfile removes the old copy


def test_the_files_tab_shows_both_files_escaped(http: Any, login_as: Any, blog_files: Path):
    login_as("admin")
    page = http.get("/apps/blog?tab=files")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "worker: ./work &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "&#34;predeploy&#34;: &#34;./migrate&#34;" in html or '"predeploy"' in html


def test_not_deployed_and_no_procfile_states(http: Any, login_as: Any, sim_root: Path):
    login_as("admin")
    empty = http.get("/apps/empty?tab=files").get_data(as_text=True)
    assert "Not deployed yet" in empty
    shop = http.get("/apps/shop-api?tab=files").get_data(as_text=True)
    assert "This app has no Procfile" in shop and "This app has no app.json" in shop
    data = http.get("/api/v1/apps/empty/files").get_json()
    assert data["deployed"] is False
    assert {f["state"] for f in data["files"].values()} == {"not_deployed"}
    data = http.get("/api/v1/apps/shop-api/files").get_json()
    assert data["files"]["procfile"]["state"] == "missing"
    assert data["files"]["procfile"]["content"] is None


def test_api_returns_the_files(http: Any, login_as: Any, blog_files: Path):
    login_as("admin")
    response = http.get("/api/v1/apps/blog/files")
    assert response.status_code == 200
    data = response.get_json()
    assert data["app"] == "blog" and data["deployed"] is True
    assert data["files"]["procfile"] == {
        "name": "Procfile", "path": str(blog_files / "data/ps/blog/Procfile"), "state": "present",
        "content": PROCFILE, "size": len(PROCFILE), "message": ""}
    assert json.loads(data["files"]["app.json"]["content"])["name"] == "blog"
    spec = http.get("/api/v1/openapi.json").get_json()
    assert "get" in spec["paths"]["/api/v1/apps/{app}/files"]


def test_an_oversized_file_is_not_shown(http: Any, login_as: Any, sim_root: Path):
    big = "web: ./serve\n" + "# padding\n" * (files.MAX_BYTES // 10 + 10)
    deploy_with(sim_root, "blog", "acme/blog:big", {"Procfile": big})
    login_as("admin")
    data = http.get("/api/v1/apps/blog/files").get_json()
    procfile = data["files"]["procfile"]
    assert procfile["state"] == "too_large" and procfile["content"] is None
    assert "256 KiB" in procfile["message"]
    page = http.get("/apps/blog?tab=files").get_data(as_text=True)
    assert "# padding" not in page and "256 KiB" in page
    result = cli("apps", "files", "blog")
    assert result.returncode == 1 and "256 KiB" in result.stderr
    assert "# padding" not in result.stdout and "Traceback" not in result.stderr


def test_a_scoped_user_is_refused_another_apps_files(http: Any, login_as: Any, blog_files: Path,
                                                    dokku_calls: Path):
    deploy_with(blog_files, "secret", "acme/secret:1", {"Procfile": "web: ./secret\n"})
    login_as("alice")
    dokku_calls.write_text("")
    assert http.get("/api/v1/apps/secret/files").status_code in (403, 404)
    assert http.get("/apps/secret?tab=files").status_code in (403, 404)
    assert "./secret" not in http.get("/apps/secret?tab=files").get_data(as_text=True)
    assert not [c for c in dokku_calls.read_text().splitlines() if "secret" in c]
    own = http.get("/api/v1/apps/blog/files")  # her own app is fine
    assert own.status_code == 200 and own.get_json()["files"]["procfile"]["content"] == PROCFILE


@pytest.mark.parametrize("bad", ["Blog", "-blog", "blog..x!", "a" * 300])
def test_a_bad_app_name_reaches_nothing(http: Any, login_as: Any, sim_root: Path,
                                        dokku_calls: Path, bad: str):
    login_as("admin")
    dokku_calls.write_text("")
    response = http.get(f"/api/v1/apps/{bad}/files")
    assert response.status_code in (400, 404) and "error" in response.get_json()
    result = cli("apps", "files", "--", bad)  # past click, to the validator
    assert result.returncode == 2 and "app name" in result.stderr
    assert "Traceback" not in result.stderr
    assert dokku_calls.read_text() == ""
    with pytest.raises(ValueError, match="app name"):
        files.file_path(str(sim_root), "../../etc", "procfile")


def test_cli_prints_the_files(pruvon_config: Any, blog_files: Path):
    both = cli("apps", "files", "blog")
    assert both.returncode == 0, both.stderr
    assert "==> Procfile" in both.stdout and PROCFILE in both.stdout and APP_JSON in both.stdout
    only = cli("apps", "files", "blog", "--only", "procfile")
    assert only.returncode == 0 and only.stdout == PROCFILE
    data = json.loads(cli("apps", "files", "blog", "--format", "json").stdout)
    assert data["files"]["app.json"]["content"] == APP_JSON


def test_cli_states(pruvon_config: Any, sim_root: Path):
    shop = cli("apps", "files", "shop-api")
    assert shop.returncode == 0 and "(this app has no Procfile)" in shop.stdout
    none = cli("apps", "files", "shop-api", "--only", "procfile")
    assert none.returncode == 1 and "this app has no Procfile" in none.stderr
    empty = cli("apps", "files", "empty", "--only", "app.json")
    assert empty.returncode == 1 and "not deployed yet" in empty.stderr
    missing = cli("apps", "files", "nope")
    assert missing.returncode == 20 and "does not exist" in missing.stderr
    for result in (shop, none, empty, missing):
        assert "Traceback" not in result.stderr


def test_a_symlinked_file_is_not_followed(blog_files: Path, tmp_path: Path):
    procfile = blog_files / "data/ps/blog/Procfile"
    target = tmp_path / "elsewhere"
    target.write_text("host secret\n")
    procfile.unlink()
    procfile.symlink_to(target)
    found = files.read_file(procfile, "Procfile")
    assert found.state == "unreadable" and found.content is None
    assert "symlink" in found.message


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                    reason="needs root to read as another user")
def test_a_file_pruvon_may_not_read_says_so(blog_files: Path):
    """Run as an unprivileged user (like ``pruvon``): the 0600 dokku file is refused clearly."""
    blog_files.chmod(0o755)
    for part in (blog_files.parent, blog_files.parent.parent):
        part.chmod(part.stat().st_mode | 0o005)
    code = ("import json, sys; from pathlib import Path; from pruvon_apps.files import read_file;"
            "print(json.dumps(read_file(Path(sys.argv[1]), 'Procfile').as_dict()))")
    done = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                           sys.executable, "-c", code, str(blog_files / "data/ps/blog/Procfile")],
                          capture_output=True, text=True, timeout=60, check=False)
    if done.returncode and "Permission denied" in done.stderr:
        pytest.skip("the virtualenv is not readable by nobody here")
    found = json.loads(done.stdout)
    assert found["state"] == "unreadable" and found["content"] is None
    assert "may not read" in found["message"] and "0600" in found["message"]


def test_over_ssh_the_files_are_refused_before_any_call(sim_root: Path):
    client = DokkuClient(SshTransport("dokku@dokku.example.invalid"))
    with pytest.raises(DokkuUnavailable, match="over ssh"):
        files.app_files(client, "blog", str(sim_root))
    assert client.calls == []


def test_lib_root_comes_from_config_then_environment():
    class Config(dict):
        def get(self, key: str, default: Any = None) -> Any:
            return super().get(key, default)

    assert files.lib_root(Config({"dokku.lib_root": "/srv/dokku"}), {"DOKKU_LIB_ROOT": "/x"}) \
        == "/srv/dokku"
    assert files.lib_root(Config(), {"DOKKU_LIB_ROOT": "/x"}) == "/x"
    assert files.lib_root(None, {}) == "/var/lib/dokku"


def test_the_files_tab_reads_no_ps_report(http: Any, login_as: Any, blog_files: Path,
                                          dokku_calls: Path):
    """The page knows whether the app is deployed from its apps:report: no slow ps:report."""
    login_as("admin")
    dokku_calls.write_text("")
    page = http.get("/apps/blog?tab=files")
    assert page.status_code == 200 and "web: ./serve" in page.get_data(as_text=True)
    calls = dokku_calls.read_text().splitlines()
    assert calls and not [c for c in calls if c.startswith("ps:report")]
