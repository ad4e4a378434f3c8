"""Issue 14: a scoped user must not be able to reach the host (findings 1, 2, 3, 5).

Each test is the attack, run through the real API as ``alice``, a ``user``
granted only app ``blog`` (the issue's setup), against the Dokku simulator.
Every refusal is checked twice: the HTTP answer, and that nothing reached
Dokku - no mutating command in the web client's call log, and the simulator's
stored docker options and mounts of every app unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pruvon_core import audit
from pruvon_testing.sim.main import run
from tests.apps.conftest import csrf_from, http, login_as, sim, sim_root, wait_operation, web_app

__all__ = ["http", "login_as", "sim_root", "web_app"]  # fixtures used by name

STORAGE = "/var/lib/dokku/data/storage"
SETTINGS = "/api/v1/apps/blog/settings"
MUTATING = ("docker-options:add", "docker-options:remove", "storage:mount", "git:sync",
            "apps:create")


# --------------------------------------------------------------------------- setup
def alice_only_blog(pruvon_config: Any, storage_dir: Path | None = None) -> None:
    """The issue's setup: alice is granted ``blog`` only (the fixture also grants shop-*)."""
    text = pruvon_config.path.read_text().replace("      - shop-*\n", "")
    if storage_dir is not None:
        text += f"apps:\n  storage_dir: {storage_dir}\n"
    pruvon_config.write(text)


@pytest.fixture
def host(pruvon_config: Any, sim_root: Path) -> Path:
    """The simulated host with ``shop-web`` (not alice's), alice granted only ``blog``."""
    sim(sim_root, "apps:create", "shop-web")
    sim(sim_root, "git:from-image", "shop-web", "example/web:1")
    alice_only_blog(pruvon_config)
    return sim_root


def signed_in(web_app: Any, pruvon_config: Any, username: str) -> tuple[Any, dict[str, str]]:
    """A second browser: its own test client, signed in as ``username``; (client, headers)."""
    client = web_app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"username": username, "csrf_token": token,
                                         "password": pruvon_config.passwords[username]})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client, {"X-CSRF-Token": csrf_from(client.get("/account").get_data(as_text=True))}


@pytest.fixture
def alice(host: Path, http: Any, login_as: Any) -> dict[str, str]:
    return {"X-CSRF-Token": login_as("alice")}


@pytest.fixture
def admin(host: Path, http: Any, login_as: Any) -> dict[str, str]:
    return {"X-CSRF-Token": login_as("admin")}


def dokku_json(root: Path, *argv: str) -> Any:
    code, out, err = run(list(argv), root=root)
    assert code == 0, (argv, err)
    return json.loads(out)


def dokku_state(root: Path) -> dict[str, Any]:
    """What the simulator stores that these attacks aim at, for every app."""
    apps = dokku_json(root, "apps:list", "--format", "json")
    return {app: (dokku_json(root, "docker-options:report", app, "--format", "json"),
                  dokku_json(root, "storage:list", app, "--format", "json")) for app in apps}


def mutations(web_app: Any) -> list[tuple[str, ...]]:
    """Mutating Dokku commands the web server's client has run."""
    client = web_app.extensions["pruvon"].client()
    return [call.argv for call in client.calls if any(m in call.argv for m in MUTATING)]


class NothingReachesDokku:
    """``with nothing_reaches_dokku():`` - the block changes no Dokku state, runs no write."""

    def __init__(self, root: Path, web_app: Any) -> None:
        self.root, self.web_app = root, web_app

    def __enter__(self) -> None:
        self.before = dokku_state(self.root)
        self.calls = len(mutations(self.web_app))

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert mutations(self.web_app)[self.calls:] == []
            assert dokku_state(self.root) == self.before


@pytest.fixture
def nothing_reaches_dokku(host: Path, web_app: Any) -> Any:
    return lambda: NothingReachesDokku(host, web_app)


def denied_events(pruvon_config: Any) -> list[Any]:
    return [e for e in audit.read(state_dir=pruvon_config.state_dir)
            if e.result == "denied" and e.details.get("host_access")]


def add_option(http: Any, headers: dict[str, str], option: str) -> Any:
    return http.post(SETTINGS, headers=headers, json={
        "kind": "docker-options", "action": "add", "phases": ["deploy", "run"],
        "option": option})


