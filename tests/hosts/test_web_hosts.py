"""The web UI across hosts: /h/<host> URLs, grants per host, the all-hosts page (real sshd)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.fixtures_web import make_app, signer, use_simulator
from pruvon_testing.sim.cmd_k3s import set_nodes
from tests.hosts.conftest import record_keys

USERS = """\
users:
  - username: admin
    password: {admin}
    role: admin
  - username: alice
    password: {alice}
    role: user
    apps: [blog]
    hosts: [h1]
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch, pruvon_config, ssh_dokku_hosts, close_masters) -> Any:
    """Default host = a local simulator; h1 and h2 behind real sshd; admin and alice."""
    local = use_simulator(tmp_path / "local-sim", monkeypatch)
    one, two = ssh_dokku_hosts(2)
    for host, apps in ((one, ["blog", "wiki"]), (two, ["blog", "shop"])):
        for app in apps:
            host.sim.check("apps:create", app)
    record_keys(pruvon_config.state_dir, [one, two])
    entries = one.hosts_yaml_entry() + two.hosts_yaml_entry()
    pruvon_config.write(USERS.format(**pruvon_config.hashes)
                        + "dokku:\n  hosts_timeout: 8\nhosts:\n" + entries)
    close_masters(pruvon_config.config())
    app = make_app(pruvon_config)
    client = app.test_client()
    return {"client": client, "login": signer(client, pruvon_config), "hosts": (one, two),
            "local": local, "config": pruvon_config}


def test_pages_of_another_host_live_under_its_prefix(site):
    http = site["client"]
    site["login"]("admin")
    page = http.get("/h/h2/apps").get_data(as_text=True)
    assert 'href="/h/h2/apps/shop"' in page and "wiki" not in page
    assert 'data-current-host>h2<' in page  # the switcher names the host acted on
    assert 'href="/h/h1/apps"' in page and 'href="/apps"' in page
    detail = http.get("/h/h2/apps/shop")
    assert detail.status_code == 200, detail.get_data(as_text=True)[:500]
    assert http.get("/h/h1/apps/shop").status_code == 404  # shop exists on h2 only
    assert http.get("/h/nope/apps").status_code == 404
    api = http.get("/h/h1/api/v1/apps").get_json()
    assert sorted(a["name"] for a in api["apps"]) == ["blog", "wiki"]


def test_a_change_on_one_host_redirects_within_it_and_reaches_only_it(site):
    http = site["client"]
    token = site["login"]("admin")
    one, two = site["hosts"]
    response = http.post("/h/h2/apps/blog/config", data={
        "csrf_token": token, "action": "set", "key": "WHERE", "value": "h2 only"})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith("/h/h2/apps/blog")
    assert two.sim.check("config:get", "blog", "WHERE") == b"h2 only\n"
    code, _out, _err = one.sim.run("config:get", "blog", "WHERE")
    assert code == 1


def test_a_grant_on_one_host_never_leaks_to_another(site):
    http = site["client"]
    site["login"]("alice")
    assert http.get("/h/h1/apps/blog").status_code == 200
    for path in ("/h/h2/apps/blog", "/h/h2/apps", "/h/h2/api/v1/apps", "/apps/blog"):
        assert http.get(path).status_code in (403, 404), path
    listing = http.get("/h/h1/apps").get_data(as_text=True)
    assert "blog" in listing and "wiki" not in listing
    assert "data-host-switcher" not in listing  # one host granted: nothing to switch to
    response = http.get("/api/v1/hosts/apps")
    assert response.status_code == 200, response.get_json()
    all_hosts = response.get_json()["hosts"]
    assert [(h["host"], [a["name"] for a in h["apps"]]) for h in all_hosts] == [("h1", ["blog"])], all_hosts