# --------------------------------------------------------------------------- finding 1
ISSUE_VOLUME_OPT = ("--mount type=volume,src=pvroot,dst=/host,volume-opt=type=none,"
                    "volume-opt=o=bind,volume-opt=device=/")
ISSUE_QUOTED_SOURCE = "--mount 'type=bind,\"source=/\",target=/host'"
HOST_REACHING = [
    # the two payloads of the issue, verbatim
    (ISSUE_VOLUME_OPT, "volume-opt"),
    (ISSUE_QUOTED_SOURCE, "host path /"),
    # -v / --volume in every pflag spelling
    ("--volume /:/host", "host path /"), ("-v/:/host", "host path /"),
    ("-v /:/host", "host path /"), ("--volume=/:/host", "host path /"),
    ("-v=/:/host", "host path /"), ("-v /:/host:rw", "host path /"),
    ("-tv/:/host", "-t is not on the allowlist"),  # pflag: -t then -v /:/host
    ("-v /var/run/docker.sock:/var/run/docker.sock", "docker.sock"),
    ("-v ./x:/x", "volume name"),
    # --mount: propagation, volume-opt spellings, drivers, quoted and escaped keys
    (f"--mount type=bind,src={STORAGE}/blog,dst=/x,bind-propagation=rshared",
     "bind-propagation"),
    ("--mount type=volume,src=blog_x,dst=/h,volume-opt=device=/", "volume-opt"),
    ("--mount 'type=volume,src=blog_x,dst=/h,\"volume-opt=device=/\"'", "volume-opt"),
    ("--mount type=volume,src=blog_x,dst=/h,\"volume-opt=o=bind\"", "volume-opt"),
    ("--mount 'type=bind,src=/x\"y,dst=/h'", "bare quote"),
    ("--mount type=volume,src=blog_x,dst=/h,VOLUME-OPT=device=/", "VOLUME-OPT"),
    ("--mount=type=volume,src=blog_x,dst=/h,volume-driver=local", "volume-driver"),
    ("--mount type=volume,src=blog_x,dst=/h,volume-driver=sshfs", "volume-driver"),
    ("--mount type=volume,src=blog_x,dst=/h,volume-subpath=..", "volume-subpath"),
    ("--mount \"type=bind,source=/,target=/h\"", "host path /"),
    ("--mount type=bind,'source'=/,target=/h", "host path /"),
    ("--mount type=bind,source\\=/,target=/h", "host path /"),
    ("--mount type=bind,SOURCE=/,target=/h", "SOURCE"),
    ("--mount TYPE=bind,src=/,dst=/h", "TYPE"),
    ("--mount type=bind,src=" + STORAGE + "/blog,src=/etc,dst=/h", "source twice"),
    ("--mount type=image,src=dokku/shop-web:latest,dst=/code", "type 'image'"),
    (f"--mount type=bind,src={STORAGE}/shop-web,dst=/x", "not this app's storage"),
    (f"--mount 'type=bind,\"src={STORAGE}/blog/../shop-web\",dst=/x'", "'..'"),
    # another app's data by name, path or traversal
    (f"-v {STORAGE}/shop-web:/data", "not this app's storage"),
    (f"-v {STORAGE}/blog/../shop-web:/data", "'..'"),
    ("-v shop-web:/data", "does not belong to app blog"),
    ("-v pvroot:/host", "does not belong to app blog"),
    # flags off the allowlist
    ("--privileged", "--privileged"), ("--pid=host", "--pid"), ("--network=host", "--network"),
    ("--cap-add=SYS_ADMIN", "--cap-add"), ("--device=/dev/sda", "--device"),
    ("--security-opt=apparmor=unconfined", "no-new-privileges"), ("--userns=host", "--userns"),
    ("--volumes-from=shop-web.web.1", "--volumes-from"), ("--env-file=/etc/shadow", "--env-file"),
    ("--label=com.dokku.app-name=shop-web", "com.dokku"), ("-p 2222:22", "-p"),
    ("--log-driver=syslog", "--log-driver"), ("--ulimit rtprio=99", "--ulimit"),
    ("-e HOME", "KEY=VALUE"),
]


@pytest.mark.parametrize(("option", "named"), HOST_REACHING)
def test_a_scoped_user_cannot_add_a_host_reaching_docker_option(
    http: Any, alice: dict[str, str], nothing_reaches_dokku: Any, pruvon_config: Any,
    option: str, named: str,
) -> None:
    with nothing_reaches_dokku():
        refused = add_option(http, alice, option)
    assert refused.status_code in (400, 403), (option, refused.get_json())
    assert named in refused.get_json()["error"], (option, refused.get_json())
    if refused.status_code == 403:  # refused as host access: audited so
        assert denied_events(pruvon_config)[-1].details["reason"] in refused.get_json()["error"]


@pytest.mark.parametrize(("option", "named"), HOST_REACHING[:4])
def test_the_settings_form_refuses_the_same(
    http: Any, login_as: Any, host: Path, nothing_reaches_dokku: Any, option: str, named: str,
) -> None:
    token = login_as("alice")
    with nothing_reaches_dokku():
        refused = http.post("/apps/blog/settings", data={
            "csrf_token": token, "kind": "docker-options", "action": "add",
            "phases": "deploy", "option": option})
    assert refused.status_code == 403 and named in refused.get_data(as_text=True)


SHELL_CODE = ["--label=$(touch {marker})", "--label=`touch {marker}`",
              "--restart=always;touch {marker}", "--label a|touch {marker}",
              "--label 'a$(touch {marker})'", "--label \"a$(touch {marker})\"",
              "--label a&&touch {marker}", "--label x>{marker}", "--label 'unbalanced",
              "--label trailing\\", "--label a\ntouch {marker}", "-v /x/*:/y"]


@pytest.mark.parametrize("template", SHELL_CODE)
@pytest.mark.parametrize("who", ["alice", "admin"])
def test_shell_code_in_a_docker_option_is_refused_for_everyone(
    http: Any, login_as: Any, host: Path, nothing_reaches_dokku: Any, tmp_path: Path,
    template: str, who: str,
) -> None:
    marker = tmp_path / "pwned"
    headers = {"X-CSRF-Token": login_as(who)}
    with nothing_reaches_dokku():
        refused = add_option(http, headers, template.format(marker=marker))
    assert refused.status_code == 400, refused.get_json()
    assert "docker option" in refused.get_json()["error"]
    assert not marker.exists()


OPERATOR_OPTIONS = [
    "--restart=on-failure:5", f"-v {STORAGE}/blog:/app/storage", "--shm-size 256m",
    "-v blog_cache:/cache", "--mount type=volume,src=blog_data,dst=/data",
    f"--mount type=bind,source={STORAGE}/blog,target=/srv,readonly",
    "--mount type=tmpfs,dst=/scratch,tmpfs-size=64m", "--memory=512m", "-m 1g", "--cpus=1.5",
    "--label app.tier=web", "--label 'note=two words'", "-e FEATURE=on", "--init",
    "--tmpfs /run:size=64m,noexec", "--ulimit nofile=4096:8192", "--log-opt max-size=10m",
    "--health-cmd 'curl -f http://localhost/'", "--health-interval=30s",
    "--add-host db.internal:10.0.0.2", "--cap-drop=ALL", "--security-opt=no-new-privileges",
    "--read-only", "-v /scratch2",
]


def test_options_operators_use_still_pass_for_a_scoped_user(
    http: Any, alice: dict[str, str], host: Path, pruvon_config: Any,
) -> None:
    for option in OPERATOR_OPTIONS:
        done = add_option(http, alice, option)
        assert done.status_code == 200, (option, done.get_json())
    stored = dokku_json(host, "docker-options:report", "blog", "--format", "json")
    assert len(stored["deploy-list"]) == len(OPERATOR_OPTIONS)
    assert "--restart=on-failure:5" in stored["deploy-list"]
    assert "--label 'note=two words'" in stored["deploy-list"]
    assert not denied_events(pruvon_config)