def test_all_hosts_page_shows_a_hung_host_error_beside_the_others(site):
    http = site["client"]
    site["login"]("admin")
    _one, two = site["hosts"]
    first = http.get("/api/v1/hosts/apps").get_json()["hosts"]
    assert [h["ok"] for h in first] == [True, True, True]
    # the page keeps its own last good answer (apps and services), from its last view
    assert "no answer" not in http.get("/hosts").get_data(as_text=True)
    two.sim.set_knobs(hang=["apps:list"])
    http.get("/h/h2/apps")  # (cached) - the next all-hosts read must ask h2 again
    time.sleep(6)  # past the client's read cache
    start = time.monotonic()
    page = http.get("/hosts").get_data(as_text=True)
    took = time.monotonic() - start
    assert took < 8 + 3, f"the page waited {took:.1f} s"
    assert "no answer within 8 s" in page and "showing what it said" in page
    assert 'href="/h/h1/apps/wiki"' in page and 'href="/h/h2/apps/shop"' in page


def test_k3s_apps_show_their_scheduler_and_the_cluster_nodes(site):
    http = site["client"]
    site["login"]("admin")
    one, _two = site["hosts"]
    one.sim.check("scheduler:set", "wiki", "selected", "k3s")
    set_nodes(one.sim.state, [
        {"name": "dokku-1", "roles": ["control-plane", "master"], "ready": True,
         "version": "v1.31.4+k3s1"},
        {"name": "worker-1", "roles": [], "ready": False, "version": "v1.31.4+k3s1"}])
    data = http.get("/api/v1/hosts/apps").get_json()["hosts"]
    h1 = next(h for h in data if h["host"] == "h1")
    assert {a["name"]: a["scheduler"] for a in h1["apps"]} == {
        "blog": "docker-local", "wiki": "k3s"}
    assert [(n["name"], n["ready"]) for n in h1["k3s_nodes"]] == [
        ("dokku-1", True), ("worker-1", False)]
    page = http.get("/hosts").get_data(as_text=True)
    assert "data-k3s-nodes" in page and "worker-1" in page


def test_the_dashboard_of_a_remote_host_says_whose_metrics_it_shows(site):
    """CPU, load, memory and disk are read from this machine's /proc: over ssh they are
    not the Dokku host's, and the card must not pass them off as such."""
    import socket

    http = site["client"]
    site["login"]("admin")
    remote = http.get("/h/h2/").get_data(as_text=True)
    assert 'id="metrics-machine"' in remote
    assert f"the machine running Pruvon ({socket.gethostname()})" in remote
    assert "not of host h2" in remote
    local = http.get("/").get_data(as_text=True)
    assert 'id="host-metrics"' in local and 'id="metrics-machine"' not in local


def test_the_files_tab_of_a_remote_app_says_why_it_is_empty(site):
    """Over ssh Dokku has no command that prints the extracted Procfile: the tab says so
    and the page still works, instead of a whole-page 503."""
    http = site["client"]
    site["login"]("admin")
    response = http.get("/h/h2/apps/shop?tab=files")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:400]
    assert 'id="files-unavailable"' in page and "Dokku offers no command that prints" in page
    assert 'href="/h/h2/apps/shop?tab=overview"' in page  # the other tabs are there


def test_a_users_host_limit_shows_in_the_api_and_on_the_edit_page(site):
    http = site["client"]
    token = site["login"]("admin")
    users = {u["username"]: u for u in http.get("/api/v1/users").get_json()["users"]}
    assert users["alice"]["hosts"] == ["h1"] and users["admin"]["hosts"] is None
    page = http.get("/settings/users/alice").get_data(as_text=True)
    assert 'id="user-hosts"' in page and "apply on h1 only" in page
    refused = http.patch("/api/v1/users/alice", json={"hosts": ["h2"]},
                         headers={"X-CSRF-Token": token})
    assert refused.status_code == 400  # set from the CLI (pruvon user hosts), not here
    assert site["config"].config().user("alice").hosts == ("h1",)