def test_an_admin_may_reach_the_host_and_it_is_audited_as_host_access(
    http: Any, admin: dict[str, str], host: Path, pruvon_config: Any,
) -> None:
    for option in (ISSUE_VOLUME_OPT, "--privileged",
                   f"-v {STORAGE}/blog/uploads:/app/uploads"):
        done = add_option(http, admin, option)
        assert done.status_code == 200, (option, done.get_json())
        event = [e for e in audit.read(state_dir=pruvon_config.state_dir)
                 if e.action == "apps.settings.write"][-1]
        assert (event.result, event.details["host_access"]) == ("ok", True)
        assert event.details["setting_option"] == option
    plain = add_option(http, admin, "--restart=always")
    assert plain.status_code == 200
    last = [e for e in audit.read(state_dir=pruvon_config.state_dir)
            if e.action == "apps.settings.write"][-1]
    assert "host_access" not in last.details
    assert "--privileged" in dokku_json(host, "docker-options:report", "blog", "--format",
                                        "json")["deploy-list"]


def test_an_admin_api_key_without_the_host_access_scope_is_a_scoped_actor(
    http: Any, admin: dict[str, str], nothing_reaches_dokku: Any,
) -> None:
    minted = http.post("/api/v1/apikeys", headers=admin, json={
        "name": "deployer", "scopes": ["apps.read", "apps.settings.write"], "expires_in_days": 1})
    assert minted.status_code in (200, 201), minted.get_json()
    token = minted.get_json()["token"]
    key = {"Authorization": f"Bearer {token}"}
    with nothing_reaches_dokku():
        refused = http.post(SETTINGS, headers=key, json={
            "kind": "docker-options", "action": "add", "phases": ["deploy"],
            "option": "--privileged"})
    assert refused.status_code == 403, refused.get_json()
    assert http.post(SETTINGS, headers=key, json={
        "kind": "docker-options", "action": "add", "phases": ["deploy"],
        "option": "--restart=always"}).status_code == 200


# --------------------------------------------------------------------------- finding 2
def mount(http: Any, headers: dict[str, str], host_path: str, container: str = "/data") -> Any:
    return http.post("/api/v1/apps/blog/storage", headers=headers, json={
        "action": "mount", "host": host_path, "container": container})


@pytest.mark.parametrize(("host_path", "status", "named"), [
    ("shop-web", 403, "not this app's storage directory"),
    (f"{STORAGE}/shop-web", 403, "not this app's storage directory"),
    (f"{STORAGE}/blog/uploads", 403, "only that directory itself"),
    ("blog/uploads", 403, "only that directory itself"),
    (f"{STORAGE}/blog/../shop-web", 400, "'..'"),
    ("blog/../shop-web", 400, "'..'"),
    ("../../../etc", 400, "'..'"),
    ("/etc", 400, "inside Dokku's storage directory"),
    (f"{STORAGE}/blog//x", 400, "'//'"),
])
def test_a_scoped_user_mounts_only_the_apps_own_storage_directory(
    http: Any, alice: dict[str, str], nothing_reaches_dokku: Any, host_path: str, status: int,
    named: str,
) -> None:
    with nothing_reaches_dokku():
        refused = mount(http, alice, host_path)
    assert refused.status_code == status, refused.get_json()
    assert named in refused.get_json()["error"]


def test_the_apps_own_storage_directory_is_mounted(
    http: Any, alice: dict[str, str], host: Path, pruvon_config: Any, web_app: Any,
) -> None:
    done = mount(http, alice, "blog", "/app/storage")
    assert done.status_code == 200, done.get_json()
    assert {"host": f"{STORAGE}/blog", "container": "/app/storage"} in done.get_json()["mounts"]
    admin_http, admin = signed_in(web_app, pruvon_config, "admin")
    wider = mount(admin_http, admin, "shop-web", "/shared")
    assert wider.status_code == 200, wider.get_json()
    event = [e for e in audit.read(state_dir=pruvon_config.state_dir)
             if e.action == "apps.storage.write"][-1]
    assert event.details["host_access"] is True and "shop-web" in event.details["host"]


def test_a_symlinked_storage_directory_is_refused_for_a_scoped_user(
    http: Any, alice: dict[str, str], host: Path, pruvon_config: Any, tmp_path: Path,
    web_app: Any,
) -> None:
    storage = tmp_path / "storage"
    storage.mkdir()
    (storage / "blog").symlink_to("/")
    alice_only_blog(pruvon_config, storage)
    with NothingReachesDokku(host, web_app):
        refused = mount(http, alice, "blog")
        option = add_option(http, alice, f"-v {storage}/blog:/data")
        inner = mount(http, alice, f"{storage}/blog/etc")
    assert refused.status_code == 403 and "symlink" in refused.get_json()["error"]
    assert option.status_code == 403 and "symlink" in option.get_json()["error"]
    assert inner.status_code == 403
    (storage / "blog").unlink()
    (storage / "blog").mkdir()
    (storage / "blog" / "escape").symlink_to("/")
    with NothingReachesDokku(host, web_app):
        assert mount(http, alice, "blog/escape").status_code == 403
    assert mount(http, alice, "blog").status_code == 200  # the real directory itself
    admin_http, admin = signed_in(web_app, pruvon_config, "admin")
    wider = mount(admin_http, admin, "blog/escape")
    assert wider.status_code == 200, wider.get_json()


# --------------------------------------------------------------------------- finding 5
CONTAINER_PATHS = ["/$(touch {marker})", "/x;id", "/a`id`", "/a b", "/x|id", "/a\nb", "/a'b",
                   '/a"b', "/a&&id", "/x>{marker}"]
UNNORMALISED = ["relative/path", "/", "/a/../b", "/a/./b", "/a//b", "/a/", "/a\\b", "/a~b"]


@pytest.mark.parametrize("template", CONTAINER_PATHS + UNNORMALISED)
@pytest.mark.parametrize("who", ["alice", "admin"])
def test_storage_container_paths_are_absolute_normalised_and_shell_free_for_everyone(
    http: Any, login_as: Any, host: Path, nothing_reaches_dokku: Any, tmp_path: Path,
    template: str, who: str,
) -> None:
    marker = tmp_path / "pwned"
    headers = {"X-CSRF-Token": login_as(who)}
    with nothing_reaches_dokku():
        refused = mount(http, headers, "blog", template.format(marker=marker))
    assert refused.status_code == 400, refused.get_json()
    assert "container path" in refused.get_json()["error"]
    assert not marker.exists()


@pytest.mark.parametrize("template", CONTAINER_PATHS)
@pytest.mark.parametrize("who", ["alice", "admin"])
def test_shell_code_in_a_volume_target_is_refused_for_everyone(
    http: Any, login_as: Any, host: Path, nothing_reaches_dokku: Any, tmp_path: Path,
    template: str, who: str,
) -> None:
    marker = tmp_path / "pwned"
    headers = {"X-CSRF-Token": login_as(who)}
    with nothing_reaches_dokku():
        option = add_option(http, headers, f"-v blog_x:{template.format(marker=marker)}")
    assert option.status_code == 400, option.get_json()
    assert not marker.exists()


@pytest.mark.parametrize("path", UNNORMALISED[:-2])
def test_an_unnormalised_volume_target_is_refused_for_a_scoped_user(
    http: Any, alice: dict[str, str], nothing_reaches_dokku: Any, path: str,
) -> None:
    with nothing_reaches_dokku():
        refused = add_option(http, alice, f"-v blog_x:{path}")
    assert refused.status_code == 403 and "container path" in refused.get_json()["error"]


# --------------------------------------------------------------------------- finding 3
@pytest.mark.parametrize("repo", ["file:///home/dokku/shop-web", "file:///home/dokku/blog",
                                  "file://localhost/home/dokku/shop-web"])
def test_a_scoped_user_cannot_deploy_from_a_file_url(
    http: Any, alice: dict[str, str], nothing_reaches_dokku: Any, pruvon_config: Any, repo: str,
) -> None:
    with nothing_reaches_dokku():
        refused = http.post("/api/v1/apps/blog/deploy-git", headers=alice,
                            json={"git_repo": repo})
    assert refused.status_code == 403, refused.get_json()
    assert "file://" in refused.get_json()["error"]
    assert not list((pruvon_config.state_dir / "operations").glob("*")) if (
        pruvon_config.state_dir / "operations").exists() else True
    assert denied_events(pruvon_config)[-1].action == "apps.deploy"


@pytest.mark.parametrize("repo", [
    "dokku@localhost:shop-web", "dokku@127.0.0.1:shop-web", "git@127.0.0.2:shop-web",
    "ssh://dokku@localhost/shop-web", "ssh://dokku@[::1]:22/shop-web",
    "git://127.0.0.1/shop-web", "https://localhost/shop-web.git",
])
def test_a_scoped_user_cannot_deploy_from_the_dokku_host_itself(
    http: Any, alice: dict[str, str], nothing_reaches_dokku: Any, pruvon_config: Any, repo: str,
) -> None:
    """git:sync runs as the dokku user on the host: ssh back to that host reads any
    app's repository wherever the dokku user's own key is authorised."""
    with nothing_reaches_dokku():
        refused = http.post("/api/v1/apps/blog/deploy-git", headers=alice,
                            json={"git_repo": repo})
    assert refused.status_code == 403, refused.get_json()
    assert "the Dokku host itself" in refused.get_json()["error"]
    assert denied_events(pruvon_config)[-1].action == "apps.deploy"


def test_a_remote_git_source_is_not_host_access() -> None:
    from pruvon_apps import service

    for repo in ("https://github.com/dokku/smoke-test-app.git",
                 "git@github.com:dokku/smoke-test-app.git", "ssh://git@192.0.2.10/x.git"):
        assert service.git_reach(repo) is None, repo


def test_the_create_wizard_applies_the_same_rules(
    http: Any, login_as: Any, host: Path, nothing_reaches_dokku: Any,
) -> None:
    token = login_as("alice")
    with nothing_reaches_dokku():
        by_git = http.post("/apps/create", data={
            "csrf_token": token, "name": "mine", "git_repo": "file:///home/dokku/shop-web"})
        by_mount = http.post("/apps/create", data={
            "csrf_token": token, "name": "mine", "mounts": "shop-web:/data"})
    assert by_git.status_code == 403 and "file://" in by_git.get_data(as_text=True)
    assert by_mount.status_code == 403
    assert "storage directory" in by_mount.get_data(as_text=True)


def test_an_admin_deploys_from_a_file_url_audited_as_host_access(
    http: Any, admin: dict[str, str], host: Path, pruvon_config: Any, tmp_path: Path,
) -> None:
    from pruvon_testing.gitrepo import make_repo

    repo = make_repo(tmp_path / "src")
    started = http.post("/api/v1/apps/empty/deploy-git", headers=admin,
                        json={"git_repo": f"file://{repo}", "git_ref": "main"})
    assert started.status_code == 202, started.get_json()
    op = wait_operation(pruvon_config.state_dir, started.get_json()["id"])
    assert op.status == "succeeded", op.error
    events = [e for e in audit.read(state_dir=pruvon_config.state_dir)
              if e.action == "apps.deploy"]
    assert events and all(e.details.get("host_access") is True for e in events)


# --------------------------------------------------------------------------- CLI
@pytest.fixture
def pruvon(pruvon_config: Any, host: Path) -> Any:
    import sys

    binary = Path(sys.executable).parent / "pruvon"

    def call(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(binary), *args], capture_output=True, text=True,
                              env=dict(os.environ), timeout=120, check=False)

    return call


def test_the_cli_refuses_shell_code_and_audits_host_access(
    pruvon: Any, host: Path, pruvon_config: Any, tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    before = dokku_state(host)
    for args in (("apps", "settings", "blog", "docker-options", "add", "deploy",
                  f"--label=$(touch {marker})"),
                 ("apps", "storage", "blog", "mount", "blog", f"/$(touch {marker})"),
                 ("apps", "storage", "blog", "mount", "blog", "/x;id")):
        result = pruvon(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert dokku_state(host) == before and not marker.exists()
    done = pruvon("apps", "settings", "blog", "docker-options", "add", "deploy", "--privileged")
    assert done.returncode == 0, done.stderr  # the CLI is root's: the system actor
    events = audit.read(state_dir=pruvon_config.state_dir)
    event = [e for e in events if e.action == "apps.settings.write"]
    assert event, [(e.action, e.result) for e in events]
    assert event[-1].details["host_access"] is True and event[-1].details["os_user"]
